using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Upgrade;

/// <summary>One run of OpenVidu's updater on every node: from one release of the chain to the next.</summary>
public sealed record UpgradeHop(OpenViduVersion From, OpenViduVersion To)
{
    /// <summary>
    /// After this hop every node starts, becomes healthy and stops again before the next one: OpenVidu requires it of a
    /// cluster that goes from 3.4.x past 3.5.0 (the 3.5.0 release must initialise once).
    /// </summary>
    public bool StartBeforeNext { get; init; }

    public override string ToString() => $"{From} → {To}";
}

/// <summary>The hops from the cluster's version to the target, and what changes for the operator besides the version.</summary>
public sealed record UpgradePlan(OpenViduVersion From, OpenViduVersion To, IReadOnlyList<UpgradeHop> Hops)
{
    /// <summary>3.0.x to 3.4.0 and later: new config layout, new flags, and the load balancer in front of the masters only.</summary>
    public bool GenerationChanges => From.Generation != To.Generation;

    /// <summary>The load balancer's config must be replaced (its topology follows the generation).</summary>
    public bool LoadBalancerChanges => GenerationChanges;

    /// <summary>The plan in lines: what the confirmation shows and the job's log starts with.</summary>
    public IReadOnlyList<string> Steps()
    {
        var steps = new List<string>
        {
            "Check every node: reachable, on OpenVidu " + From + ", enough free disk for the new images.",
            "Stop every node: media nodes first, then the masters.",
        };
        foreach (var hop in Hops)
        {
            steps.Add($"Run OpenVidu's {hop.To} updater on every node at once ({hop}); each node must then report {hop.To}. " +
                      $"The updater backs up what it changes under /opt/openvidu/backups/<date>_{hop.From}/.");
            if (hop.StartBeforeNext)
                steps.Add($"Start every node on {hop.To} (masters, then media), wait until healthy, stop them again: OpenVidu requires {hop.To} to initialise once before going further.");
        }
        steps.Add($"Start the masters, wait for their health, then the media nodes: the cluster runs {To}.");
        if (GenerationChanges)
            steps.Add($"From {To} the nodes keep their settings in /opt/openvidu/config/ instead of .env, and the load balancer sends everything to the masters: replace the load balancer's config with the new nginx.conf or haproxy.cfg.");
        return steps;
    }
}

/// <summary>
/// OpenVidu's updater goes one release at a time along a fixed chain (docs/openvidu-versions.md, "The updater chain"):
/// each release's <c>update.sh</c> accepts only its predecessor. The panel runs one hop per run, every node at each hop.
/// </summary>
public static class UpgradeChain
{
    public static readonly IReadOnlyList<OpenViduVersion> Versions =
    [
        new(3, 0, 0), new(3, 1, 0), new(3, 2, 0), new(3, 3, 0), new(3, 4, 0), new(3, 4, 1), new(3, 5, 0),
        new(3, 6, 0), new(3, 6, 1), new(3, 7, 0), new(3, 8, 0), new(3, 9, 0),
    ];

    private static readonly OpenViduVersion InitialiseOnce = new(3, 5, 0);

    /// <summary>The plan from <paramref name="from"/> to <paramref name="target"/>, or why there is none (for the operator).</summary>
    public static (UpgradePlan? Plan, string? Refusal) Plan(OpenViduVersion from, string? target)
    {
        if (string.IsNullOrWhiteSpace(target)) return (null, "Give targetVersion, the release to upgrade to (X.Y.Z).");
        if (!OpenViduVersion.TryParse(target.Trim(), out var to)) return (null, $"'{Shown(target)}' is not a version: give X.Y.Z, e.g. {Versions[^1]}.");
        if (to == from) return (null, $"The cluster already runs OpenVidu {from}.");
        if (to < from) return (null, $"OpenVidu {to} is older than the cluster's {from}: the updater only goes forward. A rollback restores the backup of an upgrade that failed.");
        var start = IndexOf(from);
        if (start < 0) return (null, $"The cluster's version {from} is not on the updater's chain ({string.Join(" → ", Versions)}): the panel cannot upgrade it.");
        var end = IndexOf(to);
        if (end < 0) return (null, $"OpenVidu {to} is not on the updater's chain ({string.Join(" → ", Versions)}).");
        if (to.Unsupported() is { } unsupported)
            return (null, $"OpenVidu {to} is only a step of the chain here: {unsupported} Upgrade to {OpenViduVersion.CurrentGenerationFrom} or later; the steps in between are run on the way.");

        var hops = new List<UpgradeHop>();
        for (var i = start; i < end; i++)
        {
            var hop = new UpgradeHop(Versions[i], Versions[i + 1]);
            var fromThe34s = from >= new OpenViduVersion(3, 4, 0) && from < InitialiseOnce;
            hops.Add(hop with { StartBeforeNext = fromThe34s && hop.To == InitialiseOnce && to > InitialiseOnce });
        }
        return (new UpgradePlan(from, to, hops), null);
    }

    private static int IndexOf(OpenViduVersion version)
    {
        for (var i = 0; i < Versions.Count; i++) if (Versions[i] == version) return i;
        return -1;
    }

    private static string Shown(string text) => text.Length > 40 ? text[..40] + "…" : new string(text.Select(c => char.IsControl(c) ? ' ' : c).ToArray());
}
