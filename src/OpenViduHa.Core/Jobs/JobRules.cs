using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Jobs;

/// <summary>What a job may do to a cluster, decided before it is queued.</summary>
public static class JobRules
{
    /// <summary>Why the job may not run now, or null.</summary>
    /// <param name="retry">A retry of an earlier job's failed nodes (they may have installed before failing later).</param>
    public static string? Check(JobKind kind, ClusterEntity cluster, IReadOnlyList<NodeEntity> nodes, NodeEntity? target, bool retry = false, JobParameters? parameters = null)
    {
        if (kind is JobKind.Preflight) return null;

        if (kind == JobKind.Install && !retry && nodes.Where(n => n.InstalledAt is not null).Select(n => n.Name).ToList() is { Count: > 0 } installed)
            return $"{string.Join(", ", installed)} {(installed.Count == 1 ? "is" : "are")} installed already: a second install would take every master down at once. " +
                   "Use reinstall-node (one master at a time, while the others are healthy) or add-node.";

        var unpinned = JobRules.NodesFor(kind, nodes, target).Where(n => n.HostKeyFingerprint is null).Select(n => n.Name).ToList();
        if (unpinned.Count > 0)
            return $"The host keys of {string.Join(", ", unpinned)} are not confirmed: run a preflight to record them, check and confirm each one, then try again.";

        switch (kind)
        {
            case JobKind.AddNode when target!.Role == NodeRole.Master:
                return "Only media nodes are added to an installed cluster: the list of the 4 master IPs is written into every node at install and never changes.";
            case JobKind.AddNode when target!.InstalledAt is not null:
                return $"{target.Name} is installed already: use reinstall-node.";
            case JobKind.ReinstallNode or JobKind.Restart or JobKind.Stop or JobKind.Start or JobKind.RollingRestart
                or JobKind.CheckCredentials or JobKind.DistributeCredentials
                when nodes.Where(n => n.Role == NodeRole.Master).Any(n => n.InstalledAt is null):
                return $"Cluster '{cluster.Name}' is not installed yet: run install first.";
            case JobKind.Upgrade or JobKind.RollbackUpgrade when nodes.Where(n => n.InstalledAt is null).Select(n => n.Name).ToList() is { Count: > 0 } fresh:
                return $"{string.Join(", ", fresh)} {(fresh.Count == 1 ? "is" : "are")} not installed: every node of a cluster runs one version, so an upgrade needs them all installed " +
                       "(install them, or remove a media node that is not needed). A cluster never installed changes its version in the wizard.";
            case JobKind.Upgrade:
                if (!OpenViduVersion.TryParse(cluster.OpenviduVersion, out var from)) return $"Cluster '{cluster.Name}' holds the unreadable version '{cluster.OpenviduVersion}'.";
                return Upgrade.UpgradeChain.Plan(from, parameters?.TargetVersion).Refusal;
        }
        return null;
    }

    /// <summary>The nodes a job acts on, in the order it acts.</summary>
    public static List<NodeEntity> NodesFor(JobKind kind, IReadOnlyList<NodeEntity> nodes, NodeEntity? target) => kind switch
    {
        JobKind.AddNode or JobKind.ReinstallNode or JobKind.Restart or JobKind.Start or JobKind.Stop => [target!],
        // A preflight or credentials check may name one node (JobKinds.MayTargetNode): then it checks that node only.
        JobKind.Preflight or JobKind.CheckCredentials when target is not null => [target],
        // One node is enough to read what the installer URLs serve: the one asked for, else the first master.
        JobKind.FetchInstallerDigests => [target ?? nodes.Where(n => n.Role == NodeRole.Master).OrderBy(n => n.Ordinal).First()],
        _ => nodes.OrderBy(n => n.Role).ThenBy(n => n.Ordinal).ToList(),
    };
}
