using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Core.Tests.Status;

public sealed class PortPlanTests
{
    private static (PortPlan Plan, List<WatchedNode> Nodes) Plan(ClusterDefinition cluster)
    {
        var nodes = cluster.Nodes.Select((n, i) => new WatchedNode(i + 1, n.Name, n.Role, n.PrivateIp)).ToList();
        return (new PortPlan(cluster, nodes), nodes);
    }

    [Fact]
    public void Signature_SameClusterAndNodes_Equal_AnAddressOrANodeChanged_Differs()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var (plan, nodes) = Plan(cluster);
        var moved = nodes.Select(n => n.Name == "media-2" ? n with { PrivateIp = "10.0.9.9" } : n).ToList();

        // Act
        var again = new PortPlan(cluster, nodes).Signature;
        var afterMove = new PortPlan(cluster, moved).Signature;
        var withoutOne = new PortPlan(cluster, nodes.Take(nodes.Count - 1).ToList()).Signature;

        // Assert
        Assert.Equal(plan.Signature, again);
        Assert.NotEqual(plan.Signature, afterMove);
        Assert.NotEqual(plan.Signature, withoutOne);
        Assert.Equal(nodes.Sum(n => plan.FromNode(n.Id).Sum(t => t.Ports.Count) + plan.FromPanel(n.Id).Count), plan.Signature.Checks);
    }

    [Fact]
    public void Expected_RedisOnAMaster_CheckedFromEveryOtherMasterAndEveryMediaNode()
    {
        var (plan, nodes) = Plan(TestClusters.Full("3.8.0"));
        var master1 = nodes.Single(n => n.Name == "master-1");

        var redis = plan.Expected(master1.Id).Where(e => e.Port == 7000).Select(e => e.Source.Name).Order().ToList();

        Assert.Equal(["master-2", "master-3", "master-4", "media-1", "media-2"], redis);
        // Master-to-master only ports (current generation) are not checked from media nodes.
        Assert.DoesNotContain(plan.Expected(master1.Id), e => e.Port == 3000 && e.Source.Role == NodeRole.Media);
        Assert.Contains(plan.Expected(master1.Id), e => e.Port == 3000 && e.Source.Name == "master-2");
    }

    [Fact]
    public void FromNode_MediaNode_ChecksTheMastersPortsItNeeds_NeverItself()
    {
        var (plan, nodes) = Plan(TestClusters.Full("3.8.0"));
        var media1 = nodes.Single(n => n.Name == "media-1");

        var targets = plan.FromNode(media1.Id);

        Assert.Equal(TestClusters.MasterIps, targets.Select(t => t.Ip).Order());
        Assert.All(targets, t => Assert.Contains(7000, t.Ports));
        Assert.All(targets, t => Assert.Contains(20000, t.Ports));
        Assert.All(targets, t => Assert.DoesNotContain(3000, t.Ports)); // masters only
        Assert.DoesNotContain(targets, t => t.Ip == media1.PrivateIp);
    }

    [Fact]
    public void FromPanel_LoadBalancerPorts_ButNotTheHealthPortOrWideRanges()
    {
        var (plan, nodes) = Plan(TestClusters.Full("3.8.0"));
        var master = nodes.Single(n => n.Name == "master-1");
        var media = nodes.Single(n => n.Name == "media-1");

        Assert.Equal([1945, 5349], plan.FromPanel(master.Id));
        Assert.Equal([7881], plan.FromPanel(media.Id)); // 3.4+: RTMP and TURN reach media nodes from the masters, not the LB
        Assert.Contains(plan.Expected(media.Id), e => e.Port == 7880 && e.Source.Name == "master-1");
        Assert.DoesNotContain(plan.Expected(media.Id), e => e.Port >= 50000);
    }

    [Fact]
    public void Expected_CurrentMediaRtmpAndTurn_CheckedFromEveryMasterNotFromThePanel()
    {
        var (plan, nodes) = Plan(TestClusters.Full("3.8.0"));
        var media = nodes.Single(n => n.Name == "media-2");
        var master = nodes.Single(n => n.Name == "master-3");

        var rtmpFrom = plan.Expected(media.Id).Where(e => e.Port == 1935).Select(e => e.Source.Name).Order().ToList();
        var turnFrom = plan.Expected(media.Id).Where(e => e.Port == 5349).Select(e => e.Source.Name).Order().ToList();
        var fromMaster = plan.FromNode(master.Id).Single(t => t.Ip == media.PrivateIp);

        Assert.Equal(["master-1", "master-2", "master-3", "master-4"], rtmpFrom);
        Assert.Equal(["master-1", "master-2", "master-3", "master-4"], turnFrom);
        Assert.Equal([1935, 5349, 7880, 8080], fromMaster.Ports);
        Assert.DoesNotContain(1935, plan.FromPanel(media.Id));
        Assert.DoesNotContain(5349, plan.FromPanel(media.Id));
    }

    [Fact]
    public void FromPanel_V30MediaRtmpAndTurn_CheckedFromThePanelNotFromTheMasters()
    {
        var (plan, nodes) = Plan(TestClusters.Full("3.0.0"));
        var media = nodes.Single(n => n.Name == "media-1");
        var master = nodes.Single(n => n.Name == "master-1");

        Assert.Equal([1935, 5349, 7881], plan.FromPanel(media.Id));
        Assert.Empty(plan.FromPanel(master.Id));
        Assert.DoesNotContain(plan.Expected(media.Id), e => e.Port is 1935 or 5349);
    }

    [Fact]
    public void FromPanel_MinimalCluster_OnlyWhatItsOptionsOpen()
    {
        var (plan, nodes) = Plan(TestClusters.Minimal("3.0.0"));

        Assert.Empty(plan.FromPanel(nodes.Single(n => n.Name == "master-1").Id));
        Assert.Empty(plan.FromPanel(nodes.Single(n => n.Name == "media-1").Id)); // no RTMP, TURN or WebRTC over TCP
        Assert.DoesNotContain(plan.Expected(nodes.Single(n => n.Name == "media-1").Id), e => e.Port == 8080); // no WHIP
    }
}
