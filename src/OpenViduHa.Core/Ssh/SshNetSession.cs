using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.Logging;
using Renci.SshNet;
using Renci.SshNet.Common;
using OpenViduHa.Core.Artifacts;

namespace OpenViduHa.Core.Ssh;

internal sealed class SshNetSession(SshClient client, ConnectionInfo info, SshTarget target, string presented, ILogger logger) : ISshSession
{
    private SftpClient? _sftp;
    private readonly SemaphoreSlim _sftpLock = new(1, 1);
    private readonly SemaphoreSlim _keptLock = new(1, 1);
    private KeptShell? _kept;
    private bool _keptRefused;

    public SshTarget Target => target;
    public string PresentedFingerprint => presented;
    public bool IsConnected => client.IsConnected;

    /// <summary>The key exchange the server and the panel agreed on, e.g. <c>curve25519-sha256</c>.</summary>
    internal string KeyExchange => info.CurrentKeyExchangeAlgorithm ?? "";

    /// <summary>The ciphers agreed on, client to server and back, e.g. <c>aes128-gcm@openssh.com</c>.</summary>
    internal (string ToServer, string FromServer) Ciphers => (info.CurrentClientEncryption ?? "", info.CurrentServerEncryption ?? "");

    internal TimeSpan KeepAliveInterval => client.KeepAliveInterval;

    public async Task<SshCommandResult> RunAsync(string command, SshRunOptions options, CancellationToken ct)
    {
        var (wrapped, stdin) = Wrap(command, options.AsRoot);
        logger.LogDebug("SSH {Target}: {Command}", target.ToString(), options.Description ?? command);

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(options.Timeout);
        using var cmd = client.CreateCommand(wrapped);
        var stdout = new StringBuilder();
        var stderr = new StringBuilder();
        try
        {
            // ExecuteAsync can hold its caller through the channel open and the exec request, deaf to the token (only the
            // connection's timeout ends that wait): on a node that hangs after connecting, a sweep's probes would wait
            // there holding threads. It starts on a thread of its own, and the step's timeout bounds the wait.
            var starting = BlockingThreads.Shared.Run(() => cmd.ExecuteAsync(timeout.Token));
            _ = starting.ContinueWith(t => _ = t.Exception, CancellationToken.None, TaskContinuationOptions.OnlyOnFaulted | TaskContinuationOptions.ExecuteSynchronously, TaskScheduler.Default);
            var execution = await starting.WaitAsync(timeout.Token);
            if (stdin is not null)
            {
                await using var input = cmd.CreateInputStream();
                await input.WriteAsync(Encoding.UTF8.GetBytes(stdin + "\n"), timeout.Token);
            }
            var readOut = Pump(cmd.OutputStream, OutputStream.Stdout, stdout, options.OnLine);
            var readErr = options.StderrLines ? Pump(cmd.ExtendedOutputStream, OutputStream.Stderr, stderr, options.OnLine) : null;
            await execution;
            await readOut;
            // Stdout has ended: SSH.NET closed it as the command ended, and stderr in the same breath, so reading the
            // rest of stderr here does not wait.
            if (readErr is null) Drain(cmd.ExtendedOutputStream, stderr);
            else await readErr;
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            throw SshFailureException.TimedOut(target, options.Timeout, options.Description ?? "the command");
        }
        catch (SshConnectionException e)
        {
            throw new SshFailureException(SshFailureKind.Disconnected, $"The SSH connection to {target.Host}:{target.Port} dropped while {options.Description ?? "running a command"}.", e);
        }
        catch (SshOperationTimeoutException)
        {
            // The node took the connection's own timeout to open a channel: it is alive at the TCP level only.
            throw SshFailureException.TimedOut(target, info.Timeout, $"opening a channel for {options.Description ?? "the command"}");
        }

        var result = new SshCommandResult(cmd.ExitStatus ?? -1, stdout.ToString(), stderr.ToString());
        if (!target.IsRoot && options.AsRoot && result.ExitStatus != 0 && SshFailureException.IsSudoRefusal(result.Stderr))
            throw SshFailureException.Sudo(target, result.Stderr);
        return result;
    }

    public async Task<ScriptResult> RunScriptAsync(string script, TimeSpan timeout, string description, CancellationToken ct)
    {
        if (await KeptShellAsync(timeout, ct) is { } shell)
        {
            logger.LogDebug("SSH {Target}: {Command} (kept shell)", target.ToString(), description);
            try
            {
                var (status, output, first) = await shell.RunAsync(script, timeout, ct);
                return new ScriptResult(status, output, "", first, InKeptShell: true);
            }
            catch (KeptShellRefusedException e)
            {
                NoKeptShell(e);
            }
        }
        var sent = Stopwatch.GetTimestamp();
        long firstLine = 0;
        var result = await RunAsync(script, new SshRunOptions
        {
            Description = description,
            StderrLines = false,
            Timeout = timeout,
            OnLine = (_, _) => Interlocked.CompareExchange(ref firstLine, Stopwatch.GetTimestamp(), 0),
        }, ct);
        var answered = Interlocked.Read(ref firstLine);
        return new ScriptResult(result.ExitStatus, result.Stdout, result.Stderr, answered == 0 ? null : Stopwatch.GetElapsedTime(sent, answered), InKeptShell: false);
    }

    /// <summary>The connection's kept shell, opened on first use; null when this connection cannot keep one.</summary>
    private async Task<KeptShell?> KeptShellAsync(TimeSpan timeout, CancellationToken ct)
    {
        // sudo with a password reads it from stdin: the kept shell's stdin is the scripts', so such a user runs each one
        // the ordinary way (the password goes to a fresh sudo per run, never into a shell that could run it as a command).
        if (_keptRefused || (!target.IsRoot && !string.IsNullOrEmpty(target.Credentials.SudoPassword))) return null;
        await _keptLock.WaitAsync(ct);
        try
        {
            if (_kept is { IsOpen: true } open) return open;
            _kept?.Dispose();
            _kept = null;
            try
            {
                return _kept = await KeptShell.OpenAsync(client, target, timeout, ct);
            }
            catch (KeptShellRefusedException e)
            {
                NoKeptShell(e);
                return null;
            }
        }
        finally
        {
            _keptLock.Release();
        }
    }

    private void NoKeptShell(KeptShellRefusedException e)
    {
        _keptRefused = true;
        logger.LogInformation("SSH {Target}: no kept shell on this connection, each script runs on its own channel: {Reason}", target.ToString(), e.Message);
    }

    /// <summary>
    /// Every command runs under bash (the installer's process substitution needs it). Non-root users go through
    /// sudo: <c>-k -S</c> reads the password from stdin (never the command line), <c>-n</c> fails fast without one.
    /// </summary>
    internal (string Command, string? Stdin) Wrap(string command, bool asRoot)
    {
        var bash = "bash -c " + ShellQuote.Quote(command);
        if (!asRoot || target.IsRoot) return (bash, null);
        var sudoPassword = target.Credentials.SudoPassword;
        // With NOPASSWD sudo never reads the password: the command's stdin is /dev/null so it never sees it either.
        return string.IsNullOrEmpty(sudoPassword)
            ? ("sudo -n -- " + bash, null)
            : ("sudo -k -S -p '' -- bash -c " + ShellQuote.Quote("exec </dev/null; " + command), sudoPassword);
    }

    /// <summary>
    /// Reads a command's output line by line on a thread of its own (<see cref="BlockingThreads"/>). SSH.NET's output
    /// streams only read synchronously (their ReadAsync is Stream's default, a blocked pool thread): dozens of commands
    /// at once would starve the thread pool, and with it every other part of the panel, for seconds.
    /// </summary>
    private static Task Pump(Stream stream, OutputStream kind, StringBuilder sink, Action<OutputStream, string>? onLine) =>
        BlockingThreads.Shared.Run(() =>
        {
            using var reader = new StreamReader(stream, Encoding.UTF8);
            while (reader.ReadLine() is { } line)
            {
                sink.Append(line).Append('\n');
                onLine?.Invoke(kind, line);
            }
        });

    /// <summary>Reads what is left of a stream that has ended (no line callbacks).</summary>
    private static void Drain(Stream stream, StringBuilder sink)
    {
        using var reader = new StreamReader(stream, Encoding.UTF8);
        while (reader.ReadLine() is { } line) sink.Append(line).Append('\n');
    }

    public async Task<byte[]?> DownloadAsync(string path, CancellationToken ct)
    {
        var sftp = await SftpAsync(ct);
        try
        {
            using var buffer = new MemoryStream();
            await using var remote = await sftp.OpenAsync(path, FileMode.Open, FileAccess.Read, ct);
            await remote.CopyToAsync(buffer, ct);
            return buffer.ToArray();
        }
        catch (SftpPathNotFoundException)
        {
            return null;
        }
    }

    public async Task UploadAsync(string path, byte[] content, CancellationToken ct)
    {
        try
        {
            var sftp = await SftpAsync(ct);
            await using var remote = await sftp.OpenAsync(path, FileMode.Create, FileAccess.Write, ct);
            await remote.WriteAsync(content, ct);
        }
        catch (SshException e)
        {
            throw new SshFailureException(SshFailureKind.Disconnected, $"SFTP to {target.Host}:{target.Port} failed ({e.GetType().Name}): is the sftp subsystem enabled?", e);
        }
    }

    private async Task<SftpClient> SftpAsync(CancellationToken ct)
    {
        await _sftpLock.WaitAsync(ct);
        try
        {
            if (_sftp is { IsConnected: true }) return _sftp;
            _sftp?.Dispose();
            var sftp = new SftpClient(info);
            // Same pin as the command connection: a second connection is a second chance to be intercepted.
            sftp.HostKeyReceived += (_, e) => e.CanTrust = Fingerprints.Equal("SHA256:" + e.FingerPrintSHA256, presented);
            await sftp.ConnectAsync(ct);
            return _sftp = sftp;
        }
        finally
        {
            _sftpLock.Release();
        }
    }

    public ValueTask DisposeAsync()
    {
        _kept?.Dispose();
        _sftp?.Dispose();
        client.Dispose();
        _sftpLock.Dispose();
        return ValueTask.CompletedTask;
    }
}
