namespace OpenViduHa.Lab;

/// <summary>How big a lab to start and how its stand-ins behave.</summary>
public sealed class LabOptions
{
    /// <summary>Number of nodes (machines), 1 to <see cref="MaxNodes"/>. An HA cluster needs 4 masters and at least 1 media node.</summary>
    public int Nodes { get; init; } = 6;

    /// <summary>How long the installer stand-in works before it writes its files (a node's <see cref="LabNode.SlowInstaller"/> overrides it).</summary>
    public TimeSpan InstallerDelay { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The version <c>/pro/ha/latest/…</c> stands for.</summary>
    public string LatestVersion { get; init; } = "3.8.0";

    /// <summary>
    /// Where labs keep their files: <c>&lt;root&gt;/&lt;lab id&gt;-&lt;random&gt;</c>, plus <c>client-keys/</c>
    /// (made once per machine). By default in RAM (/dev/shm: a node is some 150 small files, which a disk makes slow
    /// by the hundred), else /var/tmp. Never under /tmp, which every node has its own of. No spaces or colons.
    /// </summary>
    public string RootDirectory { get; init; } = DefaultRoot();

    private static string DefaultRoot() =>
        System.IO.Directory.Exists("/dev/shm") ? "/dev/shm/ovha-lab" : "/var/tmp/ovha-lab";

    /// <summary>
    /// Record what every node's sshd receives: each session's exact command and user (<see cref="LabNode.RecordedCommands"/>,
    /// the sftp subsystem as <see cref="RecordedCommand.SftpServer"/>) and every sudo'ed command (<see cref="LabNode.SudoLog"/>).
    /// sshd then runs each session through a recorder (<c>ForceCommand</c>, an external sftp server): two execs more per
    /// session, which a lab without it does not pay. Off by default.
    /// </summary>
    public bool RecordCommands { get; init; }

    /// <summary>
    /// What <c>nproc</c> reports on every node (a stand-in first on PATH), so that a preflight can pass on this 2-core
    /// machine as on nodes of OpenVidu's minimum size (4). Null: the host's own count, and the preflight's CPU check fails.
    /// </summary>
    public int? Cpus { get; init; }

    /// <summary>Leave the lab's directory (node file systems, sshd logs) behind after disposal, to look at a failure.</summary>
    public bool KeepFiles { get; init; }

    public const int MaxNodes = 1000;
}
