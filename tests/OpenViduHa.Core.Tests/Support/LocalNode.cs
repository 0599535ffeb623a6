using System.Diagnostics;
using System.Text;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// A node for the job handlers: a real OpenSSH server (Debian's sshd) on a free port of 127.0.0.1, in a private mount
/// namespace of this machine (its own <c>/tmp</c>, <c>/run</c> and <c>/opt</c> on tmpfs), accepting root with
/// <see cref="TestKeys.Ed25519"/>, SFTP included. The panel reaches it through its real SSH engine
/// (<see cref="SshNetConnector"/>, host key pinned); the commands it sends run in real bash with the real coreutils,
/// while <c>systemctl</c>, <c>curl</c> and the OpenVidu installer are stubs whose state is files under
/// <see cref="StubDirectory"/>. Besides root, three login users take <see cref="UserPassword"/> (or the test key) and
/// reach root through the real sudo (the node's own passwd, shadow, group and sudoers are bind-mounted over the
/// machine's, in its namespace only): <c>deploy</c> (sudo asks its password), <c>nopasswd</c> (NOPASSWD) and
/// <c>nosudo</c> (not in sudoers). Needs root (unshare, nsenter), as the rest of the suite does.
/// </summary>
public sealed class LocalNode : IAsyncDisposable
{
    public const string StubDirectory = "/opt/ovha-stub";
    private const string Path = $"{StubDirectory}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private const string SftpServer = "/usr/lib/openssh/sftp-server";

    /// <summary>The SSH password (and, for <c>deploy</c>, the sudo password) of the node's login users other than root.</summary>
    public const string UserPassword = "local node pass 1";

    /// <summary>
    /// The namespace: its own /tmp /run /opt /root, and its own user database: the machine's, plus the login users, with
    /// a sudoers of its own (sudo keeps the stubs' PATH and the variables the stubs read).
    /// </summary>
    private const string NamespaceScript = $$"""
        set -e
        for d in /tmp /run /opt /root; do mount -t tmpfs ovha-node "$d"; done
        mkdir -p /run/sshd
        e="$OVHA_DIR/etc"; mkdir -p "$e"
        cp /etc/passwd /etc/shadow /etc/group "$e/"
        hash=$(printf '%s' "$OVHA_PASSWORD" | openssl passwd -6 -stdin)
        for u in deploy:4242 nopasswd:4243 nosudo:4244; do
          n=${u%:*}; i=${u#*:}
          echo "$n:x:$i:$i::/run/home-$n:/bin/bash" >>"$e/passwd"
          echo "$n:$hash:19000:0:99999:7:::" >>"$e/shadow"
          echo "$n:x:$i:" >>"$e/group"
          mkdir -p "/run/home-$n"; chown "$i:$i" "/run/home-$n"
        done
        cat >"$e/sudoers" <<SUDOERS
        Defaults secure_path="{{Path}}"
        Defaults env_keep += "OVHA_NODE OVHA_SHARED_LOG"
        Defaults !lecture
        root ALL=(ALL:ALL) ALL
        deploy ALL=(ALL:ALL) ALL
        nopasswd ALL=(ALL:ALL) NOPASSWD: ALL
        SUDOERS
        chmod 440 "$e/sudoers"
        for f in passwd shadow group sudoers; do mount --bind "$e/$f" "/etc/$f"; done
        echo ready
        exec cat >/dev/null
        """;
    private readonly Process _holder;
    private readonly string _directory;
    private Process? _sshd;
    private int _sshdPid;

    private LocalNode(NodeDefinition definition, Process holder, string directory)
    {
        Definition = definition;
        _holder = holder;
        _directory = directory;
    }

    public NodeDefinition Definition { get; }
    public string Name => Definition.Name;

    /// <summary>The port sshd listens on, on 127.0.0.1.</summary>
    public int Port { get; private set; }

    /// <summary>sshd's host key, as ssh-keygen prints it.</summary>
    public string HostKeyFingerprint { get; private set; } = "";

    /// <summary>Every command line the node's sshd was sent, in order (SFTP sessions left out).</summary>
    public IReadOnlyList<string> Commands => Sessions().Where(c => c != SftpServer).ToList();

    /// <summary>How many SFTP sessions the node's sshd started.</summary>
    public int SftpSessions => Sessions().Count(c => c == SftpServer);

    /// <summary>What the recorder wrote per session: its command NUL; a record being written (no final NUL yet) is left out.</summary>
    private IEnumerable<string> Sessions()
    {
        var fields = (Read($"{StubDirectory}/commands") ?? "").Split('\0');
        return fields.Take(fields.Length - 1);
    }

    /// <param name="sharedLog">A file outside the namespace's own folders where every node's stand-in systemctl writes
    /// "node systemctl verb", so that a test sees the order across nodes.</param>
    public static async Task<LocalNode> StartAsync(NodeDefinition definition, string? sharedLog = null)
    {
        // Not under /tmp: the node's namespace mounts its own /tmp over it.
        var directory = Directory.CreateDirectory($"/var/tmp/ovha-node-{Guid.NewGuid():N}").FullName;
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "--mount", "--propagation", "private", "--", "bash", "-c", NamespaceScript })
            info.ArgumentList.Add(a);
        info.Environment["OVHA_DIR"] = directory;
        info.Environment["OVHA_PASSWORD"] = UserPassword;
        var holder = Process.Start(info)!;
        var ready = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready")
            throw new InvalidOperationException($"Could not make a mount namespace for {definition.Name} (root needed): {await holder.StandardError.ReadToEndAsync()}");
        var node = new LocalNode(definition, holder, directory);
        node.WriteStubs();
        await node.ConfigureSshdAsync(sharedLog);
        await node.StartSshdAsync();
        return node;
    }

    /// <summary>From now on the node's sshd is gone: connecting is refused.</summary>
    public void RefuseConnections()
    {
        _sshd?.Kill(entireProcessTree: true);
        _sshd?.WaitForExit();
    }

    /// <summary>
    /// The node's sshd comes back on the same port with a new host key, as a machine rebuilt (or an attacker) at the
    /// node's address would: its connections are dropped.
    /// </summary>
    public async Task ChangeHostKeyAsync()
    {
        RefuseConnections();
        await MakeHostKeyAsync();
        await StartSshdAsync();
    }

    /// <summary>From now on the node's sshd is frozen (SIGSTOP): it takes the connection and never answers, as a hung host does.</summary>
    public void Hang() => Signal("STOP");

    /// <summary>
    /// From now on the node's sshd and every session it runs are frozen (SIGSTOP): open connections stay open and
    /// nothing on them is answered, as on a host that hangs under load.
    /// </summary>
    public void HangSessions()
    {
        if (_sshd is null || _sshd.HasExited) return;
        var pids = new List<int> { _sshdPid };
        for (var i = 0; i < pids.Count; i++) pids.AddRange(ChildrenOf(pids[i]));
        using var kill = Process.Start("kill", ["-STOP", .. pids.Select(p => p.ToString(System.Globalization.CultureInfo.InvariantCulture))]);
        kill.WaitForExit();
    }

    private static List<int> ChildrenOf(int pid)
    {
        var children = $"/proc/{pid}/task/{pid}/children";
        return File.Exists(children)
            ? File.ReadAllText(children).Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(int.Parse).ToList()
            : [];
    }

    /// <summary>A new ed25519 host key in the node's folder (any earlier one replaced), and its fingerprint.</summary>
    private async Task MakeHostKeyAsync()
    {
        var host = System.IO.Path.Combine(_directory, "host");
        File.Delete(host);
        File.Delete(host + ".pub");
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", Name, "-f", host);
        HostKeyFingerprint = (await RunAsync("ssh-keygen", "-l", "-E", "sha256", "-f", host + ".pub")).Split(' ')[1];
    }

    private async Task ConfigureSshdAsync(string? sharedLog)
    {
        await MakeHostKeyAsync();
        var user = System.IO.Path.Combine(_directory, "user");
        File.WriteAllText(user, TestKeys.Ed25519);
        File.SetUnixFileMode(user, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        var encrypted = System.IO.Path.Combine(_directory, "user-encrypted");
        File.WriteAllText(encrypted, TestKeys.Ed25519Encrypted);
        File.SetUnixFileMode(encrypted, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        // The plain test key and the passphrase-protected one.
        File.WriteAllText(System.IO.Path.Combine(_directory, "authorized_keys"),
            await RunAsync("ssh-keygen", "-y", "-f", user) + await RunAsync("ssh-keygen", "-y", "-P", TestKeys.Passphrase, "-f", encrypted));
        // The forced command records the session's command (NUL-terminated, one write), then runs it as sshd would have.
        var recorder = System.IO.Path.Combine(_directory, "record");
        File.WriteAllText(recorder, $$"""
            #!/bin/sh
            if [ -n "${SSH_ORIGINAL_COMMAND+set}" ]; then
              c=$SSH_ORIGINAL_COMMAND
              unset SSH_ORIGINAL_COMMAND
              printf '%s\0' "$c" >>{{StubDirectory}}/commands
              exec "${SHELL:-/bin/sh}" -c "$c"
            fi
            printf '\0' >>{{StubDirectory}}/commands
            exec "${SHELL:-/bin/sh}" -l

            """);
        File.SetUnixFileMode(recorder, (UnixFileMode)0b111_101_101);
        Port = FreePort.Get();
        // OpenSSH 9.8 and later penalise addresses that fail to authenticate; every test connects from 127.0.0.1.
        var penalties = await OpenSshVersion.Value >= new Version(9, 8) ? "PerSourcePenalties no" : "";
        File.WriteAllText(System.IO.Path.Combine(_directory, "sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {System.IO.Path.Combine(_directory, "host")}
            AuthorizedKeysFile {_directory}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication yes
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile none
            MaxStartups 100
            MaxSessions 100
            UseDNS no
            LogLevel ERROR
            PrintMotd no
            PrintLastLog no
            SetEnv PATH={Path} OVHA_NODE={Name} OVHA_SHARED_LOG={sharedLog ?? "/dev/null"}
            Subsystem sftp {SftpServer}
            ForceCommand {recorder}
            {penalties}
            """);
    }

    /// <summary>
    /// sshd runs under a bash in the node's namespace that holds our pipe on its stdin: when this process ends, even
    /// killed (Stryker kills test hosts that time out), the pipe closes and bash ends sshd, as the holder ends itself. No
    /// node outlives its test run.
    /// </summary>
    private async Task StartSshdAsync()
    {
        var info = new ProcessStartInfo("/usr/bin/nsenter") { RedirectStandardError = true, RedirectStandardOutput = true, RedirectStandardInput = true, UseShellExecute = false };
        var config = System.IO.Path.Combine(_directory, "sshd_config");
        foreach (var a in new[] { "--target", _holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--",
                     "/bin/bash", "-c", $"/usr/sbin/sshd -D -e -f {config} </dev/null & echo $!; cat >/dev/null; kill -TERM $!; kill -CONT $!" })
            info.ArgumentList.Add(a);
        var errors = new StringBuilder();
        _sshd = Process.Start(info)!;
        _sshdPid = int.Parse((await _sshd.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30)))!, System.Globalization.CultureInfo.InvariantCulture);
        _sshd.ErrorDataReceived += (_, e) => { lock (errors) errors.AppendLine(e.Data); };
        _sshd.BeginErrorReadLine();
        await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(30), () => { lock (errors) return $"sshd of {Name} did not start: {errors}"; });
    }

    private void Signal(string signal)
    {
        if (_sshd is null || _sshd.HasExited) return;
        using var kill = Process.Start("kill", ["-" + signal, _sshdPid.ToString(System.Globalization.CultureInfo.InvariantCulture)]);
        kill.WaitForExit();
    }

    private static readonly Lazy<Task<Version>> OpenSshVersion = new(async () =>
    {
        var banner = (await ProcessRunner.RunAsync("ssh", ["-V"])).Output; // OpenSSH_9.2p1 Debian-2+deb12u3, OpenSSL …
        var match = System.Text.RegularExpressions.Regex.Match(banner, @"OpenSSH_(\d+)\.(\d+)");
        return match.Success ? new Version(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value)) : new Version(0, 0);
    });

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments);
        if (result.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {result}");
        return result.StdOut;
    }

    /// <summary>A path of the node's file system as this process sees it.</summary>
    public string HostPath(string path) => $"/proc/{_holder.Id}/root{path}";

    public bool Exists(string path) => File.Exists(HostPath(path)) || Directory.Exists(HostPath(path));

    public string? Read(string path) => File.Exists(HostPath(path)) ? File.ReadAllText(HostPath(path)) : null;

    public void Write(string path, string content, UnixFileMode? mode = null)
    {
        Directory.CreateDirectory(System.IO.Path.GetDirectoryName(HostPath(path))!);
        File.WriteAllText(HostPath(path), content);
        if (mode is not null) File.SetUnixFileMode(HostPath(path), mode.Value);
    }

    /// <summary>Entries of a folder of the node (names only), empty when it does not exist.</summary>
    public IReadOnlyList<string> List(string directory) =>
        Directory.Exists(HostPath(directory)) ? Directory.EnumerateFileSystemEntries(HostPath(directory)).Select(System.IO.Path.GetFileName).OfType<string>().Order().ToList() : [];

    /// <summary>What the stand-in installer prints and how it exits (default: the role's success banner, 0).</summary>
    public void InstallerBehaves(string output, int exitCode)
    {
        Write($"{StubDirectory}/installer-output", output);
        Write($"{StubDirectory}/installer-exit", exitCode.ToString(System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>From now on the stand-in installer waits (60 s) after it started: for cancels.</summary>
    public void InstallerWaits() => Write($"{StubDirectory}/installer-waits", "");

    /// <summary>Whether the stand-in installer has started on this node.</summary>
    public bool InstallerStarted => Exists($"{StubDirectory}/installer-args");

    /// <summary>The HTTP status the node's health endpoint answers while its service is active.</summary>
    public void HealthAnswers(string code) => Write($"{StubDirectory}/health-code", code);

    public void SystemctlFails(bool fails = true)
    {
        if (fails) Write($"{StubDirectory}/systemctl-fails", "");
        else File.Delete(HostPath($"{StubDirectory}/systemctl-fails"));
    }

    /// <summary>The openvidu service's state: "active" or "inactive".</summary>
    public string Service
    {
        get => Read($"{StubDirectory}/service")?.Trim() ?? "";
        set => Write($"{StubDirectory}/service", value + "\n");
    }

    /// <summary>The systemctl verbs the node got, in order.</summary>
    public IReadOnlyList<string> SystemctlCalls => (Read($"{StubDirectory}/systemctl.log") ?? "").Split('\n', StringSplitOptions.RemoveEmptyEntries);

    /// <summary>The arguments the stand-in installer got (one per line), or null when it never ran.</summary>
    public IReadOnlyList<string>? InstallerArguments => Read($"{StubDirectory}/installer-args")?.Split('\n', StringSplitOptions.RemoveEmptyEntries);

    private void WriteStubs()
    {
        const UnixFileMode executable = (UnixFileMode)0b111_101_101;
        var banner = Definition.Role == NodeRole.Master ? InstallHandler.MasterBanner : InstallHandler.MediaBanner;
        Service = "inactive";
        HealthAnswers("200");
        InstallerBehaves($"Pulling images\n{banner}\n", 0);
        // Every login user's session records its command here.
        Write($"{StubDirectory}/commands", "", (UnixFileMode)0b110_110_110);
        Write($"{StubDirectory}/bin/systemctl", $$"""
            #!/bin/bash
            # Stand-in systemctl: the openvidu service's state is a file.
            s={{StubDirectory}}
            echo "$1" >> "$s/systemctl.log"
            if [ -n "${OVHA_SHARED_LOG:-}" ]; then echo "$OVHA_NODE systemctl $1" >> "$OVHA_SHARED_LOG"; fi
            if [ -e "$s/systemctl-fails" ]; then echo "Job for openvidu.service failed because the control process exited with error code." >&2; exit 1; fi
            case "$1" in
              start|restart) echo active > "$s/service" ;;
              stop) echo inactive > "$s/service" ;;
              is-active) cat "$s/service"; [ "$(cat "$s/service")" = active ] ;;
              *) echo "systemctl stand-in: $1 not known" >&2; exit 1 ;;
            esac

            """, executable);
        Write($"{StubDirectory}/bin/curl", $$"""
            #!/bin/bash
            # Stand-in curl: the installer download (-o FILE URL) and the health request (-w FORMAT URL) of this node.
            s={{StubDirectory}}
            out=""; format=""; url=""
            while [ $# -gt 0 ]; do
              case "$1" in
                -o) out="$2"; shift 2 ;;
                -w) format="$2"; shift 2 ;;
                --max-time|--proto|--proto-redir) shift 2 ;;
                -*) shift ;;
                *) url="$1"; shift ;;
              esac
            done
            if [ -n "$format" ]; then
              if [ "$(cat "$s/service")" = active ]; then cat "$s/health-code"; else printf 000; fi
              exit 0
            fi
            # The media node's script differs from the master's (one more comment line), as OpenVidu's two scripts do.
            script="$s/installer.sh"
            case "$url" in *media_node*) script="$s/installer-media.sh" ;; esac
            if [ ! -e "$script" ]; then echo 'curl: (22) The requested URL returned error: 404' >&2; exit 22; fi
            if [ -n "$out" ]; then cp "$script" "$out"; else cat "$script"; fi

            """, executable);
        Write($"{StubDirectory}/installer.sh", $$"""
            #!/bin/sh
            # Stand-in OpenVidu installer: keeps its arguments, prints what the test asked for, exits as asked.
            s={{StubDirectory}}
            printf '%s\n' "$@" > "$s/installer-args"
            if [ -e "$s/installer-waits" ]; then sleep 60; fi
            cat "$s/installer-output"
            exit "$(cat "$s/installer-exit")"

            """);
        Write($"{StubDirectory}/installer-media.sh", Read($"{StubDirectory}/installer.sh") + "# media node\n");
    }

    public async ValueTask DisposeAsync()
    {
        // SIGKILL also ends a sshd frozen by Hang.
        RefuseConnections();
        _sshd?.Dispose();
        try
        {
            // The holder is cat alone (bash exec'd it): its end ends the namespace and its tmpfs mounts.
            _holder.Kill();
            await _holder.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _holder.Dispose();
        Directory.Delete(_directory, recursive: true);
    }
}
