using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;
using Renci.SshNet;
using Renci.SshNet.Common;
using Renci.SshNet.Security;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>
/// The parts of the SSH engine that need no SSH server: the host key decision, the authentication methods, the key
/// exchange order, and how failures to reach a server are named (real sockets on loopback). Everything that needs a
/// real sshd is in OpenViduHa.Install.Tests (the lab).
/// </summary>
public sealed class SshNetConnectorTests
{
    private readonly SshNetConnector _connector = new(NullLogger<SshNetConnector>.Instance);

    private static SshTarget Target(string? pin, string host = "127.0.0.1", int port = 22) =>
        new("master-1", host, port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), pin);

    /// <summary>A host key event as SSH.NET raises it for the server's key (here: the ed25519 test key).</summary>
    private static HostKeyEventArgs HostKeyEvent(string privateKey)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(privateKey));
        var file = new PrivateKeyFile(stream);
        return new HostKeyEventArgs(file.HostKeyAlgorithms.OfType<KeyHostAlgorithm>().First());
    }

    /// <summary>The fingerprint as OpenSSH's ssh-keygen prints it: the independent oracle.</summary>
    private static async Task<string> SshKeygenFingerprintAsync(string privateKey)
    {
        using var dir = new TempDirectory();
        var file = dir.Write("key", privateKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var result = await ProcessRunner.RunAsync("ssh-keygen", ["-l", "-E", "sha256", "-f", file]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.StdOut.Split(' ')[1];
    }

    [Fact]
    public async Task OnHostKey_NothingPinned_RefusesAndRecordsWhatWasPresented()
    {
        // Arrange
        var check = new SshNetConnector.HostKeyCheck(Target(pin: null));
        var e = HostKeyEvent(TestKeys.Ed25519);
        var expected = await SshKeygenFingerprintAsync(TestKeys.Ed25519);

        // Act
        check.OnHostKey(this, e);

        // Assert
        Assert.False(e.CanTrust);
        Assert.Equal(expected, check.Presented);
        Assert.Equal(SshFailureKind.HostKeyNotConfirmed, check.Failure!.Kind);
        Assert.Equal(expected, check.Failure.PresentedFingerprint);
    }

    [Fact]
    public async Task OnHostKey_PinnedKey_Trusts()
    {
        // Arrange
        var pin = await SshKeygenFingerprintAsync(TestKeys.Ed25519);
        var check = new SshNetConnector.HostKeyCheck(Target(pin));
        var e = HostKeyEvent(TestKeys.Ed25519);

        // Act
        check.OnHostKey(this, e);

        // Assert
        Assert.True(e.CanTrust);
        Assert.Null(check.Failure);
        Assert.Equal(pin, check.Presented);
    }

    [Fact]
    public async Task OnHostKey_PinWithBase64Padding_StillTrusts()
    {
        // Arrange: some tools print the fingerprint with its '=' padding.
        var pin = await SshKeygenFingerprintAsync(TestKeys.Ed25519) + "=";
        var check = new SshNetConnector.HostKeyCheck(Target(pin));
        var e = HostKeyEvent(TestKeys.Ed25519);

        // Act
        check.OnHostKey(this, e);

        // Assert
        Assert.True(e.CanTrust);
        Assert.Null(check.Failure);
    }

    [Fact]
    public async Task OnHostKey_OtherKeyThanPinned_RefusesAsMismatch()
    {
        // Arrange
        var pin = await SshKeygenFingerprintAsync(TestKeys.Ed25519);
        var check = new SshNetConnector.HostKeyCheck(Target(pin));
        var e = HostKeyEvent(TestKeys.EcdsaPem);

        // Act
        check.OnHostKey(this, e);

        // Assert
        Assert.False(e.CanTrust);
        Assert.Equal(SshFailureKind.HostKeyMismatch, check.Failure!.Kind);
        Assert.Contains($"expected {pin}", check.Failure.Message, StringComparison.Ordinal);
        Assert.Equal(await SshKeygenFingerprintAsync(TestKeys.EcdsaPem), check.Failure.PresentedFingerprint);
    }

    [Theory]
    [InlineData("SHA256:abc=", "SHA256:abc")]
    [InlineData("  SHA256:abc  ", "SHA256:abc")]
    [InlineData("SHA256:abc", "SHA256:abc")]
    public void Normalize_Fingerprint_DropsPaddingAndSpaces(string fingerprint, string expected)
    {
        // Act
        var normalized = Fingerprints.Normalize(fingerprint);

        // Assert
        Assert.Equal(expected, normalized);
    }

    [Theory]
    [InlineData("SHA256:abc", "SHA256:abc=", true)]
    [InlineData("SHA256:abc", "SHA256:abd", false)]
    [InlineData("SHA256:abc", "SHA256:ABC", false)]
    public void Equal_TwoFingerprints_ComparesNormalizedAndCaseSensitive(string a, string b, bool expected)
    {
        // Act
        var equal = Fingerprints.Equal(a, b);

        // Assert
        Assert.Equal(expected, equal);
    }

    [Fact]
    public void ConnectionInfoFor_Key_OffersThatKeyOnly()
    {
        // Arrange
        var target = Target("SHA256:x", host: "10.5.0.1", port: 2222);

        // Act
        var info = SshNetConnector.ConnectionInfoFor(target, TimeSpan.FromSeconds(7));

        // Assert
        Assert.Equal("10.5.0.1", info.Host);
        Assert.Equal(2222, info.Port);
        Assert.Equal("root", info.Username);
        Assert.Equal(TimeSpan.FromSeconds(7), info.Timeout);
        var method = Assert.Single(info.AuthenticationMethods);
        Assert.IsType<PrivateKeyAuthenticationMethod>(method);
        Assert.Equal("root", method.Username);
    }

    [Fact]
    public void ConnectionInfoFor_EncryptedKeyWithPassphrase_OpensTheKey()
    {
        // Arrange
        var target = Target("SHA256:x") with { Credentials = new SshCredentials(TestKeys.RsaPemEncrypted, TestKeys.Passphrase, null, null) };

        // Act
        var info = SshNetConnector.ConnectionInfoFor(target, TimeSpan.FromSeconds(5));

        // Assert
        var method = Assert.IsType<PrivateKeyAuthenticationMethod>(Assert.Single(info.AuthenticationMethods));
        Assert.Single(method.KeyFiles);
    }

    [Fact]
    public void ConnectionInfoFor_Password_OffersPasswordThenKeyboardInteractive()
    {
        // Arrange
        var target = Target("SHA256:x") with { Username = "deploy", Credentials = new SshCredentials(null, null, "pw", null) };

        // Act
        var info = SshNetConnector.ConnectionInfoFor(target, TimeSpan.FromSeconds(5));

        // Assert
        Assert.Collection(info.AuthenticationMethods,
            m => Assert.IsType<PasswordAuthenticationMethod>(m),
            m => Assert.IsType<KeyboardInteractiveAuthenticationMethod>(m));
        Assert.All(info.AuthenticationMethods, m => Assert.Equal("deploy", m.Username));
    }

    [Fact]
    public void Apply_Default_DropsSha1ExchangesAndPutsSntrupLast()
    {
        // Arrange
        var info = new ConnectionInfo("10.5.0.1", "root", new PasswordAuthenticationMethod("root", "pw"));
        var before = info.KeyExchangeAlgorithms.Keys.ToList();

        // Act
        KeyExchangePolicy.Apply(info, preferPostQuantum: false);

        // Assert
        var after = info.KeyExchangeAlgorithms.Keys.ToList();
        Assert.DoesNotContain(after, k => k.EndsWith("-sha1", StringComparison.Ordinal));
        var sntrup = before.Where(k => k.StartsWith("sntrup761", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(sntrup);
        Assert.Equal(sntrup, after.TakeLast(sntrup.Count));
        Assert.Equal(before.Where(k => !k.EndsWith("-sha1", StringComparison.Ordinal) && !sntrup.Contains(k)), after.SkipLast(sntrup.Count));
    }

    [Fact]
    public void CipherPolicy_AuthenticatedCiphersFirst_NoCbcNoSha1Macs()
    {
        // Arrange: the library's own order starts with aes128-ctr and hmac-sha2-256.
        var info = new ConnectionInfo("10.5.0.1", "root", new PasswordAuthenticationMethod("root", "pw"));
        Assert.Equal("aes128-ctr", info.Encryptions.Keys.First());

        // Act
        CipherPolicy.Apply(info);

        // Assert
        Assert.Equal(["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"], info.Encryptions.Keys);
        Assert.Equal(["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512"], info.HmacAlgorithms.Keys);
    }

    [Fact]
    public void Apply_PreferPostQuantum_DropsSha1ButKeepsTheOrder()
    {
        // Arrange
        var info = new ConnectionInfo("10.5.0.1", "root", new PasswordAuthenticationMethod("root", "pw"));
        var before = info.KeyExchangeAlgorithms.Keys.ToList();

        // Act
        KeyExchangePolicy.Apply(info, preferPostQuantum: true);

        // Assert
        Assert.Contains(before, k => k.EndsWith("-sha1", StringComparison.Ordinal));
        Assert.Equal(before.Where(k => !k.EndsWith("-sha1", StringComparison.Ordinal)), info.KeyExchangeAlgorithms.Keys);
    }

    [Fact]
    public async Task ConnectAsync_ClosedPort_IsRefused()
    {
        // Arrange: a port nothing listens on.
        var target = Target("SHA256:x", port: FreePort.Get());

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            _connector.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.ConnectionRefused, failure.Kind);
    }

    [Fact]
    public async Task ConnectAsync_NameThatDoesNotResolve_IsUnreachable()
    {
        // Arrange: .invalid never resolves (RFC 6761).
        var target = Target("SHA256:x", host: "no-such-node.invalid");

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            _connector.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.Unreachable, failure.Kind);
        Assert.StartsWith("no-such-node.invalid:22 cannot be reached (", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_ServerThatIsNotSsh_IsDisconnectedDuringSetup()
    {
        // Arrange: a real TCP server on loopback that answers like a web server (an operator gave port 80) and hangs up.
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var server = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await client.GetStream().WriteAsync("HTTP/1.1 400 Bad Request\r\n\r\n"u8.ToArray());
        });
        var target = Target("SHA256:x", port: port);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            _connector.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }, CancellationToken.None));
        await server;

        // Assert
        Assert.Equal(SshFailureKind.Disconnected, failure.Kind);
        Assert.StartsWith($"127.0.0.1:{port} closed the SSH connection during setup: ", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ConnectAsync_ServerThatNeverSpeaks_TimesOut()
    {
        // Arrange: a real listener that accepts and never sends a banner (a half-dead sshd).
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var port = ((IPEndPoint)listener.LocalEndpoint).Port;
        var target = Target("SHA256:x", port: port);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            _connector.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromMilliseconds(300) }, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        Assert.Equal($"127.0.0.1:{port}: connecting timed out after 0 s: the node is down, or a firewall drops SSH.", failure.Message);
    }

    [Fact]
    public async Task ConnectAsync_CancelledByCaller_IsACancelNotATimeout()
    {
        // Arrange
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var target = Target("SHA256:x", port: ((IPEndPoint)listener.LocalEndpoint).Port);
        using var cancel = new CancellationTokenSource();
        cancel.Cancel();

        // Act
        var thrown = await Record.ExceptionAsync(() =>
            _connector.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(30) }, cancel.Token));

        // Assert
        Assert.IsAssignableFrom<OperationCanceledException>(thrown);
    }

    [Fact]
    public async Task ProbeHostKeyAsync_ClosedPort_IsRefused()
    {
        // Arrange
        var port = FreePort.Get();

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            _connector.ProbeHostKeyAsync("127.0.0.1", port, TimeSpan.FromSeconds(10), CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.ConnectionRefused, failure.Kind);
    }
}
