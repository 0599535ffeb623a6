using System.Globalization;
using System.Text;
using OpenViduHa.Core.Artifacts;

namespace OpenViduHa.Core.Status;

/// <summary>A port a node checks toward another node: <c>bash</c>'s <c>/dev/tcp</c> from the node itself.</summary>
public sealed record ProbeTarget(string Ip, IReadOnlyList<int> Ports);

/// <summary>What a node's probe printed, parsed.</summary>
public sealed record ProbeResult
{
    public string Service { get; init; } = "unknown";
    public NodeResources? Resources { get; init; }
    public IReadOnlyList<ContainerStatus> Containers { get; init; } = [];

    /// <summary>docker did not answer (its message), or null.</summary>
    public string? DockerError { get; init; }

    /// <summary>(ip, port) → open. A check that did not finish within the probe's port timeout is missing.</summary>
    public IReadOnlyDictionary<(string Ip, int Port), bool> Ports { get; init; } = new Dictionary<(string, int), bool>();

    /// <summary>The port checks ran to their end (none was cut by the timeout).</summary>
    public bool PortsComplete { get; init; }
}

/// <summary>
/// The one command a status sweep runs on a node: shell builtins where it can (load, memory, CPUs, port checks), and
/// <c>systemctl is-active</c>, <c>df</c>, <c>docker ps</c> and <c>docker inspect</c>. Port checks toward other nodes
/// run one background shell per target node, all bounded by <c>timeout</c>, so a silently dropping firewall costs
/// its own checks and nothing else. Output is one fact per line, sections start with <c>@</c>.
/// </summary>
public static class StatusProbe
{
    public const string PsFormat = @"{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}";
    public const string InspectFormat = "{{.Name}} {{.RestartCount}}";

    /// <summary>The probe without port checks: what most sweeps run on most nodes, built once.</summary>
    private static readonly string NoPorts = Build([], TimeSpan.Zero);

    public static string Script(IReadOnlyList<ProbeTarget> targets, TimeSpan portTimeout) =>
        targets.Count == 0 ? NoPorts : Build(targets, portTimeout);

    private static string Build(IReadOnlyList<ProbeTarget> targets, TimeSpan portTimeout)
    {
        var s = new StringBuilder(1600 + 40 * targets.Count);
        s.Append("echo @hello\n");
        s.Append("read -r l < /proc/loadavg; echo \"@load $l\"\n");
        s.Append("n=0; if read -r o < /sys/devices/system/cpu/online; then IFS=, read -ra r <<< \"$o\"; for p in \"${r[@]}\"; do ")
         .Append("if [[ $p == *-* ]]; then n=$((n + ${p#*-} - ${p%-*} + 1)); else n=$((n + 1)); fi; done; fi; echo \"@cpus $n\"\n");
        s.Append("while read -r k v _; do case $k in MemTotal:|MemAvailable:) echo \"@mem ${k%:} $v\";; esac; done < /proc/meminfo\n");
        s.Append("echo \"@service $(systemctl is-active openvidu 2>/dev/null)\"\n");
        s.Append("echo @df; if [ -d /opt/openvidu ]; then df -Pk /opt/openvidu 2>/dev/null; else df -Pk / 2>/dev/null; fi\n");
        s.Append($"ps=$(docker ps -a --no-trunc --format {ShellQuote.Quote(PsFormat)} 2>&1); rc=$?; echo \"@ps $rc\"; [ -n \"$ps\" ] && printf '%s\\n' \"$ps\"\n");
        s.Append("ids=(); if [ $rc = 0 ]; then while IFS=$'\\t' read -r id _; do [ -n \"$id\" ] && ids+=(\"$id\"); done <<< \"$ps\"; fi\n");
        s.Append($"echo @inspect; if [ ${{#ids[@]}} -gt 0 ]; then docker inspect --format {ShellQuote.Quote(InspectFormat)} \"${{ids[@]}}\" 2>/dev/null; fi\n");
        if (targets.Count > 0)
        {
            var checks = new StringBuilder();
            checks.Append("c() { local ip=$1; shift; for p; do if { : <>\"/dev/tcp/$ip/$p\"; } 2>/dev/null; then echo \"@port $ip $p 1\"; else echo \"@port $ip $p 0\"; fi; done; }\n");
            foreach (var target in targets)
                checks.Append("c ").Append(target.Ip).Append(' ').AppendJoin(' ', target.Ports).Append(" &\n");
            checks.Append("wait\n");
            var seconds = Math.Max(0.1, portTimeout.TotalSeconds).ToString("0.###", CultureInfo.InvariantCulture);
            s.Append("echo @ports; timeout -k 1 ").Append(seconds).Append(" bash -c ").Append(ShellQuote.Quote(checks.ToString()))
             .Append("; echo \"@ports-end $?\"\n");
        }
        s.Append("echo @end\n");
        return s.ToString();
    }

    public static ProbeResult Parse(string output)
    {
        var service = "unknown";
        double l1 = 0, l5 = 0, l15 = 0;
        var cpus = 0;
        long memTotal = 0, memAvailable = 0, diskTotal = 0, diskUsed = 0;
        string diskPath = "";
        var sawLoad = false;
        var containers = new List<(string Id, string Name, string Image, string State, string Status)>();
        var restarts = new Dictionary<string, int>(StringComparer.Ordinal);
        var ports = new Dictionary<(string, int), bool>();
        string? dockerError = null;
        var dockerErrorLines = new List<string>();
        var portsComplete = true;
        var section = "";

        foreach (var raw in output.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.StartsWith('@'))
            {
                var space = line.IndexOf(' ');
                var tag = space < 0 ? line : line[..space];
                var rest = space < 0 ? "" : line[(space + 1)..];
                switch (tag)
                {
                    case "@load":
                        var parts = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (parts.Length >= 3)
                        {
                            l1 = Number(parts[0]); l5 = Number(parts[1]); l15 = Number(parts[2]);
                            sawLoad = true;
                        }
                        break;
                    case "@cpus":
                        int.TryParse(rest, NumberStyles.Integer, CultureInfo.InvariantCulture, out cpus);
                        break;
                    case "@mem":
                        var kv = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (kv.Length == 2 && long.TryParse(kv[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var kb))
                        {
                            if (kv[0] == "MemTotal") memTotal = kb;
                            else if (kv[0] == "MemAvailable") memAvailable = kb;
                        }
                        break;
                    case "@service":
                        service = rest.Trim() is { Length: > 0 } s ? s : "unknown";
                        break;
                    case "@ps":
                        if (rest.Trim() != "0") dockerError = "";
                        break;
                    case "@port":
                        var p = rest.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                        if (p.Length == 3 && int.TryParse(p[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var port))
                            ports[(p[0], port)] = p[2] == "1";
                        break;
                    case "@ports-end":
                        portsComplete = rest.Trim() == "0";
                        break;
                }
                section = tag;
                continue;
            }
            if (line.Length == 0) continue;
            switch (section)
            {
                case "@df":
                    var cols = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
                    if (cols.Length >= 6 && long.TryParse(cols[1], NumberStyles.Integer, CultureInfo.InvariantCulture, out var total)
                        && long.TryParse(cols[2], NumberStyles.Integer, CultureInfo.InvariantCulture, out var used))
                    {
                        diskTotal = total; diskUsed = used; diskPath = cols[5];
                    }
                    break;
                case "@ps":
                    if (dockerError is not null) { dockerErrorLines.Add(line); break; }
                    var c = line.Split('\t');
                    if (c.Length >= 5) containers.Add((c[0], c[1], c[2], c[3], c[4]));
                    break;
                case "@inspect":
                    var sp = line.LastIndexOf(' ');
                    if (sp > 0 && int.TryParse(line[(sp + 1)..], NumberStyles.Integer, CultureInfo.InvariantCulture, out var count))
                        restarts[line[..sp].TrimStart('/')] = count;
                    break;
            }
        }
        if (dockerError is not null)
            dockerError = dockerErrorLines.LastOrDefault(l => l.Trim().Length > 0)?.Trim() ?? "docker ps failed";

        return new ProbeResult
        {
            Service = service,
            Resources = sawLoad ? new NodeResources(l1, l5, l15, cpus, memTotal, memAvailable, diskTotal, diskUsed, diskPath) : null,
            Containers = containers
                .Select(c => new ContainerStatus(c.Name, c.Image, c.State, c.Status, restarts.GetValueOrDefault(c.Name)))
                .OrderBy(c => c.Name, StringComparer.Ordinal)
                .ToList(),
            DockerError = dockerError,
            Ports = ports,
            PortsComplete = portsComplete,
        };

        static double Number(string text) => double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var v) ? v : 0;
    }
}
