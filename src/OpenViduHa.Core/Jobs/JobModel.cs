using System.Reflection;
using System.Text.Json.Serialization;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// What a job does. The API spells them in kebab case: these names, in requests (<see cref="JobKinds.TryParse"/>) and in
/// a job's JSON, where they win over the camel-case enum converter's naming.
/// </summary>
public enum JobKind
{
    [JsonStringEnumMemberName("preflight")] Preflight,
    [JsonStringEnumMemberName("install")] Install,
    [JsonStringEnumMemberName("add-node")] AddNode,
    [JsonStringEnumMemberName("reinstall-node")] ReinstallNode,
    [JsonStringEnumMemberName("restart")] Restart,
    [JsonStringEnumMemberName("start")] Start,
    [JsonStringEnumMemberName("stop")] Stop,
    [JsonStringEnumMemberName("rolling-restart")] RollingRestart,
    [JsonStringEnumMemberName("check-credentials")] CheckCredentials,
    [JsonStringEnumMemberName("distribute-credentials")] DistributeCredentials,
    [JsonStringEnumMemberName("fetch-installer-digests")] FetchInstallerDigests,
    [JsonStringEnumMemberName("upgrade")] Upgrade,
    [JsonStringEnumMemberName("rollback-upgrade")] RollbackUpgrade,
    [JsonStringEnumMemberName("remove-node")] RemoveNode,
    [JsonStringEnumMemberName("set-public-ip")] SetPublicIp,
    [JsonStringEnumMemberName("reconfigure")] Reconfigure,
}

/// <summary>What some kinds of job need besides the cluster and the node (stored with the job as JSON).</summary>
public sealed record JobParameters
{
    /// <summary>upgrade: the release to end on (X.Y.Z).</summary>
    public string? TargetVersion { get; init; }

    /// <summary>remove-node: how long the media server may take to see its rooms end before it is stopped anyway.</summary>
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>remove-node: no drain, the node stops at once (its rooms end).</summary>
    public bool Force { get; init; }

    /// <summary>remove-node: also delete /opt/openvidu on the node once it left.</summary>
    public bool Wipe { get; init; }

    /// <summary>set-public-ip: the address the media node announces to clients.</summary>
    public string? PublicIp { get; init; }

    /// <summary>reconfigure: the secrets to give new values (their keys; the values are made by the job, never stored here).</summary>
    public List<string>? Rotate { get; init; }

    /// <summary>reconfigure: the settings to change.</summary>
    public Reconfigure.ReconfigureSettings? Set { get; init; }

    /// <summary>reconfigure: what the planner reads.</summary>
    public Reconfigure.ReconfigureRequest ReconfigureRequest() => new() { Rotate = Rotate, Set = Set };

    public static JobParameters None { get; } = new();
}

public enum JobState
{
    Queued,
    Running,
    Succeeded,
    Failed,
    Cancelled,
    Interrupted,
}

public enum NodeJobState
{
    Pending,
    Running,
    Succeeded,
    Warning,
    Failed,
    Skipped,
    Cancelled,
    Interrupted,
}

public static class JobKinds
{
    private static readonly Dictionary<JobKind, string> Names = Enum.GetValues<JobKind>().ToDictionary(kind => kind,
        kind => typeof(JobKind).GetField(kind.ToString())!.GetCustomAttribute<JsonStringEnumMemberNameAttribute>()!.Name);

    public static string Name(this JobKind kind) => Names[kind];

    public static bool TryParse(string? text, out JobKind kind)
    {
        foreach (var (k, name) in Names)
        {
            if (string.Equals(name, text, StringComparison.OrdinalIgnoreCase)) { kind = k; return true; }
        }
        kind = default;
        return false;
    }

    public static IEnumerable<string> All => Names.Values;

    /// <summary>Jobs that change nodes: at most one of them per cluster at a time.</summary>
    public static bool Changes(this JobKind kind) => kind is not (JobKind.Preflight or JobKind.CheckCredentials or JobKind.FetchInstallerDigests);

    /// <summary>Jobs that take an optional nodeId (the whole cluster, or the first master for installer digests, without it).</summary>
    public static bool MayTargetNode(this JobKind kind) => kind is JobKind.Preflight or JobKind.CheckCredentials or JobKind.FetchInstallerDigests;

    /// <summary>Jobs that act on the whole cluster at once: a retry runs them on every node again, not only on those that failed.</summary>
    public static bool WholeCluster(this JobKind kind) => kind is JobKind.Upgrade or JobKind.RollbackUpgrade or JobKind.SetPublicIp or JobKind.Reconfigure;

    /// <summary>Jobs aimed at one node.</summary>
    public static bool NeedsNode(this JobKind kind) => kind is JobKind.AddNode or JobKind.ReinstallNode or JobKind.Restart or JobKind.Start or JobKind.Stop
        or JobKind.RemoveNode or JobKind.SetPublicIp;

    public static bool IsFinal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Interrupted;

    public static string Lower(this Enum value) => value.ToString().ToLowerInvariant();
}
