using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Core.Tests.Status;

public sealed class HealthRulesTests
{
    private static readonly StatusOptions Options = new();
    private static readonly PortCheck HealthOk = new(7880, "http", "panel", true, "HTTP 200");
    private static readonly PortCheck HealthRefused = new(7880, "http", "panel", false, "connection refused");

    private static ContainerStatus Running(string name, int restarts = 0) => new(name, "img", "running", "Up 2 hours", restarts);

    private static NodeFacts Facts(NodeRole role = NodeRole.Master, string service = "active", PortCheck? health = null, IReadOnlyList<ContainerStatus>? containers = null) => new()
    {
        Role = role,
        Reachable = true,
        Probe = new ProbeResult
        {
            Service = service,
            Containers = containers ?? [Running("caddy"), new ContainerStatus("openvidu-init", "busybox", "exited", "Exited (0) 2 hours ago", 0)],
            Resources = new NodeResources(0.1, 0.1, 0.1, 4, 1000, 800, 1000, 500, "/"),
        },
        Health = health ?? HealthOk,
        Ports = [health ?? HealthOk],
    };

    [Fact]
    public void Judge_AllFine_GreenWithoutReasons()
    {
        var verdict = HealthRules.Judge(Facts(), Options);

        Assert.Equal(NodeHealth.Green, verdict.Health);
        Assert.False(verdict.Down);
        Assert.Empty(verdict.Reasons);
    }

    [Fact]
    public void Judge_Unreachable_AndHealthFails_RedWithBothReasons()
    {
        var facts = Facts(health: HealthRefused) with { Reachable = false, Probe = null, SshError = "connection refused by 10.0.0.1:22" };

        var verdict = HealthRules.Judge(facts, Options);

        Assert.Equal(NodeHealth.Red, verdict.Health);
        Assert.True(verdict.Down);
        Assert.Equal("unreachable: connection refused by 10.0.0.1:22; /health/caddy on 7880: connection refused", verdict.Reasons[0]);
    }

    [Fact]
    public void Judge_SshDownButServiceAnswers_AmberNotDown()
    {
        var facts = Facts() with { Reachable = false, Probe = null, SshError = "connection refused" };

        var verdict = HealthRules.Judge(facts, Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.False(verdict.Down);
        Assert.Contains("still answers", verdict.Reasons[0], StringComparison.Ordinal);
    }

    [Fact]
    public void Judge_ServiceInactive_Red()
    {
        var verdict = HealthRules.Judge(Facts(service: "inactive", health: HealthRefused), Options);

        Assert.Equal(NodeHealth.Red, verdict.Health);
        Assert.Equal(["openvidu service is inactive"], verdict.Reasons);
    }

    [Fact]
    public void Judge_RestartingContainer_AmberNamingIt()
    {
        var verdict = HealthRules.Judge(Facts(containers: [Running("caddy"), new ContainerStatus("grafana", "img", "restarting", "Restarting (1) 2 seconds ago", 4)]), Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.Equal(["container grafana is restarting"], verdict.Reasons);
    }

    [Fact]
    public void Judge_ContainerRestartedSinceLastCheck_Amber_ThenGreenWhenStable()
    {
        var facts = Facts(containers: [Running("caddy", restarts: 3)]);

        var grew = HealthRules.Judge(facts with { PreviousRestarts = new Dictionary<string, int> { ["caddy"] = 2 } }, Options);
        var stable = HealthRules.Judge(facts with { PreviousRestarts = new Dictionary<string, int> { ["caddy"] = 3 } }, Options);

        Assert.Equal(["container caddy restarted since the last check"], grew.Reasons);
        Assert.Equal(NodeHealth.Green, stable.Health);
    }

    [Fact]
    public void Judge_MediaNotReady_Amber()
    {
        var notReady = new PortCheck(7880, "http", "panel", false, "HTTP 406 Not Ready");

        var verdict = HealthRules.Judge(Facts(NodeRole.Media, health: notReady), Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.False(verdict.Down);
    }

    [Fact]
    public void Judge_MasterHealthFails_Red()
    {
        var verdict = HealthRules.Judge(Facts(health: new PortCheck(7880, "http", "panel", false, "HTTP 503 Service Unavailable")), Options);

        Assert.Equal(NodeHealth.Red, verdict.Health);
        Assert.Equal(["/health/caddy on 7880: HTTP 503 Service Unavailable"], verdict.Reasons);
    }

    [Fact]
    public void Judge_ClosedPorts_OneReasonPerPort_NamingWhereFrom()
    {
        var facts = Facts() with
        {
            Ports = [HealthOk, new PortCheck(7000, "tcp", "master-2", false), new PortCheck(7000, "tcp", "media-1", false), new PortCheck(7000, "tcp", "master-3", true), new PortCheck(9100, "tcp", "master-2", false)],
        };

        var verdict = HealthRules.Judge(facts, Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.Equal(["port 7000/tcp closed from master-2, media-1", "port 9100/tcp closed from master-2"], verdict.Reasons);
    }

    [Fact]
    public void Judge_DiskFull_Amber()
    {
        var facts = Facts() with { Probe = Facts().Probe! with { Resources = new NodeResources(0, 0, 0, 4, 1000, 800, 1000, 950, "/opt/openvidu") } };

        Assert.Equal(["disk /opt/openvidu over 90% full"], HealthRules.Judge(facts, Options).Reasons);
    }

    [Fact]
    public void Judge_NodeStoppedByARunningJob_AmberButStillDown()
    {
        var facts = Facts(service: "inactive", health: HealthRefused) with { RunningJob = "rolling-restart job #7" };

        var verdict = HealthRules.Judge(facts, Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.True(verdict.Down);
        Assert.Equal("rolling-restart job #7 running", verdict.Reasons[0]);
    }

    private static (NodeStatus, bool) Node(string name, NodeRole role, bool down, NodeHealth health = NodeHealth.Green) =>
        (new NodeStatus { NodeId = name.GetHashCode(StringComparison.Ordinal), Name = name, Role = role, PrivateIp = "10.0.0.1", Health = down ? NodeHealth.Red : health, CheckedAt = DateTimeOffset.UnixEpoch }, down);

    private static List<(NodeStatus, bool)> Cluster(int mastersDown, int mediaDown = 0, int media = 2) =>
        Enumerable.Range(1, 4).Select(i => Node($"master-{i}", NodeRole.Master, i <= mastersDown))
            .Concat(Enumerable.Range(1, media).Select(i => Node($"media-{i}", NodeRole.Media, i <= mediaDown))).ToList();

    [Theory]
    [InlineData(0, ClusterHealth.Healthy, "All 6 watched nodes are healthy.")]
    [InlineData(1, ClusterHealth.Degraded, "1 master down (master-1): no effect on service")]
    [InlineData(2, ClusterHealth.Degraded, "2 masters down (master-1, master-2): egress (recording, streaming) is affected")]
    [InlineData(3, ClusterHealth.Down, "3 masters down (master-1, master-2, master-3): the cluster is out of service")]
    [InlineData(4, ClusterHealth.Down, "4 masters down")]
    public void JudgeCluster_MastersDown_FollowsTheFaultTolerance(int down, ClusterHealth expected, string reason)
    {
        var (health, text) = HealthRules.Judge(Cluster(down), null);

        Assert.Equal(expected, health);
        Assert.StartsWith(reason, text, StringComparison.Ordinal);
    }

    [Fact]
    public void JudgeCluster_OneMediaNodeDown_Degraded_AllMediaDown_Down()
    {
        Assert.Equal(ClusterHealth.Degraded, HealthRules.Judge(Cluster(0, mediaDown: 1), null).Health);
        var (health, reason) = HealthRules.Judge(Cluster(0, mediaDown: 2), null);
        Assert.Equal(ClusterHealth.Down, health);
        Assert.Contains("every media node is down", reason, StringComparison.Ordinal);
    }

    [Fact]
    public void JudgeCluster_AmberNode_DegradedNamingIt()
    {
        var nodes = Cluster(0);
        nodes[5] = Node("media-2", NodeRole.Media, false, NodeHealth.Amber);

        var (health, reason) = HealthRules.Judge(nodes, null);

        Assert.Equal(ClusterHealth.Degraded, health);
        Assert.Equal("warnings on media-2.", reason);
    }

    [Fact]
    public void JudgeCluster_LoadBalancerUnreachable_Degraded_NotCheckedIgnored()
    {
        Assert.Equal(ClusterHealth.Degraded, HealthRules.Judge(Cluster(0), new LoadBalancerStatus("lb", true, false, "connection refused")).Health);
        Assert.Equal(ClusterHealth.Healthy, HealthRules.Judge(Cluster(0), new LoadBalancerStatus("lb", false, false, "not checked")).Health);
    }

    [Fact]
    public void JudgeCluster_NothingChecked_Unknown()
    {
        var nodes = new List<(NodeStatus, bool)> { (new NodeStatus { NodeId = 1, Name = "master-1", Role = NodeRole.Master, PrivateIp = "10.0.0.1", NotWatched = "not installed yet" }, false) };

        Assert.Equal(ClusterHealth.Unknown, HealthRules.Judge(nodes, null).Health);
    }
    [Theory]
    [InlineData(NodeRole.Media, "HTTP 406 Not Acceptable", NodeHealth.Amber)]
    [InlineData(NodeRole.Master, "HTTP 406 Not Acceptable", NodeHealth.Red)]
    [InlineData(NodeRole.Media, "HTTP 500", NodeHealth.Red)]
    public void Judge_HealthFailsWhileActive_OnlyAMediaNodesNotReadyIsAmber(NodeRole role, string detail, NodeHealth expected)
    {
        // Arrange
        var facts = Facts(role, health: new PortCheck(7880, "http", "panel", false, detail));

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(expected, verdict.Health);
        var path = role == NodeRole.Master ? "/health/caddy" : "/";
        Assert.Equal(expected == NodeHealth.Amber ? $"{path} on 7880 answers {detail} (media stats stale: takes no new sessions)" : $"{path} on 7880: {detail}",
            verdict.Reasons[0]);
    }

    [Fact]
    public void Judge_DockerDoesNotAnswer_AmberWithItsError()
    {
        // Arrange
        var facts = Facts() with { Probe = Facts().Probe! with { DockerError = "Cannot connect to the Docker daemon" } };

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.Equal(["docker did not answer: Cannot connect to the Docker daemon"], verdict.Reasons);
    }

    [Theory]
    [InlineData("openvidu-init", "exited", "Exited (0) 2 hours ago", null)]
    [InlineData("openvidu-init", "exited", "Exited (1) 2 hours ago", "container openvidu-init is exited")]
    [InlineData("openvidu-init", "created", "Exited (0) 2 hours ago", "container openvidu-init is created")]
    [InlineData("caddy", "exited", "Exited (0) 2 hours ago", "container caddy is exited")]
    public void Judge_ContainerNotRunning_AmberUnlessTheInitContainerEndedWell(string name, string state, string status, string? reason)
    {
        // Arrange
        var facts = Facts(containers: [Running("caddy-proxy"), new ContainerStatus(name, "img", state, status, 0)]);

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(reason is null ? [] : [reason], verdict.Reasons);
    }

    [Fact]
    public void Judge_ServiceInactive_ContainersNotJudged()
    {
        // Arrange: a stopped service stops its containers: one reason, not one per container.
        var facts = Facts(service: "inactive", containers: [new ContainerStatus("caddy", "img", "exited", "Exited (0) 1 minute ago", 0)]);

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(["openvidu service is inactive"], verdict.Reasons);
    }

    [Theory]
    [InlineData(1000, 899, 1000, 1000, null)]
    [InlineData(1000, 900, 1000, 1000, "disk / over 90% full")]
    [InlineData(0, 900, 1000, 1000, null)]
    [InlineData(1000, 0, 1000, 51, null)]
    [InlineData(1000, 0, 1000, 50, "memory over 95% used")]
    [InlineData(1000, 0, 0, 0, null)]
    public void Judge_DiskAndMemory_AmberFromTheWarningPercentOn(long diskTotal, long diskUsed, long memoryTotal, long memoryAvailable, string? reason)
    {
        // Arrange: 0 totals are what a probe that could not read them reports.
        var facts = Facts() with { Probe = Facts().Probe! with { Resources = new NodeResources(0.1, 0.1, 0.1, 4, memoryTotal, memoryAvailable, diskTotal, diskUsed, "/") } };

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(reason is null ? [] : [reason], verdict.Reasons);
    }

    [Fact]
    public void Judge_SshDownServiceAnswersPortClosed_AmberWithThePort()
    {
        // Arrange
        var facts = Facts() with
        {
            Reachable = false, Probe = null, SshError = "timeout",
            Ports = [HealthOk, new PortCheck(7000, "tcp", "master-2", false), new PortCheck(7000, "udp", "master-3", false)],
        };

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Equal(["SSH unreachable (timeout); the service still answers /health/caddy on 7880", "port 7000/tcp closed from master-2"], verdict.Reasons);
    }

    [Fact]
    public void Judge_UnreachableAndDown_ClosedPortsNotListed()
    {
        // Arrange: a node that is down has every port closed; naming them adds nothing.
        var facts = Facts(health: HealthRefused) with { Reachable = false, Probe = null, SshError = "timeout", Ports = [HealthRefused, new PortCheck(7000, "tcp", "master-2", false)] };

        // Act
        var verdict = HealthRules.Judge(facts, Options);

        // Assert
        Assert.Single(verdict.Reasons);
    }

    [Fact]
    public void JudgeCluster_NodeNeverChecked_NotCounted()
    {
        // Arrange
        var nodes = Cluster(0);
        nodes[0] = (nodes[0].Item1 with { CheckedAt = null }, true);

        // Act
        var (health, reason) = HealthRules.Judge(nodes, null);

        // Assert
        Assert.Equal((ClusterHealth.Healthy, "All 5 watched nodes are healthy."), (health, reason));
    }

    [Fact]
    public void JudgeCluster_NothingWatched_UnknownSaysWhy()
    {
        // Act
        var (health, reason) = HealthRules.Judge([], null);

        // Assert
        Assert.Equal((ClusterHealth.Unknown, "Not checked yet: no installed node is watched."), (health, reason));
    }

    [Fact]
    public void JudgeCluster_NoMediaNodeWatched_NotDown()
    {
        // Act
        var (health, _) = HealthRules.Judge(Cluster(0, media: 0), null);

        // Assert
        Assert.Equal(ClusterHealth.Healthy, health);
    }

    [Theory]
    [InlineData(1, "media node down (media-1): its sessions are lost, capacity is reduced.")]
    [InlineData(2, "media nodes down (media-1, media-2): their sessions are lost, capacity is reduced.")]
    public void JudgeCluster_SomeMediaNodesDown_ReasonInSingularOrPlural(int down, string reason)
    {
        // Act
        var (health, text) = HealthRules.Judge(Cluster(0, mediaDown: down, media: 3), null);

        // Assert
        Assert.Equal((ClusterHealth.Degraded, reason), (health, text));
    }

    [Fact]
    public void JudgeCluster_SeveralProblems_AllReasonsInOneSentence()
    {
        // Arrange
        var nodes = Cluster(1, mediaDown: 1, media: 3);
        nodes[6] = Node("media-3", NodeRole.Media, false, NodeHealth.Amber);

        // Act
        var (_, reason) = HealthRules.Judge(nodes, new LoadBalancerStatus("lb", true, false, "connection refused"));

        // Assert
        Assert.Equal("1 master down (master-1): no effect on service, but no room for another failure beyond egress; " +
                     "media node down (media-1): its sessions are lost, capacity is reduced; warnings on media-3; load balancer: connection refused.", reason);
    }

    [Fact]
    public void Judge_LeavingMediaNode_StoppedByItsDrain_AmberNotDown()
    {
        var facts = Facts(NodeRole.Media, service: "active", health: HealthRefused) with { RunningJob = "remove-node job #9", Leaving = true };

        var verdict = HealthRules.Judge(facts, Options);

        Assert.Equal(NodeHealth.Amber, verdict.Health);
        Assert.False(verdict.Down);
        Assert.Equal("leaving the cluster (remove-node): takes no new rooms", verdict.Reasons[0]);
    }

    [Fact]
    public void JudgeCluster_LeavingMediaNode_CountedAsLeaving_NotDown_NotAWarning()
    {
        var nodes = Cluster(0, media: 3);
        nodes[5] = (nodes[5].Item1 with { Health = NodeHealth.Amber, Leaving = true }, false);

        var (health, reason) = HealthRules.Judge(nodes, null);

        Assert.Equal(ClusterHealth.Healthy, health);
        Assert.Equal("All 6 watched nodes are healthy. media-2 is leaving the cluster.", reason);
    }

    [Fact]
    public void JudgeCluster_EveryStayingMediaNodeDown_DownEvenWithOneLeaving()
    {
        var nodes = Cluster(0, mediaDown: 1, media: 2);
        nodes[5] = (nodes[5].Item1 with { Health = NodeHealth.Amber, Leaving = true }, false);

        var (health, reason) = HealthRules.Judge(nodes, null);

        Assert.Equal(ClusterHealth.Down, health);
        Assert.StartsWith("every media node is down (media-1)", reason, StringComparison.Ordinal);
    }
}
