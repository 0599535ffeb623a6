namespace OpenViduHa.Core.Ssh;

public enum SshFailureKind
{
    ConnectionRefused,
    Unreachable,
    Timeout,
    AuthenticationFailed,
    HostKeyMismatch,
    HostKeyNotConfirmed,
    SudoFailed,
    Disconnected,

    /// <summary>A step the panel itself needs (a folder, a file move) failed on the node.</summary>
    CommandFailed,
}

/// <summary>
/// Why SSH did not work, in words an operator can act on. Messages name hosts, users and fingerprints, never a
/// credential or a command line.
/// </summary>
public sealed class SshFailureException(SshFailureKind kind, string message, Exception? inner = null) : Exception(message, inner)
{
    public SshFailureKind Kind { get; } = kind;

    /// <summary>For host key failures: what the server presented.</summary>
    public string? PresentedFingerprint { get; init; }

    public static SshFailureException Refused(SshTarget t, Exception inner) => new(SshFailureKind.ConnectionRefused,
        $"{t.Host}:{t.Port} refused the connection: is sshd running and listening on port {t.Port}, and does a firewall allow it?", inner);

    public static SshFailureException Unreachable(SshTarget t, Exception inner) => new(SshFailureKind.Unreachable,
        $"{t.Host}:{t.Port} cannot be reached ({inner.Message}): check the address and the network path from the panel.", inner);

    public static SshFailureException TimedOut(SshTarget t, TimeSpan after, string what) => new(SshFailureKind.Timeout,
        $"{t.Host}:{t.Port}: {what} timed out after {after.TotalSeconds:0} s: the node is down, or a firewall drops SSH.");

    public static SshFailureException AuthFailed(SshTarget t, Exception inner) => new(SshFailureKind.AuthenticationFailed,
        $"{t.Username}@{t.Host}:{t.Port} rejected the {(t.Credentials.UsesKey ? "private key" : "password")}: " +
        (t.Credentials.UsesKey ? "check that the key's public half is in the user's ~/.ssh/authorized_keys." : "check the password, and that sshd allows password authentication."), inner);

    public static SshFailureException Mismatch(SshTarget t, string presented) => new(SshFailureKind.HostKeyMismatch,
        $"Host key mismatch for {t.Host}:{t.Port}: expected {t.PinnedFingerprint}, the server presented {presented}. Nothing ran. " +
        "If the machine was rebuilt, re-pin its new key explicitly; otherwise someone may be intercepting the connection.")
    {
        PresentedFingerprint = presented,
    };

    /// <summary>How <see cref="NotConfirmed"/>'s message ends its first sentence: what a job node's message is recognized by.</summary>
    public const string NotConfirmedText = "is not confirmed yet.";

    public static SshFailureException NotConfirmed(SshTarget t, string presented) => new(SshFailureKind.HostKeyNotConfirmed,
        $"The host key of {t.Host}:{t.Port} {NotConfirmedText} It presented {presented}: compare it with " +
        "'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on the machine, then confirm it. Nothing ran.")
    {
        PresentedFingerprint = presented,
    };

    public static SshFailureException Sudo(SshTarget t, string stderr) => new(SshFailureKind.SudoFailed,
        $"sudo failed for {t.Username}@{t.Host}: {SudoReason(stderr)}");

    private static string SudoReason(string stderr) =>
        stderr.Contains("a password is required", StringComparison.OrdinalIgnoreCase) ? "it asks for a password: give the node's sudo password, or allow NOPASSWD for this user."
        : stderr.Contains("incorrect password", StringComparison.OrdinalIgnoreCase) || stderr.Contains("Sorry, try again", StringComparison.OrdinalIgnoreCase) ? "the sudo password is wrong."
        : stderr.Contains("not in the sudoers", StringComparison.OrdinalIgnoreCase) || stderr.Contains("not allowed", StringComparison.OrdinalIgnoreCase) ? "the user may not use sudo: add it to the sudoers."
        : stderr.Contains("command not found", StringComparison.OrdinalIgnoreCase) ? "sudo is not installed on the node."
        : "sudo refused to run the command.";

    /// <summary>Does this stderr come from sudo itself refusing, rather than from the command it ran?</summary>
    internal static bool IsSudoRefusal(string stderr) =>
        stderr.Contains("sudo: a password is required", StringComparison.Ordinal) ||
        stderr.Contains("incorrect password attempt", StringComparison.Ordinal) ||
        stderr.Contains("Sorry, try again", StringComparison.Ordinal) ||
        stderr.Contains("is not in the sudoers file", StringComparison.Ordinal) ||
        stderr.Contains("is not allowed to run sudo", StringComparison.Ordinal) ||
        stderr.Contains("sudo: command not found", StringComparison.Ordinal) ||
        stderr.Contains("sudo: not found", StringComparison.Ordinal);
}
