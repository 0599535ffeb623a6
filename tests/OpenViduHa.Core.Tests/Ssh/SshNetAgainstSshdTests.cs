using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>
/// The SSH engine (SSH.NET behind ISshConnector) against one real sshd on loopback, as root with a key: pinning, commands,
/// output, exit status, timeouts, SFTP. Other users, passwords and sudo: SshNetUsersAndSudoTests; every key type: the lab.
/// </summary>
public sealed class SshNetAgainstSshdTests(LocalSshd sshd) : IClassFixture<LocalSshd>
{
    private readonly SshNetConnector _connector = new(NullLogger<SshNetConnector>.Instance);
    private static readonly SshConnectOptions Options = new() { ConnectTimeout = TimeSpan.FromSeconds(20) };

    private SshTarget Target(string? pin = "pinned", string? key = null) =>
        new("master-1", "127.0.0.1", sshd.Port, "root", new SshCredentials(key ?? TestKeys.Ed25519, null, null, null), pin == "pinned" ? sshd.HostKeyFingerprint : pin);

    private Task<ISshSession> ConnectAsync(SshTarget? target = null) => _connector.ConnectAsync(target ?? Target(), Options, CancellationToken.None);

    [Fact]
    public async Task RunAsync_PinnedHost_RunsAsRootWithOutputLinesAndExitStatus()
    {
        // Arrange
        await using var session = await ConnectAsync();
        var lines = new List<(OutputStream, string)>();

        // Act
        var result = await session.RunAsync("id -u; echo 'two words'; echo oops >&2; exit 3", new SshRunOptions
        {
            Description = "a test", OnLine = (stream, line) => { lock (lines) lines.Add((stream, line)); },
        }, CancellationToken.None);

        // Assert
        Assert.Equal(new SshCommandResult(3, "0\ntwo words\n", "oops\n"), result);
        lock (lines) Assert.Equal([(OutputStream.Stdout, "0"), (OutputStream.Stdout, "two words"), (OutputStream.Stderr, "oops")], lines.OrderBy(l => l.Item1).ThenBy(l => l.Item2 == "two words"));
        Assert.True(session.IsConnected);
        Assert.Equal(sshd.HostKeyFingerprint, session.PresentedFingerprint);
        Assert.Equal("master-1", session.Target.NodeName);
    }

    [Fact]
    public async Task RunAsync_StderrLinesOff_StderrReadAtTheEnd_OnlyStdoutLinesLive()
    {
        // Arrange: more stderr than one read, so the end really drains it.
        await using var session = await ConnectAsync();
        var lines = new List<(OutputStream, string)>();

        // Act
        var result = await session.RunAsync("echo first; for i in $(seq 1 2000); do echo \"err $i\" >&2; done; echo last", new SshRunOptions
        {
            Description = "a test", StderrLines = false, OnLine = (stream, line) => { lock (lines) lines.Add((stream, line)); },
        }, CancellationToken.None);

        // Assert
        Assert.Equal("first\nlast\n", result.Stdout);
        Assert.Equal(string.Concat(Enumerable.Range(1, 2000).Select(i => $"err {i}\n")), result.Stderr);
        lock (lines) Assert.Equal([(OutputStream.Stdout, "first"), (OutputStream.Stdout, "last")], lines);
    }

    [Fact]
    public async Task RunAsync_BashSyntax_RunsUnderBash()
    {
        // Arrange: process substitution, which sh does not have (the installer needs it).
        await using var session = await ConnectAsync();

        // Act
        var result = await session.RunAsync("cat <(printf '%s' \"$BASH_VERSION\" | cut -c1)", new SshRunOptions(), CancellationToken.None);

        // Assert
        Assert.Equal(0, result.ExitStatus);
        Assert.Matches("^[0-9]$", result.Stdout.Trim());
    }

    [Fact]
    public async Task RunAsync_LongerThanItsTimeout_TimesOutNamingTheStep()
    {
        // Arrange
        await using var session = await ConnectAsync();

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            session.RunAsync("sleep 30", new SshRunOptions { Description = "a slow step", Timeout = TimeSpan.FromMilliseconds(400) }, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        Assert.Equal($"127.0.0.1:{sshd.Port}: a slow step timed out after 0 s: the node is down, or a firewall drops SSH.", failure.Message);
    }

    [Fact]
    public async Task RunAsync_CallerCancels_IsACancelNotATimeout()
    {
        // Arrange
        await using var session = await ConnectAsync();
        using var cancel = new CancellationTokenSource();

        // Act
        var running = session.RunAsync("sleep 30", new SshRunOptions { Timeout = TimeSpan.FromSeconds(60) }, cancel.Token);
        cancel.Cancel();
        var thrown = await Record.ExceptionAsync(() => running);

        // Assert
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
    }

    [Fact]
    public async Task UploadAndDownload_File_RoundTripsOverSftp()
    {
        // Arrange
        await using var session = await ConnectAsync();
        var content = Encoding.UTF8.GetBytes("line one\nsecond line é\n");
        var path = $"/tmp/ovha-sftp-{Guid.NewGuid():N}";

        // Act
        await session.UploadAsync(path, content, CancellationToken.None);
        var read = await session.DownloadAsync(path, CancellationToken.None);
        var again = await session.DownloadAsync(path, CancellationToken.None);

        // Assert
        Assert.Equal(content, read);
        Assert.Equal(content, again);
        Assert.Equal("line one", (await session.RunAsync($"head -n 1 {path}", new SshRunOptions(), CancellationToken.None)).Stdout.Trim());
    }

    [Fact]
    public async Task DownloadAsync_NoSuchFile_Null()
    {
        // Arrange
        await using var session = await ConnectAsync();

        // Act
        var read = await session.DownloadAsync("/tmp/no-such-file", CancellationToken.None);

        // Assert
        Assert.Null(read);
    }

    [Fact]
    public async Task UploadAsync_NoSuchFolder_FailsWithSftpInTheMessage()
    {
        // Arrange
        await using var session = await ConnectAsync();

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => session.UploadAsync("/tmp/no/such/folder/x", [1], CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.Disconnected, failure.Kind);
        Assert.StartsWith($"SFTP to 127.0.0.1:{sshd.Port} failed (", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_NothingPinned_RefusedWithThePresentedKey()
    {
        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => ConnectAsync(Target(pin: null)));

        // Assert
        Assert.Equal(SshFailureKind.HostKeyNotConfirmed, failure.Kind);
        Assert.Equal(sshd.HostKeyFingerprint, failure.PresentedFingerprint);
    }

    [Fact]
    public async Task ConnectAsync_OtherKeyPinned_RefusedAsMismatch()
    {
        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => ConnectAsync(Target(pin: "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0")));

        // Assert
        Assert.Equal(SshFailureKind.HostKeyMismatch, failure.Kind);
        Assert.Equal(sshd.HostKeyFingerprint, failure.PresentedFingerprint);
    }

    [Fact]
    public async Task ConnectAsync_KeyNotAuthorized_AuthenticationFailed()
    {
        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => ConnectAsync(Target(key: TestKeys.EcdsaPem)));

        // Assert
        Assert.Equal(SshFailureKind.AuthenticationFailed, failure.Kind);
        Assert.StartsWith($"root@127.0.0.1:{sshd.Port} rejected the private key", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_PostQuantumPreferred_AgreesOnSntrup761AndConnects()
    {
        // Act
        await using var session = await _connector.ConnectAsync(Target(), Options with { PreferPostQuantum = true }, CancellationToken.None);

        // Assert
        Assert.Equal("0", (await session.RunAsync("id -u", new SshRunOptions(), CancellationToken.None)).Stdout.Trim());
        Assert.StartsWith("sntrup761", ((SshNetSession)session).KeyExchange, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_Default_Curve25519AndTheKeepAliveAsked()
    {
        // Act: sshd offers sntrup761 first; the panel only takes it when asked (it costs CPU at scale).
        await using var session = await _connector.ConnectAsync(Target(), Options with { KeepAlive = TimeSpan.FromSeconds(7) }, CancellationToken.None);

        // Assert
        Assert.StartsWith("curve25519-sha256", ((SshNetSession)session).KeyExchange, StringComparison.Ordinal);
        Assert.Equal(TimeSpan.FromSeconds(7), ((SshNetSession)session).KeepAliveInterval);
    }

    [Fact]
    public async Task ConnectAsync_Default_AesGcmBothWays()
    {
        // Act: sshd's own order starts with chacha20-poly1305 and then CTR; the client's order decides.
        await using var session = await _connector.ConnectAsync(Target(), Options, CancellationToken.None);

        // Assert
        Assert.Equal(("aes128-gcm@openssh.com", "aes128-gcm@openssh.com"), ((SshNetSession)session).Ciphers);
        Assert.Equal("0", (await session.RunAsync("id -u", new SshRunOptions(), CancellationToken.None)).Stdout.Trim());
    }

    [Fact]
    public async Task UploadAndDownload_Several_OneSftpConnectionPerSession()
    {
        // Arrange
        await using var node = await LocalNode.StartAsync(new NodeDefinition("media-1", NodeRole.Media, "10.5.0.11", null));
        var target = new SshTarget("media-1", "127.0.0.1", node.Port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), node.HostKeyFingerprint);
        await using var session = await _connector.ConnectAsync(target, Options, CancellationToken.None);

        // Act
        await session.UploadAsync("/tmp/a", [1], CancellationToken.None);
        await session.UploadAsync("/tmp/b", [2], CancellationToken.None);
        var read = await session.DownloadAsync("/tmp/a", CancellationToken.None);

        // Assert
        Assert.Equal([1], read);
        Assert.Equal(1, node.SftpSessions);
    }

    [Fact]
    public async Task ProbeHostKeyAsync_Server_ItsFingerprintWithoutAuthenticating()
    {
        // Act
        var fingerprint = await _connector.ProbeHostKeyAsync("127.0.0.1", sshd.Port, TimeSpan.FromSeconds(20), CancellationToken.None);

        // Assert
        Assert.Equal(sshd.HostKeyFingerprint, fingerprint);
    }

    [Fact]
    public async Task ConnectAsync_PassphraseProtectedKey_Connects()
    {
        // Arrange
        var target = Target() with { Credentials = new SshCredentials(TestKeys.Ed25519Encrypted, TestKeys.Passphrase, null, null) };

        // Act
        await using var session = await ConnectAsync(target);

        // Assert
        Assert.Equal("root", (await session.RunAsync("id -un", new SshRunOptions(), CancellationToken.None)).Stdout.Trim());
    }

    [Fact]
    public async Task ConnectAndRun_PanelLog_NamesTheTargetAndTheStepNotTheCommand()
    {
        // Arrange
        var logger = new ListLogger<SshNetConnector>();
        var connector = new SshNetConnector(logger);
        await using var session = await connector.ConnectAsync(Target(), Options, CancellationToken.None);

        // Act
        await session.RunAsync("echo described", new SshRunOptions { Description = "the described step" }, CancellationToken.None);
        await session.RunAsync("echo undescribed", new SshRunOptions(), CancellationToken.None);

        // Assert
        var target = $"master-1 (root@127.0.0.1:{sshd.Port})";
        Assert.Equal([(LogLevel.Debug, $"SSH connected to {target}"), (LogLevel.Debug, $"SSH {target}: the described step"), (LogLevel.Debug, $"SSH {target}: echo undescribed")],
            logger.Entries);
    }

    [Fact]
    public async Task UploadAsync_HostKeyChangedSinceTheCommandConnection_RefusedNothingWritten()
    {
        // Arrange: SFTP is a second connection, a second chance to be intercepted; it must present the same key.
        await using var node = await LocalNode.StartAsync(new NodeDefinition("media-1", NodeRole.Media, "10.5.0.11", null));
        var target = new SshTarget("media-1", "127.0.0.1", node.Port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), node.HostKeyFingerprint);
        await using var session = await _connector.ConnectAsync(target, Options, CancellationToken.None);
        await node.ChangeHostKeyAsync();

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => session.UploadAsync("/tmp/upload", [1, 2, 3], CancellationToken.None));

        // Assert
        Assert.StartsWith($"SFTP to 127.0.0.1:{node.Port} failed (", failure.Message, StringComparison.Ordinal);
        Assert.False(node.Exists("/tmp/upload"));
    }

    [Fact]
    public async Task RunAsync_ConnectionDropsMidCommand_DisconnectedNamingTheStep()
    {
        // Arrange
        await using var node = await LocalNode.StartAsync(new NodeDefinition("media-1", NodeRole.Media, "10.5.0.11", null));
        var target = new SshTarget("media-1", "127.0.0.1", node.Port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), node.HostKeyFingerprint);
        await using var session = await _connector.ConnectAsync(target, Options, CancellationToken.None);
        var running = session.RunAsync("echo started; sleep 30", new SshRunOptions { Description = "a long step", Timeout = TimeSpan.FromSeconds(60),
            OnLine = (_, line) => { if (line == "started") node.RefuseConnections(); } }, CancellationToken.None);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => running);

        // Assert
        Assert.Equal(SshFailureKind.Disconnected, failure.Kind);
        Assert.Equal($"The SSH connection to 127.0.0.1:{node.Port} dropped while a long step.", failure.Message);
    }
}
