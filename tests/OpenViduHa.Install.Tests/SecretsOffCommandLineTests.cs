using System.Net.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// No secret on any command line the panel sends. Every lab node's sshd records each command it receives (a ForceCommand
/// wrapper that writes $SSH_ORIGINAL_COMMAND down, then runs it) and sudo logs what it runs to a file: whatever the
/// panel sends is on record, also the <c>bash -c</c> that lives for milliseconds before it execs, which sampling the
/// process list would miss.
/// </summary>
public sealed class SecretsOffCommandLineTests
{
    [Fact]
    public async Task InstallReinstallDistribute_AsRootAndThroughSudo_NoSecretInAnyCommandOrSudoLog()
    {
        // Arrange: masters as root, as deploy (password, sudo with password) and a media node as deploy-nopasswd.
        await using var lp = await LabPanel.StartAsync(6, recordCommands: true);
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("no-argv", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList());
        UseDeploy(spec.Nodes![1], lp.Lab.DeployPassword, withSudoPassword: true);
        UseDeploy(spec.Nodes[4], lp.Lab.DeployPassword, withSudoPassword: false);
        spec.Nodes[4].Ssh!.Username = LabUsers.DeployNoPasswd;
        var id = await lp.CreateAsync(spec);
        var before = (await lp.Panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(id))!;

        // Act: install, reinstall the master reached through sudo, rotate the Redis password and distribute it.
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var reinstall = await lp.RunJobAsync(id, "reinstall-node", await lp.NodeIdAsync(id, "master-2"));
        Assert.Equal("succeeded", reinstall["state"]!.GetValue<string>());
        spec = lp.Spec("no-argv", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList());
        var stored = await lp.ClusterAsync(id);
        for (var i = 0; i < spec.Nodes!.Count; i++)
        {
            spec.Nodes[i].Id = stored["nodes"]![i]!["id"]!.GetValue<int>();
            spec.Nodes[i].Ssh!.PrivateKey = null; // keep the stored access (deploy's password included)
            spec.Nodes[i].Ssh!.PrivateKeyPassphrase = null;
        }
        spec.Nodes[1].Ssh!.Username = LabUsers.Deploy;
        spec.Nodes[4].Ssh!.Username = LabUsers.DeployNoPasswd;
        spec.Secrets = new() { [SecretCatalog.RedisPassword] = "RotatedRedisPassword0123456789abcdefghijklm" };
        var update = await lp.Api.PutAsJsonAsync($"/api/clusters/{id}", spec, LabPanel.Json);
        Assert.True(update.IsSuccessStatusCode, await update.Content.ReadAsStringAsync());
        var distribute = await lp.RunJobAsync(id, "distribute-credentials");
        Assert.Equal("succeeded", distribute["state"]!.GetValue<string>());
        var after = (await lp.Panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(id))!;

        // Assert: the secrets of before and after, the licence and the deploy password are in no recorded command.
        var secrets = SecretValues(before).Concat(SecretValues(after)).Append(lp.Lab.DeployPassword).Distinct().ToList();
        Assert.Contains("RotatedRedisPassword0123456789abcdefghijklm", secrets);
        foreach (var (node, name) in nodes.Zip(after.Nodes.Select(n => n.Name)))
        {
            var commands = node.RecordedCommands;
            var text = string.Join("\n", commands.Select(c => c.Command));
            foreach (var secret in secrets)
                Assert.False(text.Contains(secret, StringComparison.Ordinal), $"{name}: a secret is on a command line the panel sent.");
            // The record is real: the staged install script was run by its path on this node, and files went over SFTP.
            Assert.Matches($@"bash '\\''{PrivateFiles.Directory}/j\d+-[a-z0-9]{{12}}-install\.sh'\\''", text);
            Assert.Contains(commands, c => c.Command.Contains("sftp-server", StringComparison.Ordinal));
            var sudo = node.SudoLog;
            foreach (var secret in secrets)
                Assert.False(sudo.Contains(secret, StringComparison.Ordinal), $"{name}: a secret is in sudo's log.");
            // Nothing secret is left behind on the node either.
            Assert.Empty(Entries(node, PrivateFiles.Directory));
            Assert.DoesNotContain(Entries(node, "/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
        }
        // Sudo really logged the sudo'ed commands (deploy and deploy-nopasswd), by path only.
        Assert.Contains($"{PrivateFiles.Directory}/j", nodes[1].SudoLog, StringComparison.Ordinal);
        Assert.Contains($"{PrivateFiles.Directory}/j", nodes[4].SudoLog, StringComparison.Ordinal);
        // And the rotated password did reach the nodes, through files.
        Assert.Contains("REDIS_PASSWORD=RotatedRedisPassword0123456789abcdefghijklm", nodes[4].ReadFile("/opt/openvidu/config/node/media_node.env")!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_CancelledWhileTheInstallerRuns_LeavesNoScriptBehind()
    {
        // Arrange
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        foreach (var node in nodes.Take(4)) node.SlowInstaller(TimeSpan.FromSeconds(30));
        var id = await lp.CreateAsync(lp.Spec("cancelled", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        var job = await lp.StartJobOkAsync(id, "install");
        await lp.WaitAsync(job, j => j["nodes"]!.AsArray().Where(n => n!["nodeName"]!.GetValue<string>().StartsWith("master", StringComparison.Ordinal))
            .All(n => n!["message"]?.GetValue<string>() == "Running the installer"));
        await WaitUntilAsync(() => nodes.Take(4).All(n => Entries(n, PrivateFiles.Directory).Count == 1), "every master's script staged");

        // Act
        await lp.Api.PostAsync($"/api/jobs/{job}/cancel", null);
        var ended = await lp.WaitAsync(job);

        // Assert
        Assert.Equal("cancelled", ended["state"]!.GetValue<string>());
        foreach (var node in nodes) Assert.Empty(Entries(node, PrivateFiles.Directory));
    }

    [Fact]
    public async Task NextChangingJob_AfterWhatAnEarlierOneLeft_RemovesTheLeftovers()
    {
        // Arrange: what a panel that died mid-job leaves: a staged script and a login user's upload folder.
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("leftovers", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        nodes[0].WriteFile($"{PrivateFiles.Directory}/j999-abcdefghijkl-install.sh", "secret script\n", UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        nodes[0].WriteFile("/tmp/.ovha-j999-abcdefghijkl/openvidu.env", "REDIS_PASSWORD=x\n", UnixFileMode.UserRead | UnixFileMode.UserWrite);

        // Act: a read-only job leaves them (a changing job of the cluster might be using them); the next changing job does not.
        var preflight = await lp.RunJobAsync(id, "preflight");
        var keptByPreflight = Entries(nodes[0], PrivateFiles.Directory).Count;
        var install = await lp.RunJobAsync(id, "install");

        // Assert
        Assert.Equal(1, keptByPreflight);
        Assert.NotEqual("running", preflight["state"]!.GetValue<string>());
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
        Assert.Empty(Entries(nodes[0], PrivateFiles.Directory));
        Assert.DoesNotContain(".ovha-j999-abcdefghijkl", Entries(nodes[0], "/tmp"));
        Assert.Contains("Removed 2 file(s) an earlier job left", await lp.LogTextAsync(install["id"]!.GetValue<int>()), StringComparison.Ordinal);
    }

    private static void UseDeploy(NodeSpec node, string password, bool withSudoPassword)
    {
        node.Ssh!.Username = LabUsers.Deploy;
        node.Ssh.PrivateKey = null;
        node.Ssh.PrivateKeyPassphrase = null;
        node.Ssh.Password = password;
        node.Ssh.SudoPassword = withSudoPassword ? password : null;
    }

    /// <summary>Every value that must never be on a command line: secrets (not user names) and the licence.</summary>
    private static IEnumerable<string> SecretValues(ClusterDefinition cluster) =>
        cluster.Secrets.Where(s => SecretCatalog.Find(s.Key)?.Kind != SecretKind.Identity).Select(s => s.Value).Append(cluster.LicenseKey);

    private static List<string> Entries(LabNode node, string directory)
    {
        var path = node.HostPath(directory);
        return Directory.Exists(path) ? Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().ToList() : [];
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(60);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not reached: {what}.");
            await Task.Delay(50);
        }
    }
}
