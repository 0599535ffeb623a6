using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>The SSH steps jobs share, on <see cref="LocalNode"/>s: connecting, leftovers, logged commands, health.</summary>
public sealed class NodeOpsTests
{
    private static async Task<List<string>> LogAsync(LocalCluster cluster, int jobId)
    {
        await using var db = cluster.Db.Open();
        return await db.JobLog.Where(l => l.JobId == jobId).OrderBy(l => l.Seq).Select(l => $"[{l.NodeName}] {l.Text}").ToListAsync();
    }

    [Theory]
    [InlineData(NodeRole.Master, "curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://10.5.0.1:7880/health/caddy")]
    [InlineData(NodeRole.Media, "curl -s -o /dev/null -w '%{http_code}' --max-time 5 http://10.5.0.1:7880/")]
    public void HealthCommand_Role_AsksTheRolesEndpoint(NodeRole role, string expected)
    {
        // Arrange
        var node = new JobNode(1, new NodeDefinition("n", role, "10.5.0.1", null), new SshTarget("n", "h", 22, "root", new Core.Nodes.SshCredentials(null, null, "p", null), null));

        // Act
        var command = NodeOps.HealthCommand(node);

        // Assert
        Assert.Equal(expected, command);
    }

    [Fact]
    public async Task ConnectAsync_ChangingJob_RemovesLeftoversOncePerNodeAndSaysSo()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.RollingRestart);
        var node = cluster.Node("media-1");
        node.Write("/run/ovha-panel/j999-aaaaaaaaaaaa-install.sh", "old");
        var jobNode = run.AllNodes.Single(n => n.Name == "media-1");

        // Act
        await using (await cluster.Ops.ConnectAsync(run, jobNode)) { }
        await using (await cluster.Ops.ConnectAsync(run, jobNode)) { }

        // Assert
        Assert.Empty(node.List("/run/ovha-panel"));
        Assert.Single(node.Commands);
        Assert.Equal(["[media-1] Removed 1 file(s) an earlier job left in /run/ovha-panel or /tmp."], await LogAsync(cluster, run.Context.JobId));
    }

    [Fact]
    public async Task ConnectAsync_NothingLeft_SaysNothing()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);

        // Act
        await using (await cluster.Ops.ConnectAsync(run, run.AllNodes[0])) { }

        // Assert
        Assert.Single(cluster.Nodes[0].Commands);
        Assert.Empty(await LogAsync(cluster, run.Context.JobId));
    }

    [Theory]
    [InlineData(JobKind.Preflight)]
    [InlineData(JobKind.CheckCredentials)]
    [InlineData(JobKind.FetchInstallerDigests)]
    public async Task ConnectAsync_JobThatChangesNothing_LeavesLeftoversAlone(JobKind kind)
    {
        // Arrange: a changing job may run beside it, and those files could be its own.
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(kind);
        cluster.Nodes[0].Write("/run/ovha-panel/j999-aaaaaaaaaaaa-install.sh", "another job's");

        // Act
        await using (await cluster.Ops.ConnectAsync(run, run.AllNodes[0])) { }

        // Assert
        Assert.Empty(cluster.Nodes[0].Commands);
        Assert.Single(cluster.Nodes[0].List("/run/ovha-panel"));
    }

    [Fact]
    public async Task ConnectAsync_UnconfirmedHostKey_RecordsWhatWasPresentedAndFails()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Preflight);
        var node = run.AllNodes[2] with { Ssh = run.AllNodes[2].Ssh with { PinnedFingerprint = null } };

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => cluster.Ops.ConnectAsync(run, node));

        // Assert
        Assert.Equal(SshFailureKind.HostKeyNotConfirmed, failure.Kind);
        var row = (await cluster.Db.NodesAsync(cluster.ClusterId)).Single(n => n.Id == node.Id);
        Assert.Equal(cluster.Node("master-3").HostKeyFingerprint, row.PresentedHostKeyFingerprint);
    }

    [Fact]
    public async Task ConnectAsync_Refused_NothingRecorded()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Preflight);
        cluster.Fail("master-1", SshFailureKind.ConnectionRefused);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => cluster.Ops.ConnectAsync(run, run.AllNodes[0]));

        // Assert
        Assert.Equal(SshFailureKind.ConnectionRefused, failure.Kind);
        Assert.All(await cluster.Db.NodesAsync(cluster.ClusterId), n => Assert.Null(n.PresentedHostKeyFingerprint));
    }

    [Fact]
    public async Task RecordPresentedKeyAsync_NodeGone_DoesNothing()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Preflight);
        var gone = run.AllNodes[0] with { Id = 999 };

        // Act
        var thrown = await Record.ExceptionAsync(() => cluster.Ops.RecordPresentedKeyAsync(gone, "SHA256:x"));

        // Assert
        Assert.Null(thrown);
    }

    [Fact]
    public async Task RunLoggedAsync_Output_EveryLineLoggedInOrderAndFirstOutputSignalledOnce()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Preflight);
        var node = run.AllNodes[4];
        await using var session = await cluster.Ops.ConnectAsync(run, node);
        var firstOutputs = 0;

        // Act
        var result = await cluster.Ops.RunLoggedAsync(run, session, node, "for i in 1 2 3 4 5; do echo line $i; done; echo oops >&2; exit 4", "lines",
            onFirstOutput: () => Interlocked.Increment(ref firstOutputs));

        // Assert
        Assert.Equal(4, result.ExitStatus);
        Assert.Equal("line 1\nline 2\nline 3\nline 4\nline 5\n", result.Stdout);
        Assert.Equal(1, firstOutputs);
        var log = await LogAsync(cluster, run.Context.JobId);
        Assert.Equal(["[media-1] line 1", "[media-1] line 2", "[media-1] line 3", "[media-1] line 4", "[media-1] line 5"], log.Where(l => l.Contains("line", StringComparison.Ordinal)));
        Assert.Contains("[media-1] oops", log);
    }

    [Fact]
    public async Task RunLoggedAsync_CommandOverItsTimeout_TimesOut()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Preflight);
        var node = run.AllNodes[0];
        await using var session = await cluster.Ops.ConnectAsync(run, node);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            cluster.Ops.RunLoggedAsync(run, session, node, "sleep 30", "a slow step", timeout: TimeSpan.FromMilliseconds(300)));

        // Assert
        Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        Assert.Contains("a slow step timed out", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlAndWaitHealthyAsync_MediaNotReady_NotHealthyWithTheLastAnswer()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.RollingRestart);
        var node = run.AllNodes[4];
        cluster.Node("media-1").HealthAnswers("406");
        await using var session = await cluster.Ops.ConnectAsync(run, node);

        // Act
        var (started, healthy, message) = await cluster.Ops.ControlAndWaitHealthyAsync(run, session, node, "restart");

        // Assert
        Assert.True(started);
        Assert.False(healthy);
        Assert.Equal("http://10.5.0.11:7880/ did not answer 200 within 1 s after restart (last: HTTP 406).", message);
    }

    [Fact]
    public async Task ControlAndWaitHealthyAsync_ServiceNeverUp_NoAnswer()
    {
        // Arrange: systemctl succeeds but the service stays down (the stand-in is told so after the call).
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.RollingRestart);
        var node = run.AllNodes[0];
        cluster.Node("master-1").Write($"{LocalNode.StubDirectory}/bin/systemctl", "#!/bin/bash\nexit 0\n", (UnixFileMode)0b111_101_101);
        await using var session = await cluster.Ops.ConnectAsync(run, node);

        // Act
        var (started, healthy, message) = await cluster.Ops.ControlAndWaitHealthyAsync(run, session, node, "start");

        // Assert
        Assert.True(started);
        Assert.False(healthy);
        Assert.EndsWith("after start (last: no answer).", message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ControlAndWaitHealthyAsync_SystemctlFails_NotStartedWithSystemctlsReasonAndNoHealthPoll()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.RollingRestart);
        var node = run.AllNodes[0];
        cluster.Node("master-1").SystemctlFails();
        await using var session = await cluster.Ops.ConnectAsync(run, node);

        // Act
        var (started, healthy, message) = await cluster.Ops.ControlAndWaitHealthyAsync(run, session, node, "restart");

        // Assert
        Assert.Equal((false, false), (started, healthy));
        Assert.Equal("systemctl restart openvidu failed: Job for openvidu.service failed because the control process exited with error code.", message);
        Assert.Equal("inactive", cluster.Node("master-1").Service);
    }

    [Fact]
    public async Task ControlAndWaitHealthyAsync_Healthy_StartedHealthyAndSaysSo()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.RollingRestart);
        var node = run.AllNodes[0];
        await using var session = await cluster.Ops.ConnectAsync(run, node);

        // Act
        var (started, healthy, message) = await cluster.Ops.ControlAndWaitHealthyAsync(run, session, node, "start");

        // Assert
        Assert.Equal((true, true, "Healthy (HTTP 200)"), (started, healthy, message));
        Assert.Equal(["start"], cluster.Node("master-1").SystemctlCalls);
        Assert.Contains(cluster.Node("master-1").Commands, c => c.Contains("/health/caddy", StringComparison.Ordinal));
    }

    [Fact]
    public async Task ForEachAsync_OneAtATime_NeverTwoAtOnce()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Options.MaxParallelNodes = 1;
        var run = await cluster.JobRunAsync(JobKind.Install);
        var running = 0;
        var most = 0;
        var seen = new List<string>();

        // Act
        await cluster.Ops.ForEachAsync(run.AllNodes, async node =>
        {
            var now = Interlocked.Increment(ref running);
            lock (seen) { most = Math.Max(most, now); seen.Add(node.Name); }
            await Task.Yield();
            Interlocked.Decrement(ref running);
        });

        // Assert
        Assert.Equal(1, most);
        Assert.Equal(run.AllNodes.Select(n => n.Name).Order(), seen.Order());
    }
}
