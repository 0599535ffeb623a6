using System.Diagnostics;
using OpenViduHa.Lab.Tests.Support;
using Renci.SshNet.Common;

namespace OpenViduHa.Lab.Tests;

/// <summary>Who gets in, how, and what a session looks like: real sshd, SSH.NET with the host key pinned, and the real ssh client.</summary>
public sealed class SshAccessTests(TwoNodeLab fixture) : IClassFixture<TwoNodeLab>
{
    private Lab Lab => fixture.Lab;
    private LabNode Node => Lab.Nodes[0];

    public static TheoryData<string> AuthorizedKeys => ["ed25519", "ecdsa-pem", "rsa-pem", "rsa-openssh", "ed25519-encrypted"];

    [Theory]
    [MemberData(nameof(AuthorizedKeys))]
    public async Task Root_EachKeyType_LogsIn(string keyName)
    {
        var key = Lab.Keys.Authorized.Single(k => k.Name == keyName);

        using var client = await Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.Root, key));
        var result = await client.RunAsync("id -u; hostname");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"0\n{Node.Name}\n", result.Output);
    }

    [Fact]
    public async Task Root_Password_IsRefused()
    {
        await Assert.ThrowsAsync<SshAuthenticationException>(() => Ssh.ConnectAsync(Node, Ssh.Password(LabUsers.Root, Lab.DeployPassword)));
    }

    [Fact]
    public async Task Root_UnauthorizedKey_IsRefused()
    {
        await Assert.ThrowsAsync<SshAuthenticationException>(() => Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.Root, Lab.Keys.Unauthorized)));
    }

    [Theory]
    [InlineData(LabUsers.Deploy)]
    [InlineData(LabUsers.DeployNoPasswd)]
    public async Task NonRoot_PasswordAndKey_LogIn(string user)
    {
        using var byPassword = await Ssh.ConnectAsync(Node, Ssh.Password(user, Lab.DeployPassword));
        using var byKey = await Ssh.ConnectAsync(Node, Ssh.Key(user, Lab.Keys.RsaPem));

        Assert.Equal($"{user} /home/{user}\n", (await byPassword.RunAsync("echo $(id -un) $HOME")).Output);
        Assert.Equal($"{user}\n", (await byKey.RunAsync("id -un")).Output);
    }

    [Fact]
    public async Task Deploy_WrongPassword_IsRefused()
    {
        await Assert.ThrowsAsync<SshAuthenticationException>(() => Ssh.ConnectAsync(Node, Ssh.Password(LabUsers.Deploy, "not-the-password")));
    }

    [Fact]
    public async Task Deploy_SudoWithPasswordOnStdin_RunsAsRoot()
    {
        using var client = await Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var result = await client.RunAsync("sudo -S -p '' id -u", input: Lab.DeployPassword + "\n");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0\n", result.Output);
    }

    [Fact]
    public async Task Deploy_SudoWithoutPassword_IsRefused()
    {
        using var client = await Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var noPassword = await client.RunAsync("sudo -n id -u");
        var wrongPassword = await client.RunAsync("sudo -S -p '' id -u", input: "wrong\n");

        Assert.Equal(1, noPassword.ExitCode);
        Assert.Contains("a password is required", noPassword.Error);
        Assert.Equal(1, wrongPassword.ExitCode);
        Assert.Contains("incorrect password", wrongPassword.Error);
    }

    [Fact]
    public async Task DeployNoPasswd_SudoWithoutPassword_RunsAsRoot()
    {
        using var client = await Ssh.ConnectAsync(Node, Ssh.Password(LabUsers.DeployNoPasswd, Lab.DeployPassword));

        var result = await client.RunAsync("sudo -n id -u");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("0\n", result.Output);
    }

    [Theory]
    [InlineData(LabUsers.Root, "sh -c")]
    [InlineData(LabUsers.Deploy, "sh -c")]
    [InlineData(LabUsers.DeployNoPasswd, "sudo -n sh -c")]
    public async Task Session_MachineStartupFiles_AreNotRun_StandInsComeFirst(string user, string wrapper)
    {
        using var client = await Ssh.ConnectAsync(Node, Ssh.Key(user, Lab.Keys.Ed25519));

        var result = await client.RunAsync(wrapper + " 'echo \"pyenv=[$PYENV_ROOT]\"; for c in systemctl docker journalctl curl; do command -v $c; done'; " +
                                           "echo \"login-pyenv=[$PYENV_ROOT]\"; bash -lc 'echo \"login-shell-pyenv=[$PYENV_ROOT]\"'");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal("pyenv=[]\n/usr/local/bin/systemctl\n/usr/local/bin/docker\n/usr/local/bin/journalctl\n/usr/bin/curl\n" +
                     "login-pyenv=[]\nlogin-shell-pyenv=[]\n", result.Output);
        Assert.Equal("", result.Error);
    }

    [Fact]
    public async Task RecordCommandsOff_NothingIsRecorded_NoForceCommand_InternalSftp()
    {
        using var client = await Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.DeployNoPasswd, Lab.Keys.Ed25519));

        var result = await client.RunAsync("sudo -n id -u; echo \"[${SSH_ORIGINAL_COMMAND-unset}]\"");

        Assert.Equal("0\n[unset]\n", result.Output);
        Assert.Empty(Node.RecordedCommands);
        Assert.Equal("", Node.SudoLog);
        var config = Node.ReadFile("/etc/ssh/sshd_config")!;
        Assert.DoesNotContain("ForceCommand", config);
        Assert.Contains("\nSubsystem sftp internal-sftp\n", config);
        Assert.Null(Node.ReadFile(NodeImage.RecorderPath));
        Assert.DoesNotContain("logfile", Node.ReadFile("/etc/sudoers"));
    }

    [Fact]
    public async Task HostKey_PinnedToAnotherNode_IsRejected()
    {
        var other = Lab.Nodes[1];

        await Assert.ThrowsAsync<SshConnectionException>(() =>
            Ssh.ConnectAsync(Node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519), pinnedFingerprint: other.HostKeyFingerprint));
    }

    [Fact]
    public async Task HostKeyFingerprint_IsWhatSshKeygenPrints()
    {
        var result = await Ssh.RootAsync(Node, Lab.Keys, "ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub");

        Assert.Equal(Node.HostKeyFingerprint, result.Output.Split(' ')[1]);
    }

    [Fact]
    public async Task RealSshClient_WithKnownHosts_ConnectsToEveryNode()
    {
        foreach (var node in Lab.Nodes)
        {
            var psi = new ProcessStartInfo("/usr/bin/ssh") { RedirectStandardOutput = true, RedirectStandardError = true };
            foreach (var arg in new[]
                     {
                         "-F", "/dev/null", "-i", Lab.Keys.EcdsaPem.Path, "-o", "IdentitiesOnly=yes", "-o", "BatchMode=yes",
                         "-o", "StrictHostKeyChecking=yes", "-o", "UserKnownHostsFile=" + Lab.KnownHostsPath, "-o", "ConnectTimeout=10",
                         $"root@{node.Address}", "hostname",
                     })
                psi.ArgumentList.Add(arg);
            using var ssh = Process.Start(psi)!;
            var output = await ssh.StandardOutput.ReadToEndAsync();
            var error = await ssh.StandardError.ReadToEndAsync();
            await ssh.WaitForExitAsync();

            Assert.True(ssh.ExitCode == 0, error);
            Assert.Equal(node.Name + "\n", output);
        }
    }

    [Fact]
    public async Task ManyParallelConnections_AllSucceed()
    {
        var results = await Task.WhenAll(Enumerable.Range(0, 24).Select(async i =>
        {
            using var client = await Ssh.ConnectAsync(Lab.Nodes[i % 2], Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));
            return await client.RunAsync("echo " + i);
        }));

        Assert.All(results, r => Assert.Equal(0, r.ExitCode));
    }
}
