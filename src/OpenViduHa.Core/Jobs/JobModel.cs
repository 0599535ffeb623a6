namespace OpenViduHa.Core.Jobs;

/// <summary>What a job does. The API spells them in kebab case (<see cref="JobKinds"/>).</summary>
public enum JobKind
{
    Preflight,
    Install,
    AddNode,
    ReinstallNode,
    Restart,
    Start,
    Stop,
    RollingRestart,
    CheckCredentials,
    DistributeCredentials,
    FetchInstallerDigests,
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
    private static readonly Dictionary<JobKind, string> Names = new()
    {
        [JobKind.Preflight] = "preflight",
        [JobKind.Install] = "install",
        [JobKind.AddNode] = "add-node",
        [JobKind.ReinstallNode] = "reinstall-node",
        [JobKind.Restart] = "restart",
        [JobKind.Start] = "start",
        [JobKind.Stop] = "stop",
        [JobKind.RollingRestart] = "rolling-restart",
        [JobKind.CheckCredentials] = "check-credentials",
        [JobKind.DistributeCredentials] = "distribute-credentials",
        [JobKind.FetchInstallerDigests] = "fetch-installer-digests",
    };

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

    /// <summary>Jobs aimed at one node.</summary>
    public static bool NeedsNode(this JobKind kind) => kind is JobKind.AddNode or JobKind.ReinstallNode or JobKind.Restart or JobKind.Start or JobKind.Stop;

    public static bool IsFinal(this JobState state) => state is JobState.Succeeded or JobState.Failed or JobState.Cancelled or JobState.Interrupted;

    public static string Lower(this Enum value) => value.ToString().ToLowerInvariant();
}
