using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>What a running job writes, on the real database: numbered lines, node states, redaction, announcements.</summary>
public sealed class JobContextTests : IDisposable
{
    private readonly PanelDatabase _db = new();
    private readonly JobNotifier _notifier = new();

    public void Dispose() => _db.Dispose();

    private async Task<(int JobId, int ClusterId, List<int> NodeIds)> JobAsync()
    {
        var clusterId = await _db.CreateClusterAsync();
        var nodes = await _db.NodesAsync(clusterId);
        await using var db = _db.Open();
        var job = new JobEntity
        {
            ClusterId = clusterId, Kind = JobKind.Install, State = JobState.Running, CreatedBy = "tester", CreatedAt = DateTimeOffset.UtcNow,
            Nodes = nodes.Select(n => new JobNodeEntity { NodeId = n.Id, NodeName = n.Name, State = NodeJobState.Pending }).ToList(),
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return (job.Id, clusterId, nodes.Select(n => n.Id).ToList());
    }

    private JobContext Context(int jobId, int clusterId, IReadOnlyCollection<string>? secrets = null, int lastSeq = 0, JobLogLimits? limits = null,
        CancellationToken cancellation = default, CancellationToken stopping = default) =>
        new(jobId, clusterId, _db.Factory, _notifier, TimeProvider.System, secrets ?? [], lastSeq, cancellation, stopping)
        {
            Limits = limits ?? JobLogLimits.Default,
        };

    /// <summary>A node that prints without end fills neither memory nor disk: one line says where the log was cut, the job's own lines go on.</summary>
    [Fact]
    public async Task LogAsync_PastTheLineLimit_OneCutLine_ThenOnlyThePanelsOwnLines()
    {
        // Arrange
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId, limits: new JobLogLimits(MaxLines: 5, MaxChars: 1_000_000, MaxLineChars: 100, PanelLinesAfterCut: 2));

        // Act
        for (var i = 0; i < 10; i++) await context.LogAsync("master-1", $"output {i}");
        await context.LogAsync(null, "master-1: failed");
        await context.LogAsync(null, "install failed: Failed on master-1.");
        await context.LogAsync(null, "one panel line too many");

        // Assert
        var lines = await LinesAsync(jobId);
        Assert.Equal(["output 0", "output 1", "output 2", "output 3", "output 4"], lines.Take(5).Select(l => l.Text));
        Assert.StartsWith("Log cut here: a job keeps at most 5 lines and 1,000,000 characters of output.", lines[5].Text, StringComparison.Ordinal);
        Assert.Null(lines[5].NodeName);
        Assert.Equal(["master-1: failed", "install failed: Failed on master-1."], lines.Skip(6).Select(l => l.Text));
        Assert.Equal(Enumerable.Range(1, 8), lines.Select(l => l.Seq));
    }

    [Fact]
    public async Task LogAsync_LineLongerThanTheLimit_CutSayingHowMuchMore()
    {
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId, limits: JobLogLimits.Default with { MaxLineChars = 10 });

        await context.LogAsync("media-1", new string('x', 25));

        Assert.Equal("xxxxxxxxxx… (line cut: 15 more characters)", Assert.Single(await LinesAsync(jobId)).Text);
    }

    [Fact]
    public async Task LogAsync_PastTheSizeLimit_Cut()
    {
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId, limits: JobLogLimits.Default with { MaxChars = 25 });

        for (var i = 0; i < 5; i++) await context.LogAsync("media-1", "0123456789");

        var lines = await LinesAsync(jobId);
        Assert.Equal(3, lines.Count); // two lines of 10 characters, then the cut
        Assert.StartsWith("Log cut here", lines[2].Text, StringComparison.Ordinal);
    }

    private async Task<List<JobLogLine>> LinesAsync(int jobId)
    {
        await using var db = _db.Open();
        return await db.JobLog.AsNoTracking().Where(l => l.JobId == jobId).OrderBy(l => l.Seq).ToListAsync();
    }

    private async Task<JobNodeEntity> NodeRowAsync(int jobId, int nodeId)
    {
        await using var db = _db.Open();
        return await db.JobNodes.AsNoTracking().SingleAsync(n => n.JobId == jobId && n.NodeId == nodeId);
    }

    [Fact]
    public void Redact_Secrets_BlanksEachLongestFirstAndLeavesShortValues()
    {
        // Arrange: "abc" is too short to blank (it would blank half the log); "SecretLonger" contains "Secret".
        var context = Context(1, 1, ["Secret", "SecretLonger", "abc"]);

        // Act
        var text = context.Redact("a SecretLonger, a Secret and abc");

        // Assert
        Assert.Equal("a ***, a *** and abc", text);
    }

    [Fact]
    public void Redact_FourCharacterSecret_IsBlanked()
    {
        // Arrange
        var context = Context(1, 1, ["abcd"]);

        // Act
        var text = context.Redact("xabcdx abcd");

        // Assert
        Assert.Equal("x***x ***", text);
    }

    [Fact]
    public async Task LogAsync_Lines_NumberedAfterTheLastSeqRedactedAndUnderTheirNode()
    {
        // Arrange
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId, ["TopSecretValue"], lastSeq: 10);

        // Act
        await context.LogAsync(null, "started");
        await context.LogAsync("master-1", "echo TopSecretValue");

        // Assert
        var lines = await LinesAsync(jobId);
        Assert.Equal([11, 12], lines.Select(l => l.Seq));
        Assert.Equal([null, "master-1"], lines.Select(l => l.NodeName));
        Assert.Equal(["started", "echo ***"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.True(l.At > DateTimeOffset.UtcNow.AddMinutes(-5)));
    }

    [Fact]
    public async Task LogAsync_ManyAtOnce_EveryLineCommittedOnceInOrderOfNumbers()
    {
        // Arrange
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId);

        // Act
        await Task.WhenAll(Enumerable.Range(0, 40).Select(i => Task.Run(() => context.LogAsync("media-1", $"line {i}"))));

        // Assert
        var lines = await LinesAsync(jobId);
        Assert.Equal(Enumerable.Range(1, 40), lines.Select(l => l.Seq));
        Assert.Equal(Enumerable.Range(0, 40).Select(i => $"line {i}").Order(), lines.Select(l => l.Text).Order());
    }

    [Fact]
    public async Task LogAsync_Line_AnnouncesTheJobClusterAndLastSeq()
    {
        // Arrange
        var (jobId, clusterId, _) = await JobAsync();
        var context = Context(jobId, clusterId, lastSeq: 4);
        var heard = new TaskCompletionSource<JobChanged>();
        using var subscription = _notifier.SubscribeJob(jobId, change => { heard.TrySetResult(change); return Task.CompletedTask; });

        // Act
        await context.LogAsync(null, "one");
        var change = await heard.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(new JobChanged(jobId, clusterId, 5), change);
    }

    [Fact]
    public async Task SetNodeAsync_State_WritesStateMessageDetailsAndTime()
    {
        // Arrange
        var (jobId, clusterId, nodeIds) = await JobAsync();
        var context = Context(jobId, clusterId, ["TopSecretValue"]);
        var before = DateTimeOffset.UtcNow.AddSeconds(-1);

        // Act
        await context.SetNodeAsync(nodeIds[2], NodeJobState.Failed, "sudo said TopSecretValue",
            new { CheckName = "disk é", State = NodeJobState.Warning, Value = "TopSecretValue" });

        // Assert
        var row = await NodeRowAsync(jobId, nodeIds[2]);
        Assert.Equal(NodeJobState.Failed, row.State);
        Assert.Equal("sudo said ***", row.Message);
        Assert.Equal("""{"checkName":"disk é","state":"warning","value":"***"}""", row.Details);
        Assert.True(row.UpdatedAt >= before);
        Assert.Equal(NodeJobState.Pending, (await NodeRowAsync(jobId, nodeIds[3])).State);
    }

    [Fact]
    public async Task SetNodeAsync_NoDetailsNoMessage_KeepsEarlierDetailsAndClearsTheMessage()
    {
        // Arrange
        var (jobId, clusterId, nodeIds) = await JobAsync();
        var context = Context(jobId, clusterId);
        await context.SetNodeAsync(nodeIds[0], NodeJobState.Running, "checking", new { Checks = 3 });

        // Act
        await context.SetNodeAsync(nodeIds[0], NodeJobState.Succeeded, null);

        // Assert
        var row = await NodeRowAsync(jobId, nodeIds[0]);
        Assert.Equal(NodeJobState.Succeeded, row.State);
        Assert.Null(row.Message);
        Assert.Equal("""{"checks":3}""", row.Details);
    }

    [Fact]
    public async Task SetNodeAsync_NoMessageWithSecretsToRedact_MessageCleared()
    {
        // Arrange: redaction applies to messages, and a node may end with none.
        var (jobId, clusterId, nodeIds) = await JobAsync();
        var context = Context(jobId, clusterId, ["TopSecretValue"]);

        // Act
        await context.SetNodeAsync(nodeIds[0], NodeJobState.Succeeded, null);

        // Assert
        Assert.Equal((NodeJobState.Succeeded, (string?)null), ((await NodeRowAsync(jobId, nodeIds[0])).State, (await NodeRowAsync(jobId, nodeIds[0])).Message));
    }

    [Fact]
    public async Task SetNodeAsync_AnotherJobOnTheSameNodes_OnlyThisJobsRowsChange()
    {
        // Arrange: two jobs of one cluster share every node.
        var (firstId, clusterId, nodeIds) = await JobAsync();
        int secondId;
        await using (var db = _db.Open())
        {
            var second = new JobEntity
            {
                ClusterId = clusterId, Kind = JobKind.Preflight, State = JobState.Running, CreatedBy = "tester", CreatedAt = DateTimeOffset.UtcNow,
                Nodes = nodeIds.Select(id => new JobNodeEntity { NodeId = id, NodeName = $"node-{id}", State = NodeJobState.Pending }).ToList(),
            };
            db.Jobs.Add(second);
            await db.SaveChangesAsync();
            secondId = second.Id;
        }

        // Act
        await Context(secondId, clusterId).SetNodeAsync(nodeIds[1], NodeJobState.Failed, "unreachable");

        // Assert
        Assert.Equal((NodeJobState.Failed, "unreachable"), ((await NodeRowAsync(secondId, nodeIds[1])).State, (await NodeRowAsync(secondId, nodeIds[1])).Message));
        Assert.Equal(NodeJobState.Pending, (await NodeRowAsync(firstId, nodeIds[1])).State);
    }

    [Fact]
    public async Task SetNodeAsync_ManyNodesAtOnce_EveryStateCommitted()
    {
        // Arrange
        var (jobId, clusterId, nodeIds) = await JobAsync();
        var context = Context(jobId, clusterId);

        // Act
        await Task.WhenAll(nodeIds.Select(id => Task.Run(() => context.SetNodeAsync(id, NodeJobState.Succeeded, $"node {id}"))));

        // Assert
        foreach (var id in nodeIds)
        {
            var row = await NodeRowAsync(jobId, id);
            Assert.Equal((NodeJobState.Succeeded, $"node {id}"), (row.State, row.Message));
        }
    }

    [Fact]
    public async Task SetNodeAsync_Only_AnnouncesTheCurrentSeq()
    {
        // Arrange
        var (jobId, clusterId, nodeIds) = await JobAsync();
        var context = Context(jobId, clusterId, lastSeq: 7);
        var heard = new TaskCompletionSource<JobChanged>();
        using var subscription = _notifier.SubscribeCluster(clusterId, change => { heard.TrySetResult(change); return Task.CompletedTask; });

        // Act
        await context.SetNodeAsync(nodeIds[0], NodeJobState.Running, "x");
        var change = await heard.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(new JobChanged(jobId, clusterId, 7), change);
    }

    [Fact]
    public void Properties_Tokens_AreTheJobsAndThePanels()
    {
        // Arrange
        using var cancel = new CancellationTokenSource();
        using var stop = new CancellationTokenSource();
        var context = Context(3, 4, cancellation: cancel.Token, stopping: stop.Token);

        // Act
        var stoppingBefore = context.Stopping;
        stop.Cancel();

        // Assert
        Assert.False(stoppingBefore);
        Assert.True(context.Stopping);
        Assert.Equal(cancel.Token, context.Cancellation);
        Assert.Equal((3, 4), (context.JobId, context.ClusterId));
    }
}
