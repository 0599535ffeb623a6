using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Upgrade;

namespace OpenViduHa.Core.Tests.Upgrade;

public sealed class UpgradePlanTests
{
    private static OpenViduVersion V(string text) => OpenViduVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text);

    private static UpgradePlan Planned(string from, string to)
    {
        var (plan, refusal) = UpgradeChain.Plan(V(from), to);
        Assert.True(plan is not null, refusal);
        return plan;
    }

    [Fact]
    public void From300To340_FourHopsOneAtATime_GenerationAndLoadBalancerChange()
    {
        var plan = Planned("3.0.0", "3.4.0");

        Assert.Equal(["3.0.0 → 3.1.0", "3.1.0 → 3.2.0", "3.2.0 → 3.3.0", "3.3.0 → 3.4.0"], plan.Hops.Select(h => h.ToString()));
        Assert.All(plan.Hops, h => Assert.False(h.StartBeforeNext));
        Assert.True(plan.GenerationChanges);
        Assert.True(plan.LoadBalancerChanges);
        var steps = plan.Steps();
        Assert.StartsWith("Check every node: reachable, on OpenVidu 3.0.0", steps[0], StringComparison.Ordinal);
        Assert.Equal("Stop every node: media nodes first, then the masters.", steps[1]);
        Assert.Contains(steps, s => s.StartsWith("Run OpenVidu's 3.2.0 updater on every node at once (3.1.0 → 3.2.0)", StringComparison.Ordinal) && s.Contains("/opt/openvidu/backups/<date>_3.1.0/", StringComparison.Ordinal));
        Assert.Contains("replace the load balancer's config", steps[^1], StringComparison.Ordinal);
    }

    /// <summary>OpenVidu: a cluster on 3.4.x going past 3.5.0 must start on 3.5.0 once before the next hop.</summary>
    [Theory]
    [InlineData("3.4.0", "3.6.0", "3.4.1 → 3.5.0")]
    [InlineData("3.4.1", "3.9.0", "3.4.1 → 3.5.0")]
    [InlineData("3.4.0", "3.5.0", null)]
    [InlineData("3.5.0", "3.9.0", null)]
    [InlineData("3.0.0", "3.9.0", null)]
    public void From34x_PastThe350_StartsOnceOn350(string from, string to, string? startAfter)
    {
        var plan = Planned(from, to);

        Assert.Equal(startAfter, plan.Hops.SingleOrDefault(h => h.StartBeforeNext)?.ToString());
        Assert.Equal(V(to), plan.Hops[^1].To);
        Assert.Equal(V(from).Generation != V(to).Generation, plan.LoadBalancerChanges);
        if (startAfter is not null) Assert.Contains(plan.Steps(), s => s.StartsWith("Start every node on 3.5.0", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("3.4.0", "3.0.0", "OpenVidu 3.0.0 is older than the cluster's 3.4.0: the updater only goes forward.")]
    [InlineData("3.4.0", "3.4.0", "The cluster already runs OpenVidu 3.4.0.")]
    [InlineData("3.4.0", "3.4.2", "OpenVidu 3.4.2 is not on the updater's chain")]
    [InlineData("3.0.0", "3.2.0", "OpenVidu 3.2.0 is only a step of the chain here")]
    [InlineData("3.0.1", "3.4.0", "The cluster's version 3.0.1 is not on the updater's chain")]
    [InlineData("3.4.0", "latest", "'latest' is not a version: give X.Y.Z")]
    [InlineData("3.4.0", "", "Give targetVersion")]
    [InlineData("3.4.0", null, "Give targetVersion")]
    public void Refused_WithTheReason(string from, string? to, string reason)
    {
        var (plan, refusal) = UpgradeChain.Plan(V(from), to);

        Assert.Null(plan);
        Assert.StartsWith(reason, refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Chain_IsOrdered_AndEndsAtTheNewestKnownRelease()
    {
        Assert.Equal(UpgradeChain.Versions.Order(), UpgradeChain.Versions);
        Assert.Equal(OpenViduVersion.KnownReleases[^1], UpgradeChain.Versions[^1].ToString());
        Assert.All(OpenViduVersion.KnownReleases, r => Assert.Contains(V(r), UpgradeChain.Versions));
    }
}
