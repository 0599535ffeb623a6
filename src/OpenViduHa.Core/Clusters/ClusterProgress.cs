using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Clusters;

/// <summary>Where a cluster is on its way to running, in the words the page and the list show.</summary>
public enum ClusterStage
{
    /// <summary>Nothing installed, no host key waiting for a decision.</summary>
    NotInstalled,

    /// <summary>A preflight recorded host keys that wait for the operator's confirmation.</summary>
    KeysToConfirm,

    /// <summary>An install, add-node or reinstall job is queued or running.</summary>
    Installing,

    /// <summary>Some nodes are installed, others not (an install that failed part-way, a media node added later).</summary>
    PartlyInstalled,

    /// <summary>Every node is installed.</summary>
    Installed,
}

/// <summary>One step of the way to an installed cluster, and whether it is done.</summary>
/// <param name="Key">preflight, keys or install: what the page's action for it is.</param>
public sealed record ChecklistStep(string Key, string Title, bool Done, string Detail);

/// <summary>
/// A cluster's stage and, until it is installed, its checklist: run a preflight, confirm the host keys it recorded,
/// install. Worked out from the nodes and the cluster's recent jobs; nothing is stored.
/// </summary>
public sealed record ClusterProgress(ClusterStage Stage, IReadOnlyList<ChecklistStep> Steps)
{
    public string Word => Words(Stage);

    public static string Words(ClusterStage stage) => stage switch
    {
        ClusterStage.NotInstalled => "not installed",
        ClusterStage.KeysToConfirm => "keys to confirm",
        ClusterStage.Installing => "installing",
        ClusterStage.PartlyInstalled => "partly installed",
        _ => "installed",
    };

    /// <param name="jobs">The cluster's recent jobs, newest first (as <see cref="JobService.ListAsync"/> answers).</param>
    public static ClusterProgress Of(IReadOnlyList<NodeView> nodes, IReadOnlyList<JobView> jobs)
    {
        var installing = jobs.FirstOrDefault(j => j.Kind is JobKind.Install or JobKind.AddNode or JobKind.ReinstallNode && j.State is JobState.Queued or JobState.Running);
        var installed = nodes.Count(n => n.InstalledAt is not null);
        var unpinned = nodes.Where(n => n.Ssh.HostKeyFingerprint is null).ToList();
        var presented = unpinned.Where(n => n.PresentedHostKeyFingerprint is not null).ToList();
        var stage = installing is not null ? ClusterStage.Installing
            : installed == nodes.Count && nodes.Count > 0 ? ClusterStage.Installed
            : installed > 0 ? ClusterStage.PartlyInstalled
            : presented.Count > 0 ? ClusterStage.KeysToConfirm
            : ClusterStage.NotInstalled;
        if (stage == ClusterStage.Installed) return new(stage, []);

        var preflight = jobs.FirstOrDefault(j => j.Kind == JobKind.Preflight && j.NodeId is null);
        var preflightStep = preflight switch
        {
            null => new ChecklistStep("preflight", "Run a preflight", false,
                "It reads every machine (SSH, sudo, OS, ports, disk, Docker) and records each host key; nothing is changed."),
            { State: JobState.Queued or JobState.Running } => new ChecklistStep("preflight", "Run a preflight", false, $"Job #{preflight.Id} is {preflight.State.Lower()}."),
            { State: JobState.Succeeded } => new ChecklistStep("preflight", "Run a preflight", true, $"Passed (job #{preflight.Id})."),
            // First contact: the preflight could only record the host keys. Confirming them is the next step.
            _ when presented.Count > 0 => new ChecklistStep("preflight", "Run a preflight", true,
                $"Host keys recorded (job #{preflight.Id}). Once they are confirmed, run it again: it checks the machines then."),
            _ when StoppedAtHostKeys(preflight) => new ChecklistStep("preflight", "Run a preflight", false,
                $"Job #{preflight.Id} ran before the host keys were confirmed: run it again to check the machines."),
            _ => new ChecklistStep("preflight", "Run a preflight", false,
                $"Job #{preflight.Id} {preflight.State.Lower()}{(FailedNodes(preflight) is { Length: > 0 } failed ? $" on {failed}" : "")}: see the Jobs tab, mend, run it again."),
        };
        var keysStep = unpinned.Count == 0
            ? new ChecklistStep("keys", $"Confirm {nodes.Count} host keys", true, "Every host key is pinned.")
            : new ChecklistStep("keys", $"Confirm {nodes.Count} host keys", false,
                presented.Count == 0
                    ? $"{nodes.Count - unpinned.Count} of {nodes.Count} pinned. The preflight records the others."
                    : $"{nodes.Count - unpinned.Count} of {nodes.Count} pinned. Compare {NodeList.Of(presented.Select(n => n.Name))} with the machines' own fingerprints (ssh-keygen -lf on each) and confirm them on the Nodes tab.");
        var lastInstall = jobs.FirstOrDefault(j => j.Kind == JobKind.Install);
        var installStep = new ChecklistStep("install", "Install", false, installing is not null
            ? $"Job #{installing.Id} is {installing.State.Lower()}: follow it on the Jobs tab."
            : lastInstall is { State: JobState.Failed or JobState.Interrupted or JobState.Cancelled }
                ? $"Job #{lastInstall.Id} {lastInstall.State.Lower()} with {installed} of {nodes.Count} nodes installed: retry its failed nodes on the Jobs tab."
                : installed > 0 ? $"{installed} of {nodes.Count} nodes installed."
                : "Masters first, then media nodes; the Jobs tab shows its live log.");
        return new(stage, [preflightStep, keysStep, installStep]);
    }

    /// <summary>Every node the preflight failed on stopped at an unconfirmed host key (nothing else was checked).</summary>
    private static bool StoppedAtHostKeys(JobView job) =>
        job.Nodes.Where(n => n.State is NodeJobState.Failed).ToList() is { Count: > 0 } failed &&
        failed.All(n => n.Message?.Contains(SshFailureException.NotConfirmedText, StringComparison.Ordinal) == true);

    private static string FailedNodes(JobView job) =>
        NodeList.Of(job.Nodes.Where(n => n.State is NodeJobState.Failed).Select(n => n.NodeName)) is var list && list != "no node" ? list : "";
}
