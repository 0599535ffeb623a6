using OpenViduHa.Core.Nodes;

namespace OpenViduHa.Core.Ssh;

/// <summary>Where and as whom to connect. <see cref="PinnedFingerprint"/> null means "not confirmed yet": nothing runs.</summary>
public sealed record SshTarget(string NodeName, string Host, int Port, string Username, SshCredentials Credentials, string? PinnedFingerprint)
{
    public bool IsRoot => Username == "root";
    public override string ToString() => $"{NodeName} ({Username}@{Host}:{Port})";
}

public sealed record SshCommandResult(int ExitStatus, string Stdout, string Stderr)
{
    public bool Succeeded => ExitStatus == 0;

    /// <summary>The last non-empty line of stderr, else of stdout: what a failed command usually says.</summary>
    public string LastMessage()
    {
        static string? Last(string text) => text.Split('\n').Select(l => l.Trim()).LastOrDefault(l => l.Length > 0);
        return Last(Stderr) ?? Last(Stdout) ?? $"exit status {ExitStatus}";
    }
}

/// <summary>
/// What a script run by <see cref="ISshSession.RunScriptAsync"/> printed, its exit status, how long until the node
/// answered (the first output; null when it printed nothing) and whether it ran in the connection's kept shell (there
/// stderr is dropped).
/// </summary>
public sealed record ScriptResult(int ExitStatus, string Stdout, string Stderr, TimeSpan? FirstOutput, bool InKeptShell)
{
    public SshCommandResult AsCommandResult() => new(ExitStatus, Stdout, Stderr);
}

public enum OutputStream
{
    Stdout,
    Stderr,
}

/// <summary>How to run one command.</summary>
public sealed record SshRunOptions
{
    /// <summary>Run as root: directly when the user is root, else through sudo.</summary>
    public bool AsRoot { get; init; } = true;

    /// <summary>Called for every output line as it arrives.</summary>
    public Action<OutputStream, string>? OnLine { get; init; }

    /// <summary>
    /// Stderr lines reach <see cref="OnLine"/> as they arrive (the default). Off: stderr is read once the command has
    /// ended and never reaches <see cref="OnLine"/>; one reading thread less per command (a status sweep's probes).
    /// </summary>
    public bool StderrLines { get; init; } = true;

    /// <summary>What the command does, for logs.</summary>
    public string? Description { get; init; }

    public TimeSpan Timeout { get; init; } = TimeSpan.FromMinutes(2);
}

public sealed record SshConnectOptions
{
    public TimeSpan ConnectTimeout { get; init; } = TimeSpan.FromSeconds(10);
    public TimeSpan KeepAlive { get; init; } = TimeSpan.FromSeconds(15);

    /// <summary>Keep sntrup761 (post-quantum hybrid) first where the server offers it. See <see cref="KeyExchangePolicy"/>.</summary>
    public bool PreferPostQuantum { get; init; }
}

/// <summary>One SSH connection to one node.</summary>
public interface ISshSession : IAsyncDisposable
{
    SshTarget Target { get; }

    /// <summary>The host key fingerprint the server presented, <c>SHA256:…</c>.</summary>
    string PresentedFingerprint { get; }

    /// <summary>The connection is still up (a kept connection is checked before reuse).</summary>
    bool IsConnected { get; }

    /// <summary>
    /// Runs one command (under bash; through sudo for non-root users when <see cref="SshRunOptions.AsRoot"/>). A command
    /// line is readable by every local user of the node and lands in sudo's log: it never carries a secret. Secrets go
    /// to nodes as files (<see cref="Jobs.PrivateFiles"/>).
    /// </summary>
    Task<SshCommandResult> RunAsync(string command, SshRunOptions options, CancellationToken ct);

    /// <summary>
    /// Runs a script as root and returns its output at once: in a bash kept open on the connection where it can (no
    /// channel to open, no login shell to start per run: a status probe every sweep), else as <see cref="RunAsync"/>
    /// does (a user whose sudo wants a password, a login shell that will not run bash). The script must not read stdin;
    /// in the kept shell its stderr is dropped. A run that fails or times out closes the kept shell (the next opens one).
    /// </summary>
    Task<ScriptResult> RunScriptAsync(string script, TimeSpan timeout, string description, CancellationToken ct);

    /// <summary>A file's bytes over SFTP, or null when it does not exist (read as the login user).</summary>
    Task<byte[]?> DownloadAsync(string path, CancellationToken ct);

    /// <summary>Writes a file over SFTP as the login user (for root-owned targets, upload to a temp path then move as root).</summary>
    Task UploadAsync(string path, byte[] content, CancellationToken ct);
}

/// <summary>Opens sessions. The one seam between the panel and SSH.NET.</summary>
public interface ISshConnector
{
    Task<ISshSession> ConnectAsync(SshTarget target, SshConnectOptions options, CancellationToken ct);

    /// <summary>The fingerprint a host presents, without authenticating: for the operator to confirm on first contact.</summary>
    Task<string> ProbeHostKeyAsync(string host, int port, TimeSpan timeout, CancellationToken ct);
}
