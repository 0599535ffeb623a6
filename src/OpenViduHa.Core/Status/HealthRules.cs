using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Status;

/// <summary>What a sweep learnt about one node, before the verdict.</summary>
public sealed record NodeFacts
{
    public required NodeRole Role { get; init; }
    public bool Reachable { get; init; }

    /// <summary>Why the probe did not run (connection refused, timeout, host key mismatch…).</summary>
    public string? SshError { get; init; }

    public ProbeResult? Probe { get; init; }

    /// <summary>The panel's request to the role's health endpoint.</summary>
    public required PortCheck Health { get; init; }

    /// <summary>Every port check of the node (health included), from the panel and from the other nodes.</summary>
    public IReadOnlyList<PortCheck> Ports { get; init; } = [];

    /// <summary>Restart counts seen by the previous sweep, to tell a container that restarted since.</summary>
    public IReadOnlyDictionary<string, int>? PreviousRestarts { get; init; }

    /// <summary>A job changing the cluster runs (e.g. "install job #12"): a node it stops is not an incident.</summary>
    public string? RunningJob { get; init; }

    /// <summary>A remove-node job is taking this media node out of the cluster: stopped is what it is meant to be.</summary>
    public bool Leaving { get; init; }
}

/// <summary>A node's verdict. <see cref="Down"/> is what the cluster's fault tolerance counts, whatever the colour.</summary>
public sealed record NodeVerdict(NodeHealth Health, bool Down, IReadOnlyList<string> Reasons);

/// <summary>
/// Green, amber or red for a node, and healthy, degraded or down for the cluster, with the reason in words. The
/// words stay the same between sweeps while nothing changes (no counters, no ages), so that a verdict is written to
/// the database only when it changes.
/// </summary>
public static class HealthRules
{
    /// <summary>Containers that run once and exit 0 by design.</summary>
    private static readonly HashSet<string> InitContainers = ["openvidu-init"];

    public static NodeVerdict Judge(NodeFacts facts, StatusOptions options)
    {
        var red = new List<string>();
        var amber = new List<string>();
        var healthName = $"{PortPlan.HealthPath(facts.Role)} on {PortPlan.HealthPort}";
        var healthOk = facts.Health.Open;

        if (!facts.Reachable)
        {
            if (healthOk) amber.Add($"SSH unreachable ({facts.SshError}); the service still answers {healthName}");
            else red.Add($"unreachable: {facts.SshError}; {healthName}: {facts.Health.Detail}");
        }
        else if (facts.Probe is { } probe)
        {
            if (probe.Service != "active") red.Add($"openvidu service is {probe.Service}");
            if (probe.Service == "active" && !healthOk)
            {
                if (facts.Role == NodeRole.Media && facts.Health.Detail?.StartsWith("HTTP 406", StringComparison.Ordinal) == true)
                    amber.Add($"{healthName} answers {facts.Health.Detail} (media stats stale: takes no new sessions)");
                else
                    red.Add($"{healthName}: {facts.Health.Detail}");
            }
            if (probe.DockerError is not null) amber.Add($"docker did not answer: {probe.DockerError}");
            if (probe.Service == "active")
            {
                foreach (var c in probe.Containers)
                {
                    if (c.IsRestarting) amber.Add($"container {c.Name} is restarting");
                    else if (c.State != "running" && !(InitContainers.Contains(c.Name) && c.State == "exited" && c.Status.StartsWith("Exited (0)", StringComparison.Ordinal)))
                        amber.Add($"container {c.Name} is {c.State}");
                    else if (facts.PreviousRestarts?.TryGetValue(c.Name, out var before) == true && c.RestartCount > before)
                        amber.Add($"container {c.Name} restarted since the last check");
                }
            }
            if (probe.Resources is { } r)
            {
                if (r.DiskTotalKb > 0 && r.DiskUsedPercent >= options.DiskWarningPercent) amber.Add($"disk {r.DiskPath} over {options.DiskWarningPercent}% full");
                if (r.MemoryTotalKb > 0 && r.MemoryUsedPercent >= options.MemoryWarningPercent) amber.Add($"memory over {options.MemoryWarningPercent}% used");
            }
        }

        // Closed ports, one reason per port: "port 7000/tcp closed from master-2, media-1".
        var serviceUp = facts.Probe?.Service == "active" || (!facts.Reachable && healthOk);
        if (serviceUp)
        {
            foreach (var group in facts.Ports.Where(p => !p.Open && p.Protocol == "tcp").GroupBy(p => p.Port).OrderBy(g => g.Key))
                amber.Add($"port {group.Key}/tcp closed from {string.Join(", ", group.Select(p => p.From))}");
        }

        if (facts.Leaving)
        {
            // Leaving, not down: the cluster does not count on it any more, whatever its state.
            return new NodeVerdict(NodeHealth.Amber, false, ["leaving the cluster (remove-node): takes no new rooms", .. red, .. amber]);
        }
        var down = red.Count > 0;
        if (down && facts.RunningJob is not null)
        {
            // Stopped on purpose by a job the operator started: amber, and still counted down for the cluster.
            return new NodeVerdict(NodeHealth.Amber, true, [$"{facts.RunningJob} running", .. red, .. amber]);
        }
        if (down) return new NodeVerdict(NodeHealth.Red, true, [.. red, .. amber]);
        if (amber.Count > 0) return new NodeVerdict(NodeHealth.Amber, false, amber);
        return new NodeVerdict(NodeHealth.Green, false, []);
    }

    /// <summary>The facts file's fault tolerance: 1 master down no effect, 2 egress affected, 3 or more an outage.</summary>
    public static (ClusterHealth Health, string Reason) Judge(IReadOnlyList<(NodeStatus Node, bool Down)> nodes, LoadBalancerStatus? loadBalancer)
    {
        var watched = nodes.Where(n => n.Node.NotWatched is null && n.Node.CheckedAt is not null).ToList();
        if (watched.Count == 0) return (ClusterHealth.Unknown, "Not checked yet: no installed node is watched.");

        var mastersDown = watched.Where(n => n.Down && n.Node.Role == NodeRole.Master).Select(n => n.Node.Name).ToList();
        var leaving = watched.Where(n => n.Node.Leaving).Select(n => n.Node.Name).ToList();
        var media = watched.Where(n => n.Node.Role == NodeRole.Media && !n.Node.Leaving).ToList();
        var mediaDown = media.Where(n => n.Down).Select(n => n.Node.Name).ToList();
        var warnings = watched.Where(n => !n.Down && !n.Node.Leaving && n.Node.Health == NodeHealth.Amber).Select(n => n.Node.Name).ToList();

        if (mastersDown.Count >= 3)
            return (ClusterHealth.Down, $"{mastersDown.Count} masters down ({Names(mastersDown)}): the cluster is out of service (it survives at most 2).");
        if (media.Count > 0 && mediaDown.Count == media.Count)
            return (ClusterHealth.Down, $"every media node is down ({Names(mediaDown)}): no session can carry media.");

        var reasons = new List<string>();
        if (mastersDown.Count == 2) reasons.Add($"2 masters down ({Names(mastersDown)}): egress (recording, streaming) is affected; one more and the cluster is down");
        if (mastersDown.Count == 1) reasons.Add($"1 master down ({mastersDown[0]}): no effect on service, but no room for another failure beyond egress");
        if (mediaDown.Count > 0) reasons.Add($"media {(mediaDown.Count == 1 ? "node" : "nodes")} down ({Names(mediaDown)}): {(mediaDown.Count == 1 ? "its" : "their")} sessions are lost, capacity is reduced");
        if (warnings.Count > 0) reasons.Add($"warnings on {Names(warnings)}");
        if (loadBalancer is { Checked: true, Reachable: false }) reasons.Add($"load balancer: {loadBalancer.Detail}");
        var leavingNote = leaving.Count == 0 ? "" : $" {Names(leaving)} {(leaving.Count == 1 ? "is" : "are")} leaving the cluster.";
        if (reasons.Count > 0) return (ClusterHealth.Degraded, string.Join("; ", reasons) + "." + leavingNote);
        var staying = watched.Count - leaving.Count;
        return (ClusterHealth.Healthy, $"All {staying} watched nodes are healthy.{leavingNote}");

        static string Names(List<string> names) => string.Join(", ", names);
    }
}
