using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace OpenViduHa.Lab;

/// <summary>
/// One SSH session as a node's sshd received it (<see cref="LabOptions.RecordCommands"/>): the user it logged in as and the
/// exact command string the client sent, byte for byte (newlines and quotes included). The sftp subsystem is
/// <see cref="SftpServer"/>; a session without a command (a login shell) is the empty command.
/// </summary>
public sealed record RecordedCommand(string User, string Command)
{
    /// <summary>What an sftp session records: the sftp server sshd runs for the subsystem.</summary>
    public const string SftpServer = Tools.SftpServer;
}

/// <summary>
/// One run of the updater stand-in on a node (<see cref="LabNode.UpdaterRunHistory"/>): the version
/// <c>deployment-info.yaml</c> held (<c>""</c> when the run ended before reading it: not root, or no file), the updater's
/// own version, the user id it ran as, its exit code, and when it started and ended (the node's clock, to 10 ms).
/// </summary>
public sealed record UpdaterRun(string From, string To, int Uid, int ExitCode, DateTimeOffset Started, DateTimeOffset Ended);

/// <summary>
/// One <c>docker stop openvidu</c> of a media node's media server (<see cref="LabNode.Drains"/>): docker's timeout
/// (<c>--time</c>, 10 by default, -1 for none), when it started and ended (the node's clock, to the millisecond), how it
/// ended (<see cref="Drained"/>, <see cref="Killed"/>, <see cref="Forced"/>, or <see cref="Draining"/> while under way,
/// <see cref="Ended"/> null) and how many rooms it cut.
/// </summary>
public sealed record MediaDrain(int TimeoutSeconds, DateTimeOffset Started, DateTimeOffset? Ended, string Outcome, int RoomsCut)
{
    /// <summary>Its rooms ended before the timeout: LiveKit exited by itself (exit code 0), nothing cut.</summary>
    public const string Drained = "drained";

    /// <summary>The timeout passed with rooms left (or <c>--signal KILL</c>): docker killed it (exit code 137), the rooms cut.</summary>
    public const string Killed = "killed";

    /// <summary>A second SIGTERM (another <c>docker stop</c>, or the unit's stop: <c>docker compose down</c>): LiveKit exited at once (0), the rooms cut.</summary>
    public const string Forced = "forced";

    /// <summary>Under way: docker waits for the rooms to end.</summary>
    public const string Draining = "draining";
}

/// <summary>
/// One machine of the lab: a real sshd on <see cref="Address"/>:22 in a mount (and UTS) namespace of its own, so its
/// /etc, /opt, /root, /home, /tmp, /run, /var/log and /usr/local are its own. Its private IP is its SSH address.
/// </summary>
public sealed class LabNode
{
    private readonly Lab _lab;
    private readonly string _directory;
    private readonly Lock _portsLock = new();
    private int _holderPid;
    private bool _serviceAtPowerOff;

    internal LabNode(Lab lab, int index, string address, string name, string directory)
    {
        _lab = lab;
        Index = index;
        Address = address;
        Name = name;
        _directory = directory;
        (HostPublicKey, HostKeyFingerprint) = ReadHostKey();
    }

    /// <summary>1-based position in <see cref="Lab.Nodes"/>.</summary>
    public int Index { get; }

    /// <summary>The node's host name (<c>hostname</c> inside it), e.g. <c>lab3-node1</c>.</summary>
    public string Name { get; }

    /// <summary>The SSH address, also the node's private IP: 127.&lt;lab id&gt;.x.y.</summary>
    public string Address { get; }

    public int Port { get; } = 22;

    /// <summary>The (ECDSA P-256) host key's SHA-256 fingerprint as <c>ssh-keygen -lf</c> prints it: <c>SHA256:</c> + unpadded base64.</summary>
    public string HostKeyFingerprint { get; private set; }

    /// <summary>The host key as a known_hosts entry takes it: <c>ecdsa-sha2-nistp256 AAAA…</c>.</summary>
    public string HostPublicKey { get; private set; }

    /// <summary>This node's known_hosts line.</summary>
    public string KnownHostsLine => $"{Address} {HostPublicKey}";

    /// <summary>Whether the node's sshd runs (see <see cref="StopSshAsync"/>).</summary>
    public bool SshRunning { get; private set; }

    /// <summary>Whether the machine is on (see <see cref="PowerOffAsync"/>).</summary>
    public bool PoweredOn { get; private set; } = true;

    /// <summary>How many times the installer stand-in ended on this node, successfully or not (non-root runs included).</summary>
    public int InstallerRuns
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "installer-runs");
            return File.Exists(file) ? File.ReadLines(file).Count(l => l.Length > 0) : 0;
        }
    }

    /// <summary>When each installer run started and ended, as the node's clock saw it (benchmarks' ideal times).</summary>
    public IReadOnlyList<(DateTimeOffset Started, DateTimeOffset Ended)> InstallerRunTimes
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "installer-runs");
            if (!File.Exists(file)) return [];
            static DateTimeOffset Epoch(string line, string key)
            {
                var value = line.Split(' ').First(f => f.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
                return DateTimeOffset.UnixEpoch.AddSeconds(double.Parse(value, CultureInfo.InvariantCulture));
            }
            return File.ReadLines(file).Where(l => l.Contains("started=", StringComparison.Ordinal))
                .Select(l => (Epoch(l, "started"), Epoch(l, "ended"))).ToList();
        }
    }

    /// <summary>How many times the updater stand-in ended on this node, successfully or not (non-root and refused runs included).</summary>
    public int UpdaterRuns
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "updater-runs");
            return File.Exists(file) ? File.ReadLines(file).Count(l => l.Length > 0) : 0;
        }
    }

    /// <summary>Every updater run that ended on this node, oldest first (see <see cref="UpdaterRun"/>).</summary>
    public IReadOnlyList<UpdaterRun> UpdaterRunHistory
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "updater-runs");
            if (!File.Exists(file)) return [];
            // from=3.0.0 to=3.1.0 uid=0 exit=0 started=1795968000.12 ended=1795968000.45
            static string Field(string line, string key) =>
                line.Split(' ').FirstOrDefault(f => f.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..] ?? "";
            static DateTimeOffset Epoch(string value) =>
                DateTimeOffset.UnixEpoch.AddSeconds(double.Parse(value, CultureInfo.InvariantCulture));
            return File.ReadLines(file).Where(l => l.Contains(" ended=", StringComparison.Ordinal))
                .Select(l => new UpdaterRun(Field(l, "from"), Field(l, "to"), int.Parse(Field(l, "uid"), CultureInfo.InvariantCulture),
                    int.Parse(Field(l, "exit"), CultureInfo.InvariantCulture), Epoch(Field(l, "started")), Epoch(Field(l, "ended"))))
                .ToList();
        }
    }

    /// <summary>
    /// Every SSH session the node's sshd received, in order, with <see cref="LabOptions.RecordCommands"/> (empty without):
    /// recorded before the command runs, so a session still running is already there.
    /// </summary>
    public IReadOnlyList<RecordedCommand> RecordedCommands
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), NodeImage.CommandsFile);
            if (!File.Exists(file)) return [];
            // user NUL command NUL, per session; a record being written (no final NUL yet) is left out.
            var fields = Encoding.UTF8.GetString(File.ReadAllBytes(file)).Split('\0');
            var records = new List<RecordedCommand>();
            for (var i = 0; i + 2 < fields.Length; i += 2) records.Add(new RecordedCommand(fields[i], fields[i + 1]));
            return records;
        }
    }

    /// <summary>
    /// The node's sudo log (<c>/var/log/sudo.log</c>, <c>Defaults logfile</c>, one line per sudo'ed command:
    /// <c>… : deploy : PWD=/home/deploy ; USER=root ; COMMAND=/usr/bin/id -u</c>) with <see cref="LabOptions.RecordCommands"/>;
    /// "" when there is none.
    /// </summary>
    public string SudoLog
    {
        get
        {
            try
            {
                return File.ReadAllText(Path.Combine(NodeImage.Fs(_directory), NodeImage.SudoLogPath.TrimStart('/')));
            }
            catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
            {
                return "";
            }
        }
    }

    /// <summary>Whether the node's <c>openvidu</c> service (its listeners, in the lab's service host) runs.</summary>
    public bool ServiceActive
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "service.pid");
            try
            {
                // Its first line; the second is the start time.
                var pid = int.Parse(File.ReadLines(file).First().Trim(), CultureInfo.InvariantCulture);
                // The lab's service host (supervisor.py) runs every node's service; service.pid names it while this one runs.
                return Tools.IsAlive(pid) && Tools.Command(pid).StartsWith("ovha-svc-", StringComparison.Ordinal);
            }
            catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
            {
                return false;
            }
        }
    }

    /// <summary>
    /// When the running openvidu service started (the service host's clock, to the millisecond: the second line of
    /// <c>service.pid</c>), or null while it is stopped. A restart changes it; a <c>start</c> of a running service does not.
    /// </summary>
    public DateTimeOffset? ServiceStartedAt
    {
        get
        {
            if (!ServiceActive) return null;
            try
            {
                var started = File.ReadLines(Path.Combine(NodeImage.State(_directory), "service.pid")).Skip(1).First().Trim();
                return DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(double.Parse(started, CultureInfo.InvariantCulture) * 1000));
            }
            catch (Exception e) when (e is IOException or FormatException or InvalidOperationException)
            {
                return null; // stopped between the two reads
            }
        }
    }

    /// <summary>
    /// The openvidu service's journal as <c>journalctl -u openvidu</c> shows it (one line per event: systemd's
    /// <c>Starting openvidu.service</c>, <c>Started</c>, <c>Stopping</c>, <c>Stopped</c>, failures); "" when nothing was logged.
    /// Every start or restart that reached the service host wrote <c>Starting openvidu.service</c>.
    /// </summary>
    public string Journal
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "journal.log");
            return File.Exists(file) ? File.ReadAllText(file) : "";
        }
    }

    /// <summary>
    /// The rooms a media node's media server (LiveKit, container <c>openvidu</c>) hosts now, one participant each: what its
    /// Prometheus endpoint (<c>http://&lt;address&gt;:6789/metrics</c>, <c>livekit_room_total</c>) reports, and what a
    /// <c>docker stop openvidu</c> waits for. 0 by default. The lab sets it (rooms open and end as the test says; set
    /// it while the server runs: a drain takes no new rooms, so only lower it then); the media server's end sets it to 0:
    /// a drain that was killed or forced, the service's stop, restart or power off (see <see cref="RoomsCut"/>).
    /// </summary>
    public int Rooms
    {
        get => ReadCount("rooms");
        set
        {
            ArgumentOutOfRangeException.ThrowIfNegative(value);
            WriteState("rooms", value.ToString(CultureInfo.InvariantCulture) + "\n");
        }
    }

    /// <summary>
    /// Rooms this node's media server was still hosting when it ended, in all: drains that ended killed or forced, and the
    /// service stopped, restarted or powered off while it hosted rooms (the lab's stop is immediate: the real
    /// <c>docker compose down</c> would give them 10 s). 0 means no room was ever cut.
    /// </summary>
    public int RoomsCut
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "rooms-cut");
            if (!File.Exists(file)) return 0;
            // at=1795968000.123 rooms=2 by=docker-stop|service-stop
            return File.ReadLines(file).Select(l => Field(l, "rooms")).Where(v => v.Length > 0)
                .Sum(v => int.Parse(v, CultureInfo.InvariantCulture));
        }
    }

    /// <summary>
    /// Whether a media node's media server (container <c>openvidu</c>) runs: the service is active and no
    /// <c>docker stop</c> ended the container since the service started (a drain under way still runs). False on a
    /// master (no such container) and while the service is stopped.
    /// </summary>
    public bool OpenViduContainerRunning
    {
        get
        {
            if (Field(ReadStateOrEmpty("installed").Replace('\n', ' '), "ROLE") != "media-node") return false;
            var stamp = ServiceStamp();
            if (stamp is null) return false;
            return Field(ReadStateOrEmpty("openvidu-exited"), "stamp") != stamp;
        }
    }

    /// <summary>
    /// Every <c>docker stop openvidu</c> of this media node's running media server, oldest first, the one under way last
    /// (<see cref="MediaDrain.Draining"/>); see <see cref="MediaDrain"/>.
    /// </summary>
    public IReadOnlyList<MediaDrain> Drains
    {
        get
        {
            var drains = new List<MediaDrain>();
            var file = Path.Combine(NodeImage.State(_directory), "drains");
            // timeout=5 started=1795968000.123 ended=1795968001.456 outcome=killed rooms_cut=1
            if (File.Exists(file))
                drains.AddRange(File.ReadLines(file).Where(l => l.Contains(" ended=", StringComparison.Ordinal))
                    .Select(l => new MediaDrain(int.Parse(Field(l, "timeout"), CultureInfo.InvariantCulture), Epoch(Field(l, "started")),
                        Epoch(Field(l, "ended")), Field(l, "outcome"), int.Parse(Field(l, "rooms_cut"), CultureInfo.InvariantCulture))));
            // timeout=5 started=1795968000.123 stamp=… pid=…: under way
            var current = ReadStateOrEmpty("drain");
            if (Field(current, "started").Length > 0)
                drains.Add(new MediaDrain(int.Parse(Field(current, "timeout"), CultureInfo.InvariantCulture), Epoch(Field(current, "started")),
                    null, MediaDrain.Draining, 0));
            return drains;
        }
    }

    /// <summary>
    /// Whether the openvidu unit is enabled (started at boot), as systemd has it: the unit exists and its
    /// <c>multi-user.target.wants</c> symlink too. The installer enables it; <c>systemctl disable|enable openvidu</c> in
    /// the node change it; <see cref="PowerOnAsync"/> starts a disabled unit no more.
    /// </summary>
    public bool ServiceEnabled
    {
        get
        {
            if (!File.Exists(HostPath("/etc/systemd/system/openvidu.service"))) return false;
            var link = new FileInfo(HostPath("/etc/systemd/system/multi-user.target.wants/openvidu.service"));
            return link.Exists || link.LinkTarget is not null;
        }
    }

    /// <summary>
    /// The flags the last installer run took, by name (<c>--no-tty</c>, <c>--public-ip</c>,
    /// <c>--force-media-node-public-ip</c>, …), in the order given, never their values (secrets); empty before any run.
    /// A run stopped by a bad flag lists those before it.
    /// </summary>
    public IReadOnlyList<string> LastInstallerFlags
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "installer-runs");
            var last = File.Exists(file) ? File.ReadLines(file).LastOrDefault(l => l.Length > 0) : null;
            return last is null ? [] : Field(last, "flags").Split(',', StringSplitOptions.RemoveEmptyEntries);
        }
    }

    /// <summary>The ports closed by <see cref="ClosePort"/>, in ascending order.</summary>
    public IReadOnlyList<int> ClosedPorts
    {
        get
        {
            var file = Path.Combine(NodeImage.State(_directory), "closed-ports");
            if (!File.Exists(file)) return [];
            return File.ReadAllText(file).Split((char[])[' ', '\n'], StringSplitOptions.RemoveEmptyEntries)
                .Select(p => int.Parse(p, CultureInfo.InvariantCulture)).Order().ToList();
        }
    }

    internal int HolderPid => _holderPid;

    internal string Directory => _directory;

    /// <summary>
    /// The host-side path of a file as the node sees it, e.g. <c>HostPath("/opt/openvidu/.env")</c>, valid while the lab
    /// runs (it goes through <c>/proc/&lt;pid&gt;/root</c> of the process holding the node's namespaces).
    /// </summary>
    public string HostPath(string nodePath)
    {
        if (!nodePath.StartsWith('/')) throw new ArgumentException("A node path is absolute.", nameof(nodePath));
        if (_holderPid == 0) throw new InvalidOperationException($"Node {Name} is not running.");
        return $"/proc/{_holderPid}/root{nodePath}";
    }

    /// <summary>A file's text inside the node, or null when it does not exist.</summary>
    public string? ReadFile(string nodePath)
    {
        var path = HostPath(nodePath);
        try
        {
            return File.ReadAllText(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Writes a file inside the node (owner root, mode 0644 unless given), making its folders.</summary>
    public void WriteFile(string nodePath, string content, UnixFileMode? mode = null)
    {
        var path = HostPath(nodePath);
        System.IO.Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, content);
        if (mode is { } m) File.SetUnixFileMode(path, m);
    }

    /// <summary>Runs a command as root inside the node without SSH (<c>nsenter</c> + <c>bash -c</c>, root's PATH and HOME).</summary>
    public Task<LabCommandResult> RunAsRootAsync(string command, CancellationToken ct = default) =>
        Tools.RunAsync(Tools.Nsenter, ["--target", _holderPid.ToString(CultureInfo.InvariantCulture), "--mount", "--uts", "--", "/bin/bash", "-c", command],
            environment: new Dictionary<string, string> { ["PATH"] = Tools.RootPath, ["HOME"] = "/root", ["USER"] = "root", ["LANG"] = "C.UTF-8" },
            ct: ct);

    /// <summary>Node down: kills its sshd, every connection and every command running through them (connections are then refused). The openvidu service keeps running.</summary>
    public async Task StopSshAsync(CancellationToken ct = default)
    {
        await _lab.Supervisor.SendAsync($"sshd-stop {Index}", TimeSpan.FromSeconds(30), ct);
        SshRunning = false;
    }

    /// <summary>Starts the node's sshd again; returns once it accepts connections.</summary>
    public async Task StartSshAsync(CancellationToken ct = default)
    {
        await _lab.Supervisor.SendAsync($"sshd-start {Address}={Index}", TimeSpan.FromSeconds(30), ct);
        SshRunning = true;
    }

    /// <summary>A reinstalled machine: a new host key, sshd restarted with it; <see cref="HostKeyFingerprint"/> changes.</summary>
    public async Task ReplaceHostKeyAsync(CancellationToken ct = default)
    {
        var fresh = Path.Combine(_directory, "host-key-" + Guid.NewGuid().ToString("N"));
        NodeImage.WriteHostKey(fresh, Name);
        try
        {
            await StopSshAsync(ct);
            foreach (var suffix in new[] { "", ".pub" })
                File.Copy(fresh + suffix, HostPath(NodeImage.HostKeyNodePath + suffix), overwrite: true);
            (HostPublicKey, HostKeyFingerprint) = ReadHostKey();
            _lab.WriteKnownHosts();
            await StartSshAsync(ct);
        }
        finally
        {
            File.Delete(fresh);
            File.Delete(fresh + ".pub");
        }
    }

    /// <summary>The installer fails after its delay: <paramref name="message"/> on stderr, exit 1, no files written.</summary>
    public void FailInstaller(string message) => WriteState("installer-fail", message.TrimEnd('\n') + "\n");

    /// <summary>The installer takes <paramref name="delay"/> instead of the lab's <see cref="LabOptions.InstallerDelay"/>.</summary>
    public void SlowInstaller(TimeSpan delay) =>
        WriteState("installer-delay", delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "\n");

    /// <summary>
    /// The installer prints back values it was given, as a verbose or a failing installer might: a line
    /// <c>Given --&lt;flag&gt;=&lt;value&gt;</c> for each of <c>--dashboard-admin-user</c>, <c>--openvidu-pro-license</c> and
    /// <c>--redis-password</c> it got, then <paramref name="text"/> (e.g. a password the panel must blank out). Without
    /// <paramref name="fails"/>: on stdout before its delay, then it installs as usual. With it: on stderr after its delay,
    /// then <c>Error: Redis refused the password &lt;value&gt;</c> as its last line, exit 1, nothing written.
    /// </summary>
    public void EchoingInstaller(string text, bool fails = false)
    {
        if (text.Contains('\n', StringComparison.Ordinal)) throw new ArgumentException("One line of text.", nameof(text));
        WriteState("installer-echo", $"{(fails ? "fail" : "ok")}\n{text}\n");
    }

    /// <summary>
    /// The installer does all its work (config files, unit, installed) and exits 0, but prints no success banner: its last
    /// line is the image pull.
    /// </summary>
    public void BannerlessInstaller() => WriteState("installer-no-banner", "");

    /// <summary>
    /// The updater fails once it has done part of its work, as one that could not pull its images would: it gets past the
    /// version check, stops the service, makes the backup (<c>/opt/openvidu/backups/&lt;date&gt;_&lt;old version&gt;/</c>,
    /// complete) and waits its delay; on the hop that migrates the layout (3.1.0 to 3.2.0) it also writes the new config
    /// files (<c>config/…</c>, 0600) but leaves <c>.env</c> in place; then it prints <paramref name="message"/> on stderr
    /// and exits 1. <c>deployment-info.yaml</c> and the lab's <c>installed</c> still say the old version (so the same
    /// updater can run again); on any other hop nothing but the backup has changed. The service stays stopped.
    /// </summary>
    public void FailUpdater(string message) => WriteState("updater-fail", message.TrimEnd('\n') + "\n");

    /// <summary>The updater takes <paramref name="delay"/> (after its backup) instead of the lab's <see cref="LabOptions.InstallerDelay"/>.</summary>
    public void SlowUpdater(TimeSpan delay) =>
        WriteState("updater-delay", delay.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture) + "\n");

    /// <summary>
    /// A started service prints its configuration: <c>systemctl start|restart openvidu</c>, once the service runs, print each
    /// <c>KEY=value</c> line of the node's OpenVidu config files (secrets included) as <c>openvidu: KEY=value</c> on stdout.
    /// </summary>
    public void VerboseService(bool verbose)
    {
        if (verbose) WriteState("service-verbose", "");
        else DeleteState("service-verbose");
    }

    /// <summary>
    /// Container <paramref name="name"/> (e.g. <c>openvidu-init</c>) keeps restarting while the service runs: <c>docker ps</c>
    /// shows it <c>Restarting (1) N seconds ago</c> and its RestartCount grows every 5 s. Null clears it.
    /// </summary>
    public void RestartingContainer(string? name)
    {
        if (name is null)
            DeleteState("restarting-container");
        else
            WriteState("restarting-container", $"{name} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0:0.000}\n");
    }

    /// <summary>A media node's stats are stale: <c>GET /</c> on 7880 answers 406 <c>Not Ready</c> instead of 200 <c>OK</c>.</summary>
    public void MediaStatsStale(bool stale)
    {
        if (stale) WriteState("media-stats-stale", "");
        else DeleteState("media-stats-stale");
    }

    /// <summary>
    /// The service does not listen on <paramref name="port"/> (connections to it are refused) while it runs, across its
    /// restarts, until <see cref="OpenPort"/> or <see cref="ClearFaults"/>. Returns once the service host has closed it.
    /// </summary>
    public void ClosePort(int port) => ChangePorts(port, closed: true);

    /// <summary>Undoes <see cref="ClosePort"/>: a running service listens on the port again once this returns.</summary>
    public void OpenPort(int port) => ChangePorts(port, closed: false);

    private void ChangePorts(int port, bool closed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(port, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        lock (_portsLock)
        {
            var ports = ClosedPorts.ToHashSet();
            if (!(closed ? ports.Add(port) : ports.Remove(port))) return;
            if (ports.Count == 0) DeleteState("closed-ports");
            else WriteState("closed-ports", string.Concat(ports.Order().Select(p => p.ToString(CultureInfo.InvariantCulture) + "\n")));
            ApplyPorts();
        }
    }

    /// <summary>Has the service host apply the closed-ports file to a running service now (a stopped one reads it at start).</summary>
    private void ApplyPorts()
    {
        if (AskServiceHost("ports") != 0)
            throw new LabException($"{Name}: the service host could not listen on the reopened ports (see journalctl -u openvidu).");
    }

    /// <summary>
    /// Clears every fault switch (installer failure, delay, echo and missing banner, updater failure and delay, verbose
    /// service, restarting container, stale media stats, closed ports).
    /// </summary>
    public void ClearFaults()
    {
        foreach (var name in new[] { "installer-fail", "installer-delay", "installer-echo", "installer-no-banner", "updater-fail", "updater-delay",
                     "service-verbose", "restarting-container", "media-stats-stale" })
            DeleteState(name);
        lock (_portsLock)
        {
            if (!File.Exists(Path.Combine(NodeImage.State(_directory), "closed-ports"))) return;
            DeleteState("closed-ports");
            ApplyPorts();
        }
    }

    /// <summary>
    /// The machine goes off: its sshd, every connection, every process in the node (sessions, background jobs) killed,
    /// connections refused, and its openvidu service stopped (its ports closed). <see cref="PowerOnAsync"/> boots it.
    /// </summary>
    public async Task PowerOffAsync(CancellationToken ct = default)
    {
        if (!PoweredOn) return;
        // Nothing runs in the node any more (no systemctl can start the service behind our back), then the service stops.
        await _lab.Supervisor.SendAsync($"power-off {Index}", TimeSpan.FromSeconds(30), ct);
        SshRunning = false;
        PoweredOn = false;
        _serviceAtPowerOff = ServiceActive;
        await Task.Run(() => AskServiceHost("stop"), ct);
    }

    /// <summary>
    /// The machine boots: the openvidu service starts again if it was running at power off and its unit is enabled
    /// (systemd starts the enabled unit; <see cref="ServiceEnabled"/>), then sshd. Returns once the service's ports and
    /// sshd listen.
    /// </summary>
    public async Task PowerOnAsync(CancellationToken ct = default)
    {
        if (_serviceAtPowerOff && ServiceEnabled && await Task.Run(() => AskServiceHost("start"), ct) != 0)
            throw new LabException($"{Name}: the openvidu service failed to start at boot (see journalctl -u openvidu).");
        _serviceAtPowerOff = false;
        await StartSshAsync(ct);
        PoweredOn = true;
    }

    /// <summary>Asks the lab's service host, like the node's systemctl does: start, stop, restart or ports; its exit code.</summary>
    internal int AskServiceHost(string verb) =>
        ServiceHostClient.Ask(_lab.ServiceFifo, verb, Address, Name, NodeImage.State(_directory), TimeSpan.FromSeconds(30));

    public override string ToString() => $"{Name} ({Address})";

    internal void Booted(int holderPid)
    {
        _holderPid = holderPid;
        Namespace = new FileInfo($"/proc/{holderPid}/ns/mnt").LinkTarget ?? "";
        SshRunning = true;
    }

    /// <summary>The node's mount namespace as /proc names it (<c>mnt:[N]</c>), once booted.</summary>
    internal string Namespace { get; private set; } = "";

    private void WriteState(string name, string content)
    {
        var path = Path.Combine(NodeImage.State(_directory), name);
        File.WriteAllText(path + ".tmp", content);
        File.Move(path + ".tmp", path, overwrite: true);
    }

    private void DeleteState(string name) => File.Delete(Path.Combine(NodeImage.State(_directory), name));

    private string ReadStateOrEmpty(string name)
    {
        try
        {
            return File.ReadAllText(Path.Combine(NodeImage.State(_directory), name));
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            return "";
        }
    }

    /// <summary>A count in a state file (rooms): 0 when missing or not a number.</summary>
    private int ReadCount(string name) =>
        int.TryParse(ReadStateOrEmpty(name).Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out var count) ? count : 0;

    /// <summary>The running service's start as <c>service.pid</c>'s second line holds it, or null while it is stopped.</summary>
    private string? ServiceStamp()
    {
        if (!ServiceActive) return null;
        var lines = ReadStateOrEmpty("service.pid").Split('\n');
        return lines.Length > 1 && lines[1].Trim().Length > 0 ? lines[1].Trim() : null;
    }

    /// <summary>The value of <c>key=value</c> among a state line's space-separated words, or "".</summary>
    private static string Field(string line, string key) =>
        line.Split(' ', StringSplitOptions.RemoveEmptyEntries).FirstOrDefault(f => f.StartsWith(key + "=", StringComparison.Ordinal))?[(key.Length + 1)..].Trim() ?? "";

    private static DateTimeOffset Epoch(string seconds) =>
        DateTimeOffset.FromUnixTimeMilliseconds((long)Math.Round(double.Parse(seconds, CultureInfo.InvariantCulture) * 1000));

    private (string PublicKey, string Fingerprint) ReadHostKey()
    {
        var path = _holderPid == 0 ? NodeImage.HostKeyFile(_directory) + ".pub" : HostPath(NodeImage.HostKeyNodePath + ".pub");
        var fields = File.ReadAllText(path).Trim().Split(' ');
        var blob = Convert.FromBase64String(fields[1]);
        return ($"{fields[0]} {fields[1]}", "SHA256:" + Convert.ToBase64String(SHA256.HashData(blob)).TrimEnd('='));
    }
}
