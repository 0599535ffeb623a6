using System.Buffers.Binary;
using System.Globalization;
using System.Security.Cryptography;

namespace OpenViduHa.Lab;

/// <summary>
/// Writes a node's own files before it boots. Under <c>&lt;node&gt;/fs</c>: <c>etc</c> (the upper layer of the node's
/// /etc overlay: users, sudoers, sshd, host key, hosts), <c>sudoers.d</c>, <c>root</c>, <c>home</c>, <c>opt</c>, <c>tmp</c>,
/// <c>run</c>, <c>var/log</c>, <c>var/lib/sudo</c> and <c>usr/local</c> (stand-ins first on PATH, lab state), each bound over
/// the machine's path inside the node's mount namespace by supervisor.py.
/// </summary>
internal static class NodeImage
{
    private const UnixFileMode Rwx = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
    private const UnixFileMode Rx = UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;
    private const UnixFileMode Dir755 = Rwx | Rx;
    private const UnixFileMode File644 = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;
    private const UnixFileMode File600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode File440 = UnixFileMode.UserRead | UnixFileMode.GroupRead;

    /// <summary>Inside a node: the lab's state of that node (faults, counters, the stand-ins' bookkeeping).</summary>
    public const string StatePath = "/usr/local/lib/ovha-lab";

    public static string Fs(string nodeDirectory) => Path.Combine(nodeDirectory, "fs");

    public static string State(string nodeDirectory) => Path.Combine(Fs(nodeDirectory), "usr/local/lib/ovha-lab");

    public sealed record Shared(
        string Passwd, string Group, string Shadow, int ShadowGid, string AuthorizedKeys, string NodeScript, string CaBundle,
        TimeSpan InstallerDelay, long UptimeEpochCentiseconds, bool RecordCommands, int? Cpus = null);

    /// <summary>Inside a node, with <see cref="LabOptions.RecordCommands"/>: sshd's forced command (<see cref="Recorder"/>).</summary>
    public const string RecorderPath = StatePath + "/record-command";

    /// <summary>Where the recorder appends, in the node's state: <c>user NUL command NUL</c> per session.</summary>
    public const string CommandsFile = "commands";

    /// <summary>The node's sudo log (<c>Defaults logfile</c>) with <see cref="LabOptions.RecordCommands"/>; the node's /var/log is its own.</summary>
    public const string SudoLogPath = "/var/log/sudo.log";

    /// <summary>
    /// The epoch minus /proc/uptime, in hundredths of a second: the installer stand-in tells the time from /proc/uptime
    /// plus this (node.env <c>LAB_UPTIME_EPOCH_CS</c>) instead of running <c>date</c> twice.
    /// </summary>
    public static long UptimeEpochCentiseconds()
    {
        var uptime = File.ReadAllText("/proc/uptime").Split(' ')[0];
        var now = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();
        // /proc/uptime is cut to 10 ms: on average 5 ms behind the clock read with it.
        return (now - 5) / 10 - long.Parse(uptime.Replace(".", "", StringComparison.Ordinal), CultureInfo.InvariantCulture);
    }

    public static void Write(string nodeDirectory, string hostName, string address, Shared shared)
    {
        var fs = Fs(nodeDirectory);
        Tools.MakeDirectory(nodeDirectory, Rwx);
        Tools.MakeDirectory(fs, Dir755);

        // /etc (overlay upper layer: only what differs from the machine's)
        var etc = Path.Combine(fs, "etc");
        Tools.MakeDirectory(etc, Dir755);
        Tools.WriteFile(Path.Combine(etc, "passwd"), shared.Passwd, File644);
        Tools.WriteFile(Path.Combine(etc, "group"), shared.Group, File644);
        Tools.WriteFile(Path.Combine(etc, "shadow"), shared.Shadow, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead);
        Tools.Chown(Path.Combine(etc, "shadow"), 0, shared.ShadowGid);
        Tools.WriteFile(Path.Combine(etc, "sudoers"), shared.RecordCommands ? Sudoers + SudoLogging : Sudoers, File440);
        Tools.WriteFile(Path.Combine(etc, "hostname"), hostName + "\n", File644);
        Tools.WriteFile(Path.Combine(etc, "hosts"),
            $"127.0.0.1\tlocalhost\n{address}\t{hostName}\n::1\tlocalhost ip6-localhost ip6-loopback\n", File644);
        Tools.WriteFile(Path.Combine(etc, "bash.bashrc"),
            "# OpenViduHa.Lab node: no system-wide bash start-up (the machine's is not run in a lab node).\n", File644);
        Tools.WriteFile(Path.Combine(etc, "profile"), Profile, File644);
        Tools.MakeDirectory(Path.Combine(etc, "ssh"), Dir755);
        Tools.WriteFile(Path.Combine(etc, "ssh", "sshd_config"), SshdConfig(hostName, address, shared.RecordCommands), File644);
        // Trust the lab CA the way Debian's curl does by default: the node's own bundle file (the machine's bundle plus
        // the lab CA), one lab-wide copy hard-linked (some 220 kB a node otherwise). A rename over it (update-ca-certificates)
        // stays the node's; a write into it would reach every node of the lab.
        Tools.MakeDirectory(Path.Combine(etc, "ssl"), Dir755);
        Tools.MakeDirectory(Path.Combine(etc, "ssl", "certs"), Dir755);
        Tools.HardLink(shared.CaBundle, Path.Combine(etc, "ssl", "certs", "ca-certificates.crt"));

        var sudoersD = Path.Combine(fs, "sudoers.d");
        Tools.MakeDirectory(sudoersD, Dir755);
        Tools.WriteFile(Path.Combine(sudoersD, "90-ovha-lab"),
            $"# OpenViduHa.Lab: {LabUsers.DeployNoPasswd} runs anything without a password (like a cloud image's default user).\n" +
            $"{LabUsers.DeployNoPasswd} ALL=(ALL:ALL) NOPASSWD: ALL\n", File440);

        // homes: the lab's own, clean
        var root = Path.Combine(fs, "root");
        Tools.MakeDirectory(root, Rwx);
        WriteHome(root, shared.AuthorizedKeys, owner: null);
        Tools.MakeDirectory(Path.Combine(fs, "home"), Dir755);
        foreach (var (name, uid) in LabUsers.NonRoot)
        {
            var home = Path.Combine(fs, "home", name);
            Tools.MakeDirectory(home, Dir755, uid);
            WriteHome(home, shared.AuthorizedKeys, uid);
        }

        Tools.MakeDirectory(Path.Combine(fs, "opt"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "tmp"), UnixFileMode.StickyBit | Rwx | UnixFileMode.GroupRead | UnixFileMode.GroupWrite |
            UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherWrite | UnixFileMode.OtherExecute);
        Tools.MakeDirectory(Path.Combine(fs, "run"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "run", "sshd"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "var"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "var", "log"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "var", "lib"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "var", "lib", "sudo"), Dir755);
        Tools.MakeDirectory(Path.Combine(fs, "var", "lib", "sudo", "lectured"), Rwx);

        // /usr/local: the stand-ins first on PATH, the lab's state
        var local = Path.Combine(fs, "usr", "local");
        Tools.MakeDirectory(Path.Combine(fs, "usr"), Dir755);
        Tools.MakeDirectory(local, Dir755);
        foreach (var sub in new[] { "bin", "sbin", "etc", "lib", "share", "include", "src", "games" })
            Tools.MakeDirectory(Path.Combine(local, sub), Dir755);
        // systemctl and docker are POSIX sh (their hot paths fork nothing), journalctl is node.py; all in the lab's share folder.
        var share = Path.GetDirectoryName(shared.NodeScript)!;
        foreach (var tool in new[] { "systemctl", "docker" })
            File.CreateSymbolicLink(Path.Combine(local, "bin", tool), Path.Combine(share, tool));
        File.CreateSymbolicLink(Path.Combine(local, "bin", "journalctl"), shared.NodeScript);
        // A machine of the size OpenVidu asks for, on request: the nodes share this host's cores (LabOptions.Cpus).
        if (shared.Cpus is { } cpus)
            Tools.WriteFile(Path.Combine(local, "bin", "nproc"), $"#!/bin/sh\necho {cpus.ToString(CultureInfo.InvariantCulture)}\n", Dir755);
        var state = State(nodeDirectory);
        Tools.MakeDirectory(state, Dir755);
        // LAB_NODE_STATE (this folder as the host sees it) and LAB_SHARE are for the lab's service host (supervisor.py).
        Tools.WriteFile(Path.Combine(state, "node.env"),
            $"LAB_NODE_NAME={hostName}\nLAB_NODE_ADDRESS={address}\nLAB_NODE_STATE={state}\nLAB_SHARE={share}\n" +
            $"LAB_INSTALLER_DELAY={shared.InstallerDelay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture)}\n" +
            $"LAB_UPTIME_EPOCH_CS={shared.UptimeEpochCentiseconds.ToString(CultureInfo.InvariantCulture)}\n", File644);
        // Every run counts, a refused non-root one too: anyone may append.
        Tools.WriteFile(Path.Combine(state, "installer-runs"), "", File644 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        Tools.WriteFile(Path.Combine(state, "updater-runs"), "", File644 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        if (shared.RecordCommands)
        {
            Tools.WriteFile(Path.Combine(state, Path.GetFileName(RecorderPath)), Recorder, Dir755);
            // Every user's sessions append; only root reads (the commands may hold what the product should not send).
            Tools.WriteFile(Path.Combine(state, CommandsFile), "", File600 | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite);
        }
    }

    private static void WriteHome(string home, string authorizedKeys, int? owner)
    {
        var ssh = Path.Combine(home, ".ssh");
        Tools.MakeDirectory(ssh, Rwx, owner);
        Tools.WriteFile(Path.Combine(ssh, "authorized_keys"), authorizedKeys, File600, owner);
        Tools.WriteFile(Path.Combine(home, ".bashrc"), "# OpenViduHa.Lab node: a clean home (the machine's ~/.bashrc never runs here).\n", File644, owner);
        Tools.WriteFile(Path.Combine(home, ".profile"), "if [ -n \"${BASH_VERSION-}\" ] && [ -f \"$HOME/.bashrc\" ]; then . \"$HOME/.bashrc\"; fi\n", File644, owner);
    }

    /// <summary>
    /// A new host key: ECDSA P-256, made in-process (no ssh-keygen per node, which a 100-node lab would feel), written as
    /// sshd reads it: the private key in PEM (<c>BEGIN EC PRIVATE KEY</c>) and the OpenSSH public key line beside it.
    /// Returns the public key (<c>ecdsa-sha2-nistp256 AAAA…</c>).
    /// </summary>
    public static string WriteHostKey(string file, string hostName)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var point = key.ExportParameters(includePrivateParameters: false).Q;
        var blob = new MemoryStream();
        void Put(ReadOnlySpan<byte> data)
        {
            Span<byte> length = stackalloc byte[4];
            BinaryPrimitives.WriteInt32BigEndian(length, data.Length);
            blob.Write(length);
            blob.Write(data);
        }
        Put("ecdsa-sha2-nistp256"u8);
        Put("nistp256"u8);
        Put([0x04, .. point.X!, .. point.Y!]);
        var publicKey = "ecdsa-sha2-nistp256 " + Convert.ToBase64String(blob.ToArray());
        Tools.WriteFile(file, key.ExportECPrivateKeyPem() + "\n", File600);
        Tools.WriteFile(file + ".pub", $"{publicKey} root@{hostName}\n", File644);
        return publicKey;
    }

    public const string HostKeyNodePath = "/etc/ssh/ssh_host_ecdsa_key";

    public static string HostKeyFile(string nodeDirectory) => Path.Combine(Fs(nodeDirectory), "etc", "ssh", "ssh_host_ecdsa_key");

    private static string SshdConfig(string hostName, string address, bool recordCommands)
    {
        var config = $"""
            # OpenViduHa.Lab node {hostName}: its own sshd, run by the lab as `sshd -D -e` inside the node's namespaces.
            ListenAddress {address}
            Port 22
            HostKey {HostKeyNodePath}
            PidFile /run/sshd.pid
            UsePAM no
            PubkeyAuthentication yes
            AuthorizedKeysFile .ssh/authorized_keys
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            PermitRootLogin prohibit-password
            PermitUserEnvironment no
            StrictModes yes
            MaxStartups 1000
            MaxSessions 1000
            LoginGraceTime 60
            UseDNS no
            LogLevel ERROR
            PrintMotd no
            PrintLastLog no
            X11Forwarding no

            """;
        // A forced command cannot run internal-sftp (the recorder would get "internal-sftp" to run): the external server.
        config += recordCommands
            ? $"Subsystem sftp {Tools.SftpServer}\nForceCommand {RecorderPath}\n"
            : "Subsystem sftp internal-sftp\n";
        // OpenSSH 9.8 and later penalise addresses that fail to authenticate; every test connects from 127.0.0.1.
        if (Tools.OpenSshVersion.Value >= new Version(9, 8)) config += "PerSourcePenalties no\n";
        return config;
    }

    // Debian's own, with its defaults (env_reset, secure_path, use_pty): the node's users get what a Debian machine gives.
    private const string Sudoers = """
        # OpenViduHa.Lab node: Debian's default sudoers. Members of group sudo (deploy) give their password;
        # /etc/sudoers.d/90-ovha-lab lets deploy-nopasswd run anything without one.
        Defaults	env_reset
        Defaults	mail_badpass
        Defaults	secure_path="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        Defaults	use_pty
        root	ALL=(ALL:ALL) ALL
        %sudo	ALL=(ALL:ALL) ALL
        @includedir /etc/sudoers.d

        """;

    // With RecordCommands: every sudo'ed command in the node's /var/log/sudo.log, one line each (no wrapping at 80).
    private const string SudoLogging = """
        Defaults	logfile=/var/log/sudo.log
        Defaults	loglinelen=0

        """;

    /// <summary>
    /// sshd's forced command with <see cref="LabOptions.RecordCommands"/>, run by the user's shell (<c>$SHELL -c</c>), POSIX
    /// sh that forks nothing: appends <c>$USER NUL $SSH_ORIGINAL_COMMAND NUL</c> (the exact command; a session without
    /// one, a login shell, as the empty command) in one write (dash's printf flushes up to 8 kB at once), then runs the
    /// command as sshd would have, with the same stdin, stdout, stderr and exit status: <c>$SHELL -c command</c>, or a
    /// login shell. The sftp subsystem arrives as its server's path. SSH_ORIGINAL_COMMAND is not passed on.
    /// </summary>
    private const string Recorder = """
        #!/bin/sh
        # OpenViduHa.Lab: sshd's ForceCommand (LabOptions.RecordCommands). Records the session's command, then runs it.
        if [ -n "${SSH_ORIGINAL_COMMAND+set}" ]; then
          lab_command=$SSH_ORIGINAL_COMMAND
          unset SSH_ORIGINAL_COMMAND
          printf '%s\0%s\0' "$USER" "$lab_command" >>/usr/local/lib/ovha-lab/commands
          exec "${SHELL:-/bin/sh}" -c "$lab_command"
        fi
        printf '%s\0\0' "$USER" >>/usr/local/lib/ovha-lab/commands
        exec "${SHELL:-/bin/sh}" -l

        """;

    private const string Profile = """
        # OpenViduHa.Lab node: /etc/profile without /etc/profile.d (the machine's start-up scripts never run here).
        if [ "$(id -u)" -eq 0 ]; then
          PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
        else
          PATH="/usr/local/bin:/usr/bin:/bin:/usr/local/games:/usr/games"
        fi
        export PATH

        """;
}
