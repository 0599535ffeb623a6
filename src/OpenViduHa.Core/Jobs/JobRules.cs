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

        var generation = OpenViduVersion.TryParse(cluster.OpenviduVersion, out var clusterVersion) ? clusterVersion.Generation : InstallerGeneration.Current;
        var unpinned = JobRules.NodesFor(kind, nodes, target, generation).Where(n => n.HostKeyFingerprint is null).Select(n => n.Name).ToList();
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
            case JobKind.Reconfigure when nodes.Where(n => n.InstalledAt is null).Select(n => n.Name).ToList() is { Count: > 0 } fresh:
                return $"{string.Join(", ", fresh)} {(fresh.Count == 1 ? "is" : "are")} not installed: a reconfigure changes every node of the cluster at once. " +
                       "Install them (or remove a media node that is not needed), or change a cluster never installed in its definition.";
            case JobKind.Reconfigure:
                return ReconfigureRefusal(cluster, parameters);
            case JobKind.Upgrade or JobKind.RollbackUpgrade when nodes.Where(n => n.InstalledAt is null).Select(n => n.Name).ToList() is { Count: > 0 } fresh:
                return $"{string.Join(", ", fresh)} {(fresh.Count == 1 ? "is" : "are")} not installed: every node of a cluster runs one version, so an upgrade needs them all installed " +
                       "(install them, or remove a media node that is not needed). A cluster never installed changes its version in the wizard.";
            case JobKind.RemoveNode or JobKind.SetPublicIp when target!.Role == NodeRole.Master:
                return kind == JobKind.RemoveNode
                    ? "Masters never leave: an HA cluster has exactly 4, and their private IPs are written into every node. Only media nodes are removed."
                    : "Only media nodes take a public IP: masters are reached through the load balancer.";
            case JobKind.RemoveNode or JobKind.SetPublicIp when target!.InstalledAt is null:
                return kind == JobKind.RemoveNode
                    ? $"{target.Name} is not installed: nothing runs on it to drain. Remove it from the cluster's definition (Edit) instead."
                    : $"{target.Name} is not installed: set its public IP in the cluster's definition (Edit), and the install uses it.";
            case JobKind.RemoveNode when !nodes.Any(n => n.Role == NodeRole.Media && n.Id != target!.Id && n.InstalledAt is not null):
                return $"{target!.Name} is the cluster's last installed media node: without one no room can carry media. Add and install another media node first.";
            case JobKind.RemoveNode when parameters?.DrainTimeout is { } drain && (drain <= TimeSpan.Zero || drain > MaxDrainTimeout):
                return $"drainTimeout must be more than 0 and at most {MaxDrainTimeout:c} (hh:mm:ss).";
            case JobKind.SetPublicIp:
                return PublicIpRefusal(parameters?.PublicIp);
            case JobKind.Upgrade:
                if (!OpenViduVersion.TryParse(cluster.OpenviduVersion, out var from)) return $"Cluster '{cluster.Name}' holds the unreadable version '{cluster.OpenviduVersion}'.";
                return Upgrade.UpgradeChain.Plan(from, parameters?.TargetVersion).Refusal;
        }
        return null;
    }

    /// <summary>Why a reconfigure's request cannot be planned for the cluster (each field's reasons), or null.</summary>
    private static string? ReconfigureRefusal(ClusterEntity cluster, JobParameters? parameters)
    {
        if (!OpenViduVersion.TryParse(cluster.OpenviduVersion, out var version)) return $"Cluster '{cluster.Name}' holds the unreadable version '{cluster.OpenviduVersion}'.";
        // The planner needs the cluster's settings, not its secrets: the keys are checked by name, the values made at run.
        var shape = new ClusterDefinition
        {
            Name = cluster.Name, Version = version, DomainName = cluster.DomainName, LicenseKey = "", InstallerBaseUrl = cluster.InstallerBaseUrl,
            RtcEngine = cluster.RtcEngine, Modules = cluster.Modules.Split(',', StringSplitOptions.RemoveEmptyEntries),
            Secrets = Secrets.SecretCatalog.For(version.Generation).ToDictionary(d => d.Key, _ => "", StringComparer.Ordinal), Nodes = [],
        };
        var (_, errors) = Reconfigure.ReconfigurePlanner.Plan(shape, (parameters ?? JobParameters.None).ReconfigureRequest());
        return errors is null ? null : string.Join(" ", errors.Fields.SelectMany(errors.For));
    }

    /// <summary>The longest drain a remove-node job waits for (a day: a media node's rooms outlive no meeting longer).</summary>
    public static readonly TimeSpan MaxDrainTimeout = TimeSpan.FromHours(24);

    /// <summary>Why <paramref name="publicIp"/> cannot be a media node's public IP, or null.</summary>
    public static string? PublicIpRefusal(string? publicIp)
    {
        if (string.IsNullOrWhiteSpace(publicIp)) return "Give the media node's public IP (IPv4), the address clients send media to.";
        if (!System.Net.IPAddress.TryParse(publicIp, out var ip) || ip.AddressFamily != System.Net.Sockets.AddressFamily.InterNetwork || ip.ToString() != publicIp)
            return $"'{publicIp}' is not an IPv4 address (four numbers 0-255, dot separated).";
        return null;
    }

    /// <summary>The nodes a job acts on, in the order it acts.</summary>
    /// <param name="generation">set-public-ip reinstalls the masters too on the current generation (--force-media-node-public-ip), not on 3.0.x.</param>
    public static List<NodeEntity> NodesFor(JobKind kind, IReadOnlyList<NodeEntity> nodes, NodeEntity? target, InstallerGeneration generation = InstallerGeneration.Current) => kind switch
    {
        JobKind.AddNode or JobKind.ReinstallNode or JobKind.Restart or JobKind.Start or JobKind.Stop or JobKind.RemoveNode => [target!],
        JobKind.SetPublicIp when generation == InstallerGeneration.V30 => [target!],
        JobKind.SetPublicIp => [target!, .. nodes.Where(n => n.Role == NodeRole.Master).OrderBy(n => n.Ordinal)],
        // A preflight or credentials check may name one node (JobKinds.MayTargetNode): then it checks that node only.
        JobKind.Preflight or JobKind.CheckCredentials when target is not null => [target],
        // One node is enough to read what the installer URLs serve: the one asked for, else the first master.
        JobKind.FetchInstallerDigests => [target ?? nodes.Where(n => n.Role == NodeRole.Master).OrderBy(n => n.Ordinal).First()],
        _ => nodes.OrderBy(n => n.Role).ThenBy(n => n.Ordinal).ToList(),
    };
}
