using System.Diagnostics;
using System.Text;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// A node for the job handlers without sshd: a private mount namespace of this machine (its own <c>/tmp</c>, <c>/run</c>
/// and <c>/opt</c> on tmpfs) where the commands the panel sends run in real bash with the real coreutils, while
/// <c>systemctl</c>, <c>curl</c> and the OpenVidu installer are stubs whose state is files under <see cref="StubDirectory"/>.
/// Commands reach it through <see cref="LocalConnector"/>, the test double of the SSH boundary (<see cref="ISshConnector"/>):
/// what SSH.NET, sshd and sudo add is tested against the lab's real sshd in OpenViduHa.Install.Tests. Needs root
/// (unshare, nsenter), as the rest of the suite does.
/// </summary>
internal sealed class LocalNode : IAsyncDisposable
{
    public const string StubDirectory = "/opt/ovha-stub";
    private const string Path = $"{StubDirectory}/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
    private readonly Process _holder;
    private readonly List<string> _commands = [];

    private readonly string? _sharedLog;

    private LocalNode(NodeDefinition definition, Process holder, string? sharedLog)
    {
        Definition = definition;
        _holder = holder;
        _sharedLog = sharedLog;
        HostKeyFingerprint = PanelDatabase.Fingerprint(definition.PrivateIp);
    }

    public NodeDefinition Definition { get; }
    public string Name => Definition.Name;
    public string HostKeyFingerprint { get; }

    /// <summary>Every command line the node was sent, in order.</summary>
    public IReadOnlyList<string> Commands
    {
        get { lock (_commands) return [.. _commands]; }
    }

    /// <param name="sharedLog">A file outside the namespace's own folders where every node's stand-in systemctl writes
    /// "node systemctl verb", so that a test sees the order across nodes.</param>
    public static async Task<LocalNode> StartAsync(NodeDefinition definition, string? sharedLog = null)
    {
        var info = new ProcessStartInfo("unshare") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "--mount", "--propagation", "private", "--", "bash", "-c",
                     "set -e; for d in /tmp /run /opt; do mount -t tmpfs ovha-node \"$d\"; done; echo ready; exec sleep infinity" })
            info.ArgumentList.Add(a);
        var holder = Process.Start(info)!;
        var ready = await holder.StandardOutput.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(30));
        if (ready != "ready")
            throw new InvalidOperationException($"Could not make a mount namespace for {definition.Name} (root needed): {await holder.StandardError.ReadToEndAsync()}");
        var node = new LocalNode(definition, holder, sharedLog);
        node.WriteStubs();
        return node;
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

    /// <summary>Runs one command line in the node's namespace, as root, under bash, with stdin empty.</summary>
    public async Task<SshCommandResult> ExecAsync(string command, Action<OutputStream, string>? onLine, CancellationToken ct)
    {
        lock (_commands) _commands.Add(command);
        var info = new ProcessStartInfo("/usr/bin/nsenter") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        foreach (var a in new[] { "--target", _holder.Id.ToString(System.Globalization.CultureInfo.InvariantCulture), "--mount", "--", "/bin/bash", "-c", command })
            info.ArgumentList.Add(a);
        // A login's environment, not the test runner's.
        info.Environment.Clear();
        info.Environment["PATH"] = Path;
        info.Environment["HOME"] = "/root";
        info.Environment["LANG"] = "C.UTF-8";
        info.Environment["OVHA_NODE"] = Name;
        info.Environment["OVHA_SHARED_LOG"] = _sharedLog ?? "";
        using var process = Process.Start(info)!;
        process.StandardInput.Close();
        var stdout = Pump(process.StandardOutput, OutputStream.Stdout, onLine);
        var stderr = Pump(process.StandardError, OutputStream.Stderr, onLine);
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw;
        }
        return new SshCommandResult(process.ExitCode, await stdout, await stderr);
    }

    private static async Task<string> Pump(StreamReader reader, OutputStream kind, Action<OutputStream, string>? onLine)
    {
        var text = new StringBuilder();
        while (await reader.ReadLineAsync() is { } line)
        {
            text.Append(line).Append('\n');
            onLine?.Invoke(kind, line);
        }
        return text.ToString();
    }

    private void WriteStubs()
    {
        const UnixFileMode executable = (UnixFileMode)0b111_101_101;
        var banner = Definition.Role == NodeRole.Master ? InstallHandler.MasterBanner : InstallHandler.MediaBanner;
        Service = "inactive";
        HealthAnswers("200");
        InstallerBehaves($"Pulling images\n{banner}\n", 0);
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
            out=""; format=""
            while [ $# -gt 0 ]; do
              case "$1" in
                -o) out="$2"; shift 2 ;;
                -w) format="$2"; shift 2 ;;
                --max-time|--proto|--proto-redir) shift 2 ;;
                *) shift ;;
              esac
            done
            if [ -n "$format" ]; then
              if [ "$(cat "$s/service")" = active ]; then cat "$s/health-code"; else printf 000; fi
              exit 0
            fi
            if [ ! -e "$s/installer.sh" ]; then echo 'curl: (22) The requested URL returned error: 404' >&2; exit 22; fi
            if [ -n "$out" ]; then cp "$s/installer.sh" "$out"; else cat "$s/installer.sh"; fi

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
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            // The holder is sleep alone (bash exec'd it): its end ends the namespace and its tmpfs mounts.
            _holder.Kill();
            await _holder.WaitForExitAsync();
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _holder.Dispose();
    }
}

/// <summary>
/// The test double of the SSH boundary for the job handlers' orchestration: connects to <see cref="LocalNode"/>s by the
/// target's host, checks the pinned host key the way the real connector does (unpinned and mismatched keys refused), and
/// fails a node on demand the way SSH.NET would be reported (<see cref="Fail"/>).
/// </summary>
internal sealed class LocalConnector(IReadOnlyList<LocalNode> nodes) : ISshConnector
{
    private readonly Dictionary<string, SshFailureKind> _failing = new(StringComparer.Ordinal);
    private int _connects;

    public int Connects => Volatile.Read(ref _connects);

    /// <summary>From now on, connecting to the node fails (refused, timeout…).</summary>
    public void Fail(string nodeName, SshFailureKind kind)
    {
        lock (_failing) _failing[nodeName] = kind;
    }

    public Task<ISshSession> ConnectAsync(SshTarget target, SshConnectOptions options, CancellationToken ct)
    {
        ct.ThrowIfCancellationRequested();
        Interlocked.Increment(ref _connects);
        var node = nodes.Single(n => n.Definition.PrivateIp == target.Host);
        SshFailureKind? failure;
        lock (_failing) failure = _failing.TryGetValue(node.Name, out var kind) ? kind : null;
        if (failure is { } f)
        {
            throw f switch
            {
                SshFailureKind.ConnectionRefused => SshFailureException.Refused(target, new IOException("Connection refused")),
                SshFailureKind.Timeout => SshFailureException.TimedOut(target, options.ConnectTimeout, "connecting"),
                _ => new SshFailureException(f, $"{target.Host}:{target.Port} failed: {f}"),
            };
        }
        if (target.PinnedFingerprint is null) throw SshFailureException.NotConfirmed(target, node.HostKeyFingerprint);
        if (!Fingerprints.Equal(target.PinnedFingerprint, node.HostKeyFingerprint)) throw SshFailureException.Mismatch(target, node.HostKeyFingerprint);
        return Task.FromResult<ISshSession>(new LocalSession(node, target));
    }

    public Task<string> ProbeHostKeyAsync(string host, int port, TimeSpan timeout, CancellationToken ct) =>
        Task.FromResult(nodes.Single(n => n.Definition.PrivateIp == host).HostKeyFingerprint);

    private sealed class LocalSession(LocalNode node, SshTarget target) : ISshSession
    {
        private bool _disposed;

        public SshTarget Target => target;
        public string PresentedFingerprint => node.HostKeyFingerprint;
        public bool IsConnected => !_disposed;

        public async Task<SshCommandResult> RunAsync(string command, SshRunOptions options, CancellationToken ct)
        {
            // As SSH.NET reports a closed connection.
            if (_disposed) throw new SshFailureException(SshFailureKind.Disconnected, $"The SSH connection to {target.Host}:{target.Port} is closed.");
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
            timeout.CancelAfter(options.Timeout);
            try
            {
                return await node.ExecAsync(command, options.OnLine, timeout.Token);
            }
            catch (OperationCanceledException) when (!ct.IsCancellationRequested)
            {
                throw SshFailureException.TimedOut(target, options.Timeout, options.Description ?? "the command");
            }
        }

        public Task<byte[]?> DownloadAsync(string path, CancellationToken ct) =>
            Task.FromResult(File.Exists(node.HostPath(path)) ? File.ReadAllBytes(node.HostPath(path)) : null);

        public async Task UploadAsync(string path, byte[] content, CancellationToken ct)
        {
            // As SFTP does: the folder must exist.
            if (!Directory.Exists(System.IO.Path.GetDirectoryName(node.HostPath(path))))
                throw new SshFailureException(SshFailureKind.Disconnected, $"SFTP to {target.Host}:{target.Port} failed: no such folder for {path}");
            await File.WriteAllBytesAsync(node.HostPath(path), content, ct);
        }

        public ValueTask DisposeAsync()
        {
            _disposed = true;
            return ValueTask.CompletedTask;
        }
    }
}
