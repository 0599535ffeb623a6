using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace OpenViduHa.Core.Ssh;

/// <summary>SSH.NET behind <see cref="ISshConnector"/>: pinned host keys, timeouts, errors an operator can act on.</summary>
public sealed class SshNetConnector(ILogger<SshNetConnector> logger) : ISshConnector
{
    public async Task<ISshSession> ConnectAsync(SshTarget target, SshConnectOptions options, CancellationToken ct)
    {
        var info = ConnectionInfoFor(target, options.ConnectTimeout);
        KeyExchangePolicy.Apply(info, options.PreferPostQuantum);
        CipherPolicy.Apply(info);
        var client = new SshClient(info) { KeepAliveInterval = options.KeepAlive };
        var check = new HostKeyCheck(target);
        client.HostKeyReceived += check.OnHostKey;
        try
        {
            await ConnectWithTimeoutAsync(client, target, options.ConnectTimeout, check, ct);
            logger.LogDebug("SSH connected to {Target}", target.ToString());
            return new SshNetSession(client, info, target, check.Presented!, logger);
        }
        catch
        {
            client.Dispose();
            throw;
        }
    }

    public async Task<string> ProbeHostKeyAsync(string host, int port, TimeSpan timeout, CancellationToken ct)
    {
        // Authenticate with nothing: the host key arrives during key exchange, before authentication, and the
        // handler refuses to go further, so no credential is ever offered to an unconfirmed host.
        var target = new SshTarget("probe", host, port, "probe", new Nodes.SshCredentials(null, null, "", null), PinnedFingerprint: null);
        var info = new ConnectionInfo(host, port, "probe", new NoneAuthenticationMethod("probe")) { Timeout = timeout };
        KeyExchangePolicy.Apply(info, preferPostQuantum: false);
        using var client = new SshClient(info);
        var check = new HostKeyCheck(target);
        client.HostKeyReceived += check.OnHostKey;
        try
        {
            await ConnectWithTimeoutAsync(client, target, timeout, check, ct);
        }
        catch (SshFailureException e) when (e.Kind == SshFailureKind.HostKeyNotConfirmed)
        {
            return e.PresentedFingerprint!;
        }
        throw new InvalidOperationException("The host accepted a connection without checking its key.");
    }

    private static async Task ConnectWithTimeoutAsync(SshClient client, SshTarget target, TimeSpan timeout, HostKeyCheck check, CancellationToken ct)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(ct);
        deadline.CancelAfter(timeout);
        try
        {
            await ConnectOnOwnThreadAsync(client, deadline.Token);
        }
        catch (Exception) when (check.Failure is not null)
        {
            throw check.Failure;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw SshFailureException.TimedOut(target, timeout, "connecting");
        }
        catch (SshOperationTimeoutException)
        {
            throw SshFailureException.TimedOut(target, timeout, "connecting");
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            throw SshFailureException.Refused(target, e);
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.TimedOut)
        {
            throw SshFailureException.TimedOut(target, timeout, "connecting");
        }
        catch (SocketException e)
        {
            throw SshFailureException.Unreachable(target, e);
        }
        catch (SshAuthenticationException e)
        {
            throw SshFailureException.AuthFailed(target, e);
        }
        catch (SshConnectionException e)
        {
            throw new SshFailureException(SshFailureKind.Disconnected, $"{target.Host}:{target.Port} closed the SSH connection during setup: {e.Message}", e);
        }
    }

    /// <summary>
    /// SSH.NET holds its caller's thread through the key exchange and authentication (<c>Session.WaitOnHandle</c>), in
    /// <c>ConnectAsync</c> as in <c>Connect</c>. On the thread pool a sweep's connects at once starve it, and with it the
    /// panel's own health checks (false red after every start, issue 10). So the blocking <c>Connect</c> runs on a
    /// thread of its own (<see cref="BlockingThreads"/>) and the caller awaits it holding no thread. A cancel or the deadline returns at once; the
    /// caller then disposes the client, which ends the connect still waiting (at the latest after
    /// <see cref="ConnectionInfo.Timeout"/>).
    /// </summary>
    private static Task ConnectOnOwnThreadAsync(SshClient client, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        var connected = BlockingThreads.Shared.Run(client.Connect);
        // A connect given up on (cancel, deadline) still ends, usually failing: observed here, never left unobserved.
        _ = connected.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
        return connected.WaitAsync(ct);
    }

    internal static ConnectionInfo ConnectionInfoFor(SshTarget target, TimeSpan timeout)
    {
        var credentials = target.Credentials;
        AuthenticationMethod[] methods;
        if (credentials.UsesKey)
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(credentials.PrivateKey!));
            var key = string.IsNullOrEmpty(credentials.PrivateKeyPassphrase) ? new PrivateKeyFile(stream) : new PrivateKeyFile(stream, credentials.PrivateKeyPassphrase);
            methods = [new PrivateKeyAuthenticationMethod(target.Username, key)];
        }
        else
        {
            var password = credentials.Password ?? "";
            var interactive = new KeyboardInteractiveAuthenticationMethod(target.Username);
            interactive.AuthenticationPrompt += (_, e) =>
            {
                foreach (var prompt in e.Prompts) prompt.Response = password;
            };
            methods = [new PasswordAuthenticationMethod(target.Username, password), interactive];
        }
        return new ConnectionInfo(target.Host, target.Port, target.Username, methods) { Timeout = timeout };
    }

    /// <summary>Refuses any key that is not the pinned one, and remembers what was presented.</summary>
    internal sealed class HostKeyCheck(SshTarget target)
    {
        public string? Presented { get; private set; }
        public SshFailureException? Failure { get; private set; }

        public void OnHostKey(object? sender, HostKeyEventArgs e)
        {
            Presented = Fingerprints.Normalize("SHA256:" + e.FingerPrintSHA256);
            if (target.PinnedFingerprint is null)
            {
                Failure = SshFailureException.NotConfirmed(target, Presented);
                e.CanTrust = false;
            }
            else if (!Fingerprints.Equal(target.PinnedFingerprint, Presented))
            {
                Failure = SshFailureException.Mismatch(target, Presented);
                e.CanTrust = false;
            }
            else
            {
                e.CanTrust = true;
            }
        }
    }
}

/// <summary>
/// Key exchange order. SHA-1 exchanges are dropped. ML-KEM hybrid stays first (post-quantum and cheap where the server
/// has it, OpenSSH 9.9+), then curve25519. The sntrup761 hybrid that OpenSSH 8.5–9.8 servers prefer costs ~5 times the
/// CPU of curve25519 in SSH.NET (measured: 105 ms against 19 ms per handshake), which a panel opening dozens of
/// connections at once pays on its critical path: it comes last unless post-quantum is preferred.
/// </summary>
public static class KeyExchangePolicy
{
    private static readonly string[] Weak = ["diffie-hellman-group1-sha1", "diffie-hellman-group14-sha1", "diffie-hellman-group-exchange-sha1"];

    public static void Apply(ConnectionInfo info, bool preferPostQuantum)
    {
        foreach (var weak in Weak) info.KeyExchangeAlgorithms.Remove(weak);
        if (preferPostQuantum) return;
        foreach (var name in info.KeyExchangeAlgorithms.Keys.Where(k => k.StartsWith("sntrup761", StringComparison.Ordinal)).ToList())
        {
            var factory = info.KeyExchangeAlgorithms[name];
            info.KeyExchangeAlgorithms.Remove(name);
            info.KeyExchangeAlgorithms.Add(name, factory);
        }
    }
}

/// <summary>
/// Ciphers and MACs. SSH.NET offers aes128-ctr with hmac-sha2-256 (encrypt-and-MAC) first, and the client's order
/// decides. The panel offers the authenticated ciphers first: AES-GCM (OpenSSL through .NET's <c>AesGcm</c>, AES-NI)
/// needs no separate MAC, where SSH.NET's CTR keeps a 4 KB keystream buffer per direction in every connection (~8 MB
/// at 1,000 kept connections) and an HMAC beside it. Then chacha20-poly1305, then CTR with encrypt-then-MAC first.
/// CBC and 3DES are not offered (OpenSSH servers do not offer CBC by default), nor SHA-1 MACs (every OpenSSH since 5.9
/// has SHA-2).
/// </summary>
public static class CipherPolicy
{
    internal static readonly string[] Ciphers =
        ["aes128-gcm@openssh.com", "aes256-gcm@openssh.com", "chacha20-poly1305@openssh.com", "aes128-ctr", "aes192-ctr", "aes256-ctr"];

    internal static readonly string[] Macs =
        ["hmac-sha2-256-etm@openssh.com", "hmac-sha2-512-etm@openssh.com", "hmac-sha2-256", "hmac-sha2-512"];

    public static void Apply(ConnectionInfo info)
    {
        Reorder(info.Encryptions, Ciphers);
        Reorder(info.HmacAlgorithms, Macs);
    }

    /// <summary>Keeps only <paramref name="order"/>'s names the library has, in that order.</summary>
    private static void Reorder<T>(IOrderedDictionary<string, T> algorithms, string[] order)
    {
        var kept = order.Where(algorithms.ContainsKey).Select(name => (name, algorithms[name])).ToList();
        algorithms.Clear();
        foreach (var (name, factory) in kept) algorithms.Add(name, factory);
    }
}

public static class Fingerprints
{
    /// <summary><c>SHA256:</c> and unpadded base64, as ssh-keygen prints it.</summary>
    public static string Normalize(string fingerprint) => fingerprint.Trim().TrimEnd('=');

    public static bool Equal(string a, string b) => string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);
}
