using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Preflight;

public enum CheckStatus
{
    Pass,
    Warning,
    Fail,
}

public sealed record PreflightCheck(string Name, CheckStatus Status, string Detail);

/// <summary>A TCP port one role must reach on another, from the install guide's tables.</summary>
public sealed record InternalPort(NodeRole From, NodeRole To, int Port, string Purpose);

/// <summary>
/// Checks each machine before anything is installed: SSH and root, OS, CPU, memory, disk, bash and curl, the private
/// IP really on the machine, the installer script downloaded as an install would (and its pinned SHA-256), TCP
/// reachability between nodes (tried from each node), clock skew. The host key of a
/// node seen for the first time is recorded for the operator to confirm; nothing runs on it before that.
/// </summary>
public sealed class PreflightHandler(NodeOps ops, ISshConnector ssh, TimeProvider clock) : IJobHandler
{
    public const int MinCpus = 4;
    public const long MinMemoryKb = 3_800_000; // 4 GB machines report a little less in MemTotal
    public const long RecommendedMasterDiskKb = 100L * 1000 * 1000;
    public static readonly TimeSpan ClockSkewWarning = TimeSpan.FromSeconds(2);
    public static readonly TimeSpan ClockSkewFailure = TimeSpan.FromSeconds(30);

    public IEnumerable<JobKind> Kinds => [JobKind.Preflight];

    public Task RunAsync(JobRun run) => ops.ForEachAsync(run.Scope, node => CheckNodeAsync(run, node));

    public static IReadOnlyList<InternalPort> InternalPorts(ClusterDefinition cluster)
    {
        var ports = new List<InternalPort>();
        foreach (var from in new[] { NodeRole.Master, NodeRole.Media })
        {
            ports.Add(new(from, NodeRole.Master, 7000, "Redis"));
            ports.Add(new(from, NodeRole.Master, 7001, "Redis"));
            ports.Add(new(from, NodeRole.Master, 9100, "MinIO"));
            ports.Add(new(from, NodeRole.Master, 20000, "MongoDB"));
        }
        ports.Add(new(NodeRole.Master, NodeRole.Media, 7880, "LiveKit API"));
        if (cluster.HasModule(Modules.Observability))
        {
            foreach (var port in new[] { 7946, 7947, 9095, 9096 }) ports.Add(new(NodeRole.Master, NodeRole.Master, port, "Mimir/Loki cluster"));
            ports.Add(new(NodeRole.Media, NodeRole.Master, 3100, "Loki"));
            ports.Add(new(NodeRole.Media, NodeRole.Master, 9009, "Mimir"));
        }
        if (cluster.HasModule(Modules.V2Compatibility)) ports.Add(new(NodeRole.Media, NodeRole.Master, 4443, "v2 compatibility"));
        if (cluster.Generation == InstallerGeneration.V30 && cluster.HasModule(Modules.App)) ports.Add(new(NodeRole.Media, NodeRole.Master, 6080, "OpenVidu Call"));
        return ports;
    }

    private async Task CheckNodeAsync(JobRun run, JobNode node)
    {
        var context = run.Context;
        await context.SetNodeAsync(node.Id, NodeJobState.Running, "Connecting");
        if (node.Ssh.PinnedFingerprint is null)
        {
            await RecordFirstContactAsync(run, node);
            return;
        }

        var checks = new List<PreflightCheck>();
        try
        {
            await using var session = await ops.ConnectAsync(run, node);
            checks.Add(new("ssh", CheckStatus.Pass, $"{node.Ssh.Username}@{node.Ssh.Host}:{node.Ssh.Port}, host key {session.PresentedFingerprint}"));

            var targets = InternalPorts(run.Cluster)
                .Where(p => p.From == node.Role)
                .SelectMany(p => run.AllNodes.Where(n => n.Role == p.To && n.Id != node.Id).Select(n => (Node: n, Port: p)))
                .ToList();
            // The clock alone in one short round trip: the node's time is compared with the panel's at its midpoint.
            var started = clock.GetUtcNow();
            var clockAnswer = await ops.RunQuietAsync(run, session, "echo \"epoch=$(date +%s.%N)\"", "clock");
            var finished = clock.GetUtcNow();
            var result = await ops.RunQuietAsync(run, session, Script(run.Cluster, node, targets.Select(t => (t.Node.Definition.PrivateIp, t.Port.Port))), "preflight checks");
            var facts = Parse(result.Stdout + clockAnswer.Stdout);
            Evaluate(run.Cluster, node, facts, started + (finished - started) / 2, checks);
            foreach (var (target, port) in targets)
            {
                var answer = facts.GetValueOrDefault($"tcp {target.Definition.PrivateIp} {port.Port}", "unknown");
                var name = $"tcp {target.Name} {port.Port}";
                checks.Add(answer switch
                {
                    "open" => new(name, CheckStatus.Pass, $"{port.Purpose}: open"),
                    "refused" => new(name, CheckStatus.Pass, $"{port.Purpose}: reachable (nothing listens yet)"),
                    "timeout" => new(name, CheckStatus.Fail, $"{port.Purpose}: no answer from {target.Definition.PrivateIp}:{port.Port} within 5 s: a firewall drops it"),
                    _ => new(name, CheckStatus.Fail, $"{port.Purpose}: {answer}"),
                });
            }
        }
        catch (SshFailureException e)
        {
            checks.Add(new("ssh", CheckStatus.Fail, e.Message));
        }

        foreach (var check in checks.Where(c => c.Status != CheckStatus.Pass))
            await context.LogAsync(node.Name, $"{check.Status.ToString().ToUpperInvariant()} {check.Name}: {check.Detail}");
        var failed = checks.Count(c => c.Status == CheckStatus.Fail);
        var warned = checks.Count(c => c.Status == CheckStatus.Warning);
        var state = failed > 0 ? NodeJobState.Failed : warned > 0 ? NodeJobState.Warning : NodeJobState.Succeeded;
        var summary = failed > 0 ? $"{failed} check(s) failed: {string.Join("; ", checks.Where(c => c.Status == CheckStatus.Fail).Select(c => $"{c.Name}: {c.Detail}"))}"
            : warned > 0 ? $"Passed with {warned} warning(s)" : $"All {checks.Count} checks passed";
        await context.SetNodeAsync(node.Id, state, summary, checks);
    }

    private async Task RecordFirstContactAsync(JobRun run, JobNode node)
    {
        try
        {
            var presented = await ssh.ProbeHostKeyAsync(node.Ssh.Host, node.Ssh.Port, ops.Options.ConnectTimeout, run.Cancellation);
            await ops.RecordPresentedKeyAsync(node, presented);
            var message = SshFailureException.NotConfirmed(node.Ssh, presented).Message;
            await run.Context.LogAsync(node.Name, message);
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, message,
                new[] { new PreflightCheck("host key", CheckStatus.Fail, $"Not confirmed yet: the host presented {presented}") });
        }
        catch (SshFailureException e)
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message, new[] { new PreflightCheck("ssh", CheckStatus.Fail, e.Message) });
        }
    }

    internal static string Script(ClusterDefinition cluster, JobNode node, IEnumerable<(string Ip, int Port)> targets)
    {
        var ip = node.Definition.PrivateIp;
        var installer = ShellQuote.Quote(InstallCommandsArtifact.InstallerUrl(cluster, node.Role));
        var curl = InstallCommandsArtifact.CurlOptions(cluster);
        var script = new StringBuilder();
        script.AppendLine("echo \"uid=$(id -u)\"");
        script.AppendLine("( . /etc/os-release 2>/dev/null; echo \"os=${PRETTY_NAME:-unknown}\" )");
        script.AppendLine("echo \"cpus=$(nproc 2>/dev/null || echo 0)\"");
        script.AppendLine("echo \"mem_kb=$(awk '/^MemTotal:/{print $2}' /proc/meminfo 2>/dev/null)\"");
        script.AppendLine("d=/opt; [ -d /opt/openvidu ] && d=/opt/openvidu; echo \"disk_kb=$(df -Pk \"$d\" 2>/dev/null | awk 'NR==2{print $4}')\"");
        script.AppendLine("echo \"bash=$(command -v bash || true)\"");
        script.AppendLine("echo \"curl=$(command -v curl || true)\"");
        script.AppendLine($"echo \"ip_route=$(ip -o route get {ip} 2>/dev/null | awk '{{print $1}}' | head -n 1)\"");
        // The installer as an install downloads it: same URL and curl options; its digest, or curl's reason.
        script.AppendLine($"( set -o pipefail; if s=$(curl {curl} --max-time 30 {installer} 2>/dev/null | sha256sum); then echo \"installer_sha256=${{s%% *}}\"; " +
                          $"else echo \"installer_error=$(curl {curl} --max-time 30 -o /dev/null {installer} 2>&1 | tail -n 1)\"; fi )");
        script.AppendLine("probe() { out=$(timeout 5 bash -c \"exec 3<>/dev/tcp/$1/$2\" 2>&1); rc=$?; " +
                          "if [ $rc -eq 0 ]; then r=open; elif [ $rc -eq 124 ]; then r=timeout; " +
                          "elif printf '%s' \"$out\" | grep -qi refused; then r=refused; else r=\"error: $(printf '%s' \"$out\" | tail -n 1)\"; fi; " +
                          "echo \"tcp $1 $2=$r\"; }");
        foreach (var (targetIp, port) in targets.Distinct()) script.AppendLine($"probe {targetIp} {port} &");
        script.AppendLine("wait");
        return script.ToString();
    }

    private static PreflightCheck InstallerCheck(ClusterDefinition cluster, JobNode node, IReadOnlyDictionary<string, string> facts)
    {
        var url = InstallCommandsArtifact.InstallerUrl(cluster, node.Role);
        var pinned = cluster.InstallerSha256(node.Role);
        if (facts.GetValueOrDefault("installer_sha256") is not { Length: 64 } actual)
            return new("installer", CheckStatus.Fail, $"{url} cannot be downloaded from this node: {facts.GetValueOrDefault("installer_error", "no answer")}" +
                (InstallCommandsArtifact.InstallerUsesHttps(cluster) ? ". If the mirror does not answer over https from here, use one that does, or http with pinned digests." : ""));
        if (pinned is not null && actual != pinned)
            return new("installer", CheckStatus.Fail, $"{url} has SHA-256 {actual}, not the pinned {pinned}: an install would refuse to run it");
        return pinned is not null ? new("installer", CheckStatus.Pass, $"{url}, SHA-256 {actual}, as pinned")
            : InstallCommandsArtifact.InstallerUsesHttps(cluster) ? new("installer", CheckStatus.Pass, $"{url} over https, SHA-256 {actual} (not pinned)")
            : new("installer", CheckStatus.Warning, $"{url} over plain http, SHA-256 {actual}, not pinned: anything on the network path could change it");
    }

    internal static Dictionary<string, string> Parse(string output)
    {
        var facts = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n'))
        {
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq > 0) facts[line[..eq].Trim()] = line[(eq + 1)..].Trim();
        }
        return facts;
    }

    internal static void Evaluate(ClusterDefinition cluster, JobNode node, IReadOnlyDictionary<string, string> facts, DateTimeOffset panelTime, List<PreflightCheck> checks)
    {
        var uid = facts.GetValueOrDefault("uid");
        checks.Add(uid == "0" ? new("root", CheckStatus.Pass, node.Ssh.IsRoot ? "logged in as root" : $"sudo works for {node.Ssh.Username}")
            : new("root", CheckStatus.Fail, $"commands run as uid {uid}, not root"));
        checks.Add(new("os", CheckStatus.Pass, facts.GetValueOrDefault("os", "unknown")));

        var cpus = int.TryParse(facts.GetValueOrDefault("cpus"), out var c) ? c : 0;
        checks.Add(cpus >= MinCpus ? new("cpu", CheckStatus.Pass, $"{cpus} cores")
            : new("cpu", CheckStatus.Fail, $"{cpus} cores: OpenVidu needs at least {MinCpus}"));

        var memKb = long.TryParse(facts.GetValueOrDefault("mem_kb"), out var m) ? m : 0;
        checks.Add(memKb >= MinMemoryKb ? new("memory", CheckStatus.Pass, $"{memKb / 1024 / 1024.0:0.0} GB")
            : new("memory", CheckStatus.Fail, $"{memKb / 1024 / 1024.0:0.0} GB: OpenVidu needs at least 4 GB"));

        var diskKb = long.TryParse(facts.GetValueOrDefault("disk_kb"), out var d) ? d : 0;
        checks.Add(node.Role == NodeRole.Master && diskKb < RecommendedMasterDiskKb
            ? new("disk", CheckStatus.Warning, $"{diskKb / 1000 / 1000.0:0} GB free: masters want about 100 GB (recordings)")
            : new("disk", CheckStatus.Pass, $"{diskKb / 1000 / 1000.0:0} GB free"));

        foreach (var tool in new[] { "bash", "curl" })
        {
            checks.Add(string.IsNullOrEmpty(facts.GetValueOrDefault(tool)) ? new(tool, CheckStatus.Fail, $"{tool} is missing: the installer needs it")
                : new(tool, CheckStatus.Pass, facts[tool]));
        }

        checks.Add(InstallerCheck(cluster, node, facts));

        checks.Add(facts.GetValueOrDefault("ip_route") == "local"
            ? new("private ip", CheckStatus.Pass, $"{node.Definition.PrivateIp} is an address of this machine")
            : new("private ip", CheckStatus.Fail, $"{node.Definition.PrivateIp} is not an address of this machine: check the node's private IP"));

        if (double.TryParse(facts.GetValueOrDefault("epoch"), NumberStyles.Float, CultureInfo.InvariantCulture, out var epoch))
        {
            var skew = TimeSpan.FromSeconds(Math.Abs(epoch - panelTime.ToUnixTimeMilliseconds() / 1000.0));
            checks.Add(skew > ClockSkewFailure ? new("clock", CheckStatus.Fail, $"{skew.TotalSeconds:0.0} s off the panel's clock: enable NTP")
                : skew > ClockSkewWarning ? new("clock", CheckStatus.Warning, $"{skew.TotalSeconds:0.0} s off the panel's clock")
                : new("clock", CheckStatus.Pass, $"{skew.TotalMilliseconds:0} ms off the panel's clock"));
        }
        else
        {
            checks.Add(new("clock", CheckStatus.Warning, "could not read the node's clock"));
        }
    }
}
