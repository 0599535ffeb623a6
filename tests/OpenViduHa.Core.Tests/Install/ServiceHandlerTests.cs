using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Install;

/// <summary>
/// start, stop, restart and the rolling restart through the real runner and ServiceHandler on <see cref="LocalNode"/>s
/// (stand-in systemctl and health endpoint). The same over real SSH: OpenViduHa.Install.Tests.
/// </summary>
public sealed class ServiceHandlerTests
{
    private static async Task<LocalCluster> InstalledAsync(int media = 1)
    {
        var cluster = await LocalCluster.StartAsync(media: media);
        await cluster.MarkInstalledAsync();
        return cluster;
    }

    [Theory]
    [InlineData(JobKind.Start, "start", "Started and healthy")]
    [InlineData(JobKind.Restart, "restart", "Restarted and healthy")]
    public async Task StartOrRestart_MediaNode_HealthyAfterwards(JobKind kind, string verb, string message)
    {
        // Arrange
        await using var cluster = await InstalledAsync();

        // Act
        var result = await cluster.RunAsync(kind, target: "media-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal(message, result.NodeMessage("media-1"));
        Assert.Equal([verb], cluster.Node("media-1").SystemctlCalls);
        Assert.Contains("ovha-health=200", result.Lines("media-1"));
    }

    [Fact]
    public async Task Stop_MasterWhileTheOthersAreHealthy_Stopped()
    {
        // Arrange
        await using var cluster = await InstalledAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.Stop, target: "master-2");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal("Stopped", result.NodeMessage("master-2"));
        Assert.Equal("inactive", cluster.Node("master-2").Service);
        Assert.All(cluster.Masters.Where(m => m.Name != "master-2"), m => Assert.Empty(m.SystemctlCalls));
    }

    [Fact]
    public async Task Stop_MasterWhileAnotherIsUnhealthyOrUnreachable_RefusedNamingThem()
    {
        // Arrange
        await using var cluster = await InstalledAsync();
        cluster.Node("master-3").HealthAnswers("502");
        cluster.Fail("master-4", SshFailureKind.Timeout);

        // Act
        var result = await cluster.RunAsync(JobKind.Stop, target: "master-1");

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal("Not taking master-1 down: the other masters must be healthy first, and master-3 (HTTP 502), master-4 (Timeout) are not. " +
                     "A second master down affects the cluster.", result.Job.Message);
        Assert.Equal("active", cluster.Node("master-1").Service);
    }

    [Fact]
    public async Task Stop_MediaNode_NoMasterChecked()
    {
        // Arrange
        await using var cluster = await InstalledAsync();
        foreach (var master in cluster.Masters) master.Service = "inactive";

        // Act
        var result = await cluster.RunAsync(JobKind.Stop, target: "media-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.All(cluster.Masters, m => Assert.Empty(m.Commands));
    }

    [Fact]
    public async Task Start_MasterWhileAnotherIsDown_StartsAnyway()
    {
        // Arrange: starting a master takes nothing down.
        await using var cluster = await InstalledAsync();
        cluster.Node("master-1").Service = "inactive";
        cluster.Node("master-2").Service = "inactive";

        // Act
        var result = await cluster.RunAsync(JobKind.Start, target: "master-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Empty(cluster.Node("master-3").Commands);
    }

    [Fact]
    public async Task Stop_SystemctlFails_NodeFailedWithItsMessage()
    {
        // Arrange
        await using var cluster = await InstalledAsync();
        cluster.Node("media-1").SystemctlFails();

        // Act
        var result = await cluster.RunAsync(JobKind.Stop, target: "media-1");

        // Assert
        Assert.Equal("systemctl stop openvidu failed: Job for openvidu.service failed because the control process exited with error code.", result.NodeMessage("media-1"));
        Assert.Equal(JobState.Failed, result.State);
    }

    [Fact]
    public async Task Restart_MediaNodeUnreachable_FailedWithTheSshReason()
    {
        // Arrange
        await using var cluster = await InstalledAsync();
        cluster.Fail("media-1", SshFailureKind.ConnectionRefused);

        // Act
        var result = await cluster.RunAsync(JobKind.Restart, target: "media-1");

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.StartsWith($"127.0.0.1:{cluster.Node("media-1").Port} refused the connection", result.NodeMessage("media-1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RollingRestart_AllHealthy_MastersOneAtATimeThenMedia()
    {
        // Arrange
        await using var cluster = await InstalledAsync(media: 2);

        // Act
        var result = await cluster.RunAsync(JobKind.RollingRestart);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal(["master-1 systemctl restart", "master-2 systemctl restart", "master-3 systemctl restart", "master-4 systemctl restart",
            "media-1 systemctl restart", "media-2 systemctl restart"], cluster.SystemctlOrder);
        Assert.All(result.Job.Nodes, n => Assert.Equal((NodeJobState.Succeeded, "Restarted and healthy"), (n.State, n.Message)));
    }

    [Fact]
    public async Task RollingRestart_MasterNotBackHealthy_StopsThereAndSkipsTheRest()
    {
        // Arrange: master-2 is healthy until its restart fails.
        await using var cluster = await InstalledAsync();
        cluster.Node("master-2").SystemctlFails();

        // Act
        var result = await cluster.RunAsync(JobKind.RollingRestart);

        // Assert
        Assert.Equal(["master-1 systemctl restart", "master-2 systemctl restart"], cluster.SystemctlOrder);
        Assert.Equal((NodeJobState.Failed, "systemctl restart openvidu failed: Job for openvidu.service failed because the control process exited with error code."),
            (result.NodeState("master-2"), result.NodeMessage("master-2")));
        foreach (var name in new[] { "master-3", "master-4", "media-1" })
        {
            Assert.Equal((NodeJobState.Skipped, "Not restarted: master-2 did not come back healthy, and a second master down would affect the cluster."),
                (result.NodeState(name), result.NodeMessage(name)));
        }
        Assert.Equal("Failed on master-2, master-3, master-4, media-1.", result.Job.Message);
    }

    [Fact]
    public async Task RollingRestart_MediaNodeFails_TheOthersGoOn()
    {
        // Arrange
        await using var cluster = await InstalledAsync(media: 2);
        cluster.Node("media-1").SystemctlFails();

        // Act
        var result = await cluster.RunAsync(JobKind.RollingRestart);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("media-2"));
        Assert.Equal("Failed on media-1.", result.Job.Message);
    }

    [Fact]
    public async Task RollingRestart_AMasterAlreadyDown_RefusesAtTheNextMasterAndSkipsFromThere()
    {
        // Arrange: master-3 is down before the job: restarting master-1 would make two.
        await using var cluster = await InstalledAsync();
        cluster.Node("master-3").Service = "inactive";

        // Act
        var result = await cluster.RunAsync(JobKind.RollingRestart);

        // Assert
        Assert.Empty(cluster.SystemctlOrder);
        Assert.All(result.Job.Nodes, n => Assert.Equal(NodeJobState.Skipped, n.State));
        Assert.Equal("Not restarted: Not taking master-1 down: the other masters must be healthy first, and master-3 (HTTP no answer) are not. " +
                     "A second master down affects the cluster.", result.NodeMessage("media-1"));
    }
}
