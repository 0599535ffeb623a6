using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>The panel's SSH engine against real OpenSSH servers: every key type, passwords, sudo, every failure kind.</summary>
public sealed class SshEngineTests(LabFixture fixture) : IClassFixture<LabFixture>
{
    private readonly Lab.Lab _lab = fixture.Lab;
    private readonly SshNetConnector _ssh = new(NullLogger<SshNetConnector>.Instance);
    private static readonly SshConnectOptions Fast = new() { ConnectTimeout = TimeSpan.FromSeconds(5) };

    private static SshTarget Target(LabNode node, string user, SshCredentials credentials, string? pin = "node") =>
        new(node.Name, node.Address, node.Port, user, credentials, pin == "node" ? node.HostKeyFingerprint : pin);

    private async Task<SshCommandResult> RunAsync(SshTarget target, string command = "id -u", bool asRoot = true)
    {
        await using var session = await _ssh.ConnectAsync(target, Fast, CancellationToken.None);
        return await session.RunAsync(command, new SshRunOptions { AsRoot = asRoot, Timeout = TimeSpan.FromSeconds(20) }, CancellationToken.None);
    }

    [Theory]
    [InlineData("ed25519")]
    [InlineData("ecdsa-pem")]
    [InlineData("rsa-pem")]
    [InlineData("rsa-openssh")]
    [InlineData("ed25519-encrypted")]
    public async Task Connect_EveryKeyType_RunsAsRoot(string kind)
    {
        var key = kind switch
        {
            "ed25519" => _lab.Keys.Ed25519,
            "ecdsa-pem" => _lab.Keys.EcdsaPem,
            "rsa-pem" => _lab.Keys.RsaPem,
            "rsa-openssh" => _lab.Keys.RsaOpenSsh,
            _ => _lab.Keys.Ed25519Encrypted,
        };
        var result = await RunAsync(Target(_lab.Nodes[0], "root", new SshCredentials(key.PrivateKey, key.Passphrase, null, null)));
        Assert.Equal(0, result.ExitStatus);
        Assert.Equal("0", result.Stdout.Trim());
    }

    [Fact]
    public async Task Password_NonRootWithSudoPassword_RunsAsRoot()
    {
        var user = LabUsers.Deploy;
        var result = await RunAsync(Target(_lab.Nodes[0], user, new SshCredentials(null, null, _lab.DeployPassword, _lab.DeployPassword)));
        Assert.Equal("0", result.Stdout.Trim());
    }

    [Fact]
    public async Task Password_NonRootNopasswdSudo_RunsAsRootWithoutSudoPassword()
    {
        var result = await RunAsync(Target(_lab.Nodes[0], LabUsers.DeployNoPasswd, new SshCredentials(null, null, _lab.DeployPassword, null)));
        Assert.Equal("0", result.Stdout.Trim());
    }

    [Fact]
    public async Task Key_NonRoot_WithoutAsRoot_RunsAsThatUser()
    {
        var result = await RunAsync(Target(_lab.Nodes[0], LabUsers.Deploy, new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null)), asRoot: false);
        Assert.NotEqual("0", result.Stdout.Trim());
        Assert.Equal(0, result.ExitStatus);
    }

    [Fact]
    public async Task Password_NonRootNoSudoPassword_IsTheSudoMessage()
    {
        var user = LabUsers.Deploy;
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            RunAsync(Target(_lab.Nodes[0], user, new SshCredentials(null, null, _lab.DeployPassword, null))));
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Contains("asks for a password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Password_WrongSudoPassword_IsTheSudoMessage()
    {
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            RunAsync(Target(_lab.Nodes[0], LabUsers.Deploy, new SshCredentials(null, null, _lab.DeployPassword, "not-the-password"))));
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Contains("wrong", failure.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("not-the-password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task WrongPassword_IsTheAuthenticationMessage()
    {
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            RunAsync(Target(_lab.Nodes[0], LabUsers.Deploy, new SshCredentials(null, null, "wrong-password", null))));
        Assert.Equal(SshFailureKind.AuthenticationFailed, failure.Kind);
        Assert.Contains("rejected the password", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task UnpinnedHost_RefusedBeforeAuthentication_AndProbeReportsTheKey()
    {
        var node = _lab.Nodes[1];
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            RunAsync(Target(node, "root", new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null), pin: null)));
        Assert.Equal(SshFailureKind.HostKeyNotConfirmed, failure.Kind);
        Assert.Equal(node.HostKeyFingerprint, failure.PresentedFingerprint);
        Assert.Equal(node.HostKeyFingerprint, await _ssh.ProbeHostKeyAsync(node.Address, node.Port, TimeSpan.FromSeconds(5), CancellationToken.None));
    }

    [Fact]
    public async Task WrongPin_IsAMismatchNamingBothFingerprints()
    {
        const string other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            RunAsync(Target(_lab.Nodes[0], "root", new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null), pin: other)));
        Assert.Equal(SshFailureKind.HostKeyMismatch, failure.Kind);
        Assert.Contains(other, failure.Message, StringComparison.Ordinal);
        Assert.Contains(_lab.Nodes[0].HostKeyFingerprint, failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task StoppedSshd_IsConnectionRefused()
    {
        var node = _lab.Nodes[1];
        await node.StopSshAsync();
        try
        {
            var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
                RunAsync(Target(node, "root", new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null))));
            Assert.Equal(SshFailureKind.ConnectionRefused, failure.Kind);
            Assert.Contains("refused the connection", failure.Message, StringComparison.Ordinal);
        }
        finally
        {
            await node.StartSshAsync();
        }
    }

    [Fact]
    public async Task SilentPort_IsATimeout()
    {
        // A listener that accepts TCP and never speaks SSH: the connect timeout must fire.
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Parse("127.0.0.1"), 0);
        listener.Start();
        var port = ((System.Net.IPEndPoint)listener.LocalEndpoint).Port;
        try
        {
            var target = new SshTarget("silent", "127.0.0.1", port, "root", new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null), _lab.Nodes[0].HostKeyFingerprint);
            var failure = await Assert.ThrowsAsync<SshFailureException>(async () =>
            {
                await using var _ = await _ssh.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(2) }, CancellationToken.None);
            });
            Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        }
        finally
        {
            listener.Stop();
        }
    }

    [Fact]
    public async Task Output_StreamsLineByLine_InOrder()
    {
        await using var session = await _ssh.ConnectAsync(Target(_lab.Nodes[0], "root", new SshCredentials(_lab.Keys.Ed25519.PrivateKey, null, null, null)), Fast, CancellationToken.None);
        var lines = new List<(OutputStream, string)>();
        var result = await session.RunAsync("for i in 1 2 3; do echo out$i; echo err$i >&2; done; exit 4",
            new SshRunOptions { OnLine = (s, l) => { lock (lines) lines.Add((s, l)); } }, CancellationToken.None);
        Assert.Equal(4, result.ExitStatus);
        Assert.Equal(["out1", "out2", "out3"], lines.Where(l => l.Item1 == OutputStream.Stdout).Select(l => l.Item2));
        Assert.Equal(["err1", "err2", "err3"], lines.Where(l => l.Item1 == OutputStream.Stderr).Select(l => l.Item2));
        Assert.Equal("err3", result.LastMessage());
    }
}

/// <summary>One two-node lab for a whole test class.</summary>
public sealed class LabFixture : IAsyncLifetime
{
    public Lab.Lab Lab { get; private set; } = null!;

    public async Task InitializeAsync() => Lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = 2 });

    public async Task DisposeAsync() => await Lab.DisposeAsync();
}
