using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Status;

/// <summary>A node's colour: green, amber (works, with a warning), red (down or failing), unknown (not checked).</summary>
public enum NodeHealth
{
    Unknown,
    Green,
    Amber,
    Red,
}

/// <summary>The cluster as the facts file's fault tolerance reads it.</summary>
public enum ClusterHealth
{
    Unknown,
    Healthy,
    Degraded,
    Down,
}

/// <summary>One container as <c>docker ps -a</c> and <c>docker inspect</c> show it.</summary>
public sealed record ContainerStatus(string Name, string Image, string State, string Status, int RestartCount)
{
    public bool IsRestarting => State == "restarting";
}

/// <summary>
/// One check of one port of a node: from the panel (<see cref="From"/> is <c>panel</c>) or from another node (its
/// name). <see cref="Protocol"/> is <c>tcp</c> (a connect) or <c>http</c> (the role's health endpoint).
/// <see cref="CheckedAt"/>: when it ran (the port matrix runs on its own tier, <see cref="PortResults"/>).
/// </summary>
public sealed record PortCheck(int Port, string Protocol, string From, bool Open, string? Detail = null, DateTimeOffset? CheckedAt = null);

/// <summary>Load, memory and disk of a node, as its kernel reports them.</summary>
public sealed record NodeResources(
    double Load1,
    double Load5,
    double Load15,
    int Cpus,
    long MemoryTotalKb,
    long MemoryAvailableKb,
    long DiskTotalKb,
    long DiskUsedKb,
    string DiskPath)
{
    public double MemoryUsedPercent => MemoryTotalKb <= 0 ? 0 : 100.0 * (MemoryTotalKb - MemoryAvailableKb) / MemoryTotalKb;
    public double DiskUsedPercent => DiskTotalKb <= 0 ? 0 : 100.0 * DiskUsedKb / DiskTotalKb;
}

/// <summary>Everything one sweep learnt about one node, and the verdict.</summary>
public sealed record NodeStatus
{
    public required int NodeId { get; init; }
    public required string Name { get; init; }
    public required NodeRole Role { get; init; }
    public required string PrivateIp { get; init; }

    /// <summary>The probe ran over SSH.</summary>
    public bool Reachable { get; init; }

    /// <summary>From sending the probe to its first output line on a kept connection (includes the node starting a shell).</summary>
    public double? RttMs { get; init; }

    /// <summary><c>systemctl is-active openvidu</c>: active, inactive, failed, activating…; <c>unknown</c> when the node was not reached.</summary>
    public string Service { get; init; } = "unknown";

    public NodeHealth Health { get; init; }

    /// <summary>Why the node is not green, in words, most important first. Stable between sweeps while nothing changes.</summary>
    public IReadOnlyList<string> Reasons { get; init; } = [];

    public IReadOnlyList<ContainerStatus> Containers { get; init; } = [];
    public IReadOnlyList<PortCheck> Ports { get; init; } = [];
    public NodeResources? Resources { get; init; }
    public DateTimeOffset? CheckedAt { get; init; }

    /// <summary>A remove-node job is taking it out of the cluster: the cluster's health does not count on it.</summary>
    public bool Leaving { get; init; }

    /// <summary>The node is not watched (not installed, host key not confirmed): why.</summary>
    public string? NotWatched { get; init; }

    public string Reason => Reasons.Count == 0 ? "All checks pass." : string.Join("; ", Reasons);
}

/// <summary>The load balancer in front of the masters, checked through the cluster's domain where the panel can reach it.</summary>
public sealed record LoadBalancerStatus(string Target, bool Checked, bool Reachable, string Detail);

/// <summary>The latest picture of a cluster. Held in memory; only changes of a node's verdict are written to the database.</summary>
public sealed record ClusterStatus
{
    public required int ClusterId { get; init; }
    public required string ClusterName { get; init; }
    public DateTimeOffset? CheckedAt { get; init; }
    public ClusterHealth Health { get; init; }
    public string Reason { get; init; } = "";
    public IReadOnlyList<NodeStatus> Nodes { get; init; } = [];
    public LoadBalancerStatus? LoadBalancer { get; init; }

    /// <summary>How long the sweep that produced this took.</summary>
    public TimeSpan SweepDuration { get; init; }

    /// <summary>The oldest port check shown: the whole matrix has run since (null: no port check yet).</summary>
    public DateTimeOffset? PortsCheckedAt { get; init; }

    /// <summary>Port checks this sweep ran (from the nodes and from the panel; health requests not counted).</summary>
    public int PortChecksRun { get; init; }

    public static ClusterStatus NotChecked(int clusterId, string name, IReadOnlyList<NodeStatus> nodes, string reason) =>
        new() { ClusterId = clusterId, ClusterName = name, Health = ClusterHealth.Unknown, Reason = reason, Nodes = nodes };
}

/// <summary>A node's (or, with no node, the cluster's) verdict changed: what the history shows and the database keeps.</summary>
public sealed record StatusChange(int ClusterId, int? NodeId, DateTimeOffset At, string Health, string Reason);

public static class StatusNames
{
    public static string Lower(this NodeHealth health) => health.ToString().ToLowerInvariant();
    public static string Lower(this ClusterHealth health) => health.ToString().ToLowerInvariant();
}
