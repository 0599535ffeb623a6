using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>
/// Queuing, cancelling and retrying jobs on the real database, handed to a real Hangfire client on Hangfire's SQLite
/// storage (no Hangfire server runs: a queued job stays queued, the runner is not these tests' subject).
/// </summary>
public sealed class JobServiceTests : IDisposable
{
    private readonly PanelDatabase _db = new();
    private readonly TempDirectory _hangfireDirectory = new("ovha-hangfire-");
    private readonly SQLiteStorage _storage;
    private readonly JobCancellations _cancellations = new();
    private readonly JobNotifier _notifier = new();
    private readonly JobService _jobs;

    public JobServiceTests()
    {
        _storage = new SQLiteStorage(_hangfireDirectory.File("hangfire.db"), new SQLiteStorageOptions());
        _jobs = Service(new BackgroundJobClient(_storage));
    }

    public void Dispose()
    {
        _storage.Dispose();
        _hangfireDirectory.Dispose();
        _db.Dispose();
    }

    private JobService Service(IBackgroundJobClient client) =>
        new(_db.Factory, client, _cancellations, _notifier, _db.Audit, TimeProvider.System, _log);

    private readonly ListLogger<JobService> _log = new();

    private async Task<JobEntity> JobRowAsync(int jobId)
    {
        await using var db = _db.Open();
        return await db.Jobs.AsNoTracking().Include(j => j.Nodes).SingleAsync(j => j.Id == jobId);
    }

    private async Task SetJobAsync(int jobId, JobState state, params (string Node, NodeJobState State)[] nodes)
    {
        await using var db = _db.Open();
        var job = await db.Jobs.Include(j => j.Nodes).SingleAsync(j => j.Id == jobId);
        job.State = state;
        foreach (var (node, nodeState) in nodes) job.Nodes.Single(n => n.NodeName == node).State = nodeState;
        await db.SaveChangesAsync();
    }

    private async Task<int> NodeIdAsync(int clusterId, string name) => (await _db.NodesAsync(clusterId)).Single(n => n.Name == name).Id;

    [Fact]
    public async Task EnqueueAsync_Install_QueuedForEveryNodeMastersFirstAndHandedToHangfire()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var heard = new TaskCompletionSource<JobChanged>();
        using var subscription = _notifier.SubscribeCluster(clusterId, c => { heard.TrySetResult(c); return Task.CompletedTask; });

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Assert
        Assert.True(result.Succeeded);
        var job = await _jobs.GetAsync(result.Id!.Value);
        Assert.NotNull(job);
        Assert.Equal((JobKind.Install, JobState.Queued, "alice", (int?)null, (int?)null), (job.Kind, job.State, job.CreatedBy, job.NodeId, job.RetryOf));
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"], job.Nodes.Select(n => n.NodeName));
        Assert.All(job.Nodes, n => Assert.Equal(NodeJobState.Pending, n.State));
        var enqueued = Assert.Single(_storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10));
        Assert.Equal(nameof(JobRunner.RunAndReportAsync), enqueued.Value.Job.Method.Name);
        Assert.Equal(result.Id, enqueued.Value.Job.Args[0]);
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "job.install" && a.Target == "prod" && a.Detail == "6 nodes");
        Assert.Equal(new JobChanged(result.Id.Value, clusterId, 0), await heard.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains((Microsoft.Extensions.Logging.LogLevel.Information, $"Job {result.Id} install queued for cluster prod by alice"), _log.Entries);
    }

    [Fact]
    public async Task WhyNotAsync_SaysWhatEnqueueWouldRefuse_AndNothingForWhatMayRun()
    {
        // Arrange: keys not confirmed, nothing installed; then pinned; then an install queued.
        var unpinned = await _db.CreateClusterAsync(name: "unpinned", pinned: false);
        var pinned = await _db.CreateClusterAsync(name: "pinned");
        var kinds = new[] { JobKind.Preflight, JobKind.Install, JobKind.RollingRestart, JobKind.CheckCredentials };

        // Act
        var before = await _jobs.WhyNotAsync(unpinned, kinds);
        var ready = await _jobs.WhyNotAsync(pinned, kinds);
        var queued = await _jobs.EnqueueAsync(pinned, JobKind.Install, null, "alice");
        var busy = await _jobs.WhyNotAsync(pinned, kinds);

        // Assert: each reason is the one EnqueueAsync gives.
        Assert.Null(before[JobKind.Preflight]);
        Assert.Equal((await _jobs.EnqueueAsync(unpinned, JobKind.Install, null, "alice")).Message, before[JobKind.Install]);
        Assert.StartsWith("The host keys of master-1, master-2", before[JobKind.Install], StringComparison.Ordinal);
        Assert.Null(ready[JobKind.Install]);
        Assert.Equal("Cluster 'pinned' is not installed yet: run install first.", ready[JobKind.RollingRestart]);
        Assert.Equal($"Job {queued.Id} (install, queued) is changing cluster 'pinned': one changing job at a time. Wait for it, or cancel it.", busy[JobKind.Install]);
        Assert.Null(busy[JobKind.Preflight]); // reads only: never blocked by a changing job
    }

    [Fact]
    public async Task EnqueueAsync_UnknownCluster_NotFound()
    {
        // Act
        var result = await _jobs.EnqueueAsync(42, JobKind.Preflight, null, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Equal((OutcomeKind.NotFound, "There is no cluster 42."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task EnqueueAsync_NodeJobWithoutNode_Refused()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Restart, null, "alice");

        // Assert
        Assert.Equal((OutcomeKind.Refused, "A restart job needs a nodeId."), (result.Kind, result.Message));
    }

    [Theory]
    [InlineData(JobKind.Restart)]
    [InlineData(JobKind.Preflight)]
    public async Task EnqueueAsync_NodeOfAnotherCluster_Refused(JobKind kind)
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync("prod");
        var otherId = await _db.CreateClusterAsync("other");
        var foreign = await NodeIdAsync(otherId, "media-1");

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, kind, foreign, "alice");

        // Assert
        Assert.Equal((OutcomeKind.Refused, $"Node {foreign} is not part of cluster 'prod'."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task EnqueueAsync_WholeClusterJobGivenANode_Refused()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Install, await NodeIdAsync(clusterId, "master-1"), "alice");

        // Assert
        Assert.Equal((OutcomeKind.Refused, "A install job acts on the whole cluster: leave nodeId out."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task EnqueueAsync_PreflightOfOneNode_ScopeIsThatNode()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var nodeId = await NodeIdAsync(clusterId, "media-2");

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, nodeId, "alice");

        // Assert
        var job = await _jobs.GetAsync(result.Id!.Value);
        Assert.Equal(nodeId, job!.NodeId);
        Assert.Equal("media-2", Assert.Single(job.Nodes).NodeName);
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "job.preflight" && a.Detail == "media-2");
    }

    [Fact]
    public async Task EnqueueAsync_RestartOfOneNode_TargetsIt()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        await _db.SetInstalledAsync(clusterId, _ => true);
        var nodeId = await NodeIdAsync(clusterId, "master-3");

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Restart, nodeId, "alice");

        // Assert
        var job = await _jobs.GetAsync(result.Id!.Value);
        Assert.Equal(nodeId, job!.NodeId);
        Assert.Equal("master-3", Assert.Single(job.Nodes).NodeName);
    }

    [Fact]
    public async Task EnqueueAsync_SecondChangingJob_ConflictNamingTheFirst()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var first = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Act
        var second = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "bob");

        // Assert
        Assert.False(second.Succeeded);
        Assert.Equal((OutcomeKind.Conflict, $"Job {first.Id} (install, queued) is changing cluster 'prod': one changing job at a time. Wait for it, or cancel it."), (second.Kind, second.Message));
    }

    [Fact]
    public async Task EnqueueAsync_ChangingJobWhileAPreflightRuns_Accepted()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var preflight = await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice");
        await SetJobAsync(preflight.Id!.Value, JobState.Running);

        // Act
        var install = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "bob");

        // Assert
        Assert.True(install.Succeeded, install.Message);
    }

    [Fact]
    public async Task EnqueueAsync_PreflightWhileAnInstallIsQueued_Accepted()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Act
        var preflight = await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "bob");

        // Assert
        Assert.True(preflight.Succeeded, preflight.Message);
    }

    [Fact]
    public async Task EnqueueAsync_ChangingJobAfterTheLastEnded_Accepted()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var first = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");
        await SetJobAsync(first.Id!.Value, JobState.Failed);

        // Act
        var second = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Assert
        Assert.True(second.Succeeded, second.Message);
    }

    [Fact]
    public async Task EnqueueAsync_ChangingJobOfAnotherCluster_DoesNotBlock()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync("prod");
        var otherId = await _db.CreateClusterAsync("other");
        await _jobs.EnqueueAsync(otherId, JobKind.Install, null, "alice");

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Message);
    }

    [Fact]
    public async Task EnqueueAsync_RuleRefuses_RefusedAndNothingQueued()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(pinned: false);

        // Act
        var result = await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Assert
        Assert.Equal(OutcomeKind.Refused, result.Kind);
        Assert.StartsWith("The host keys of master-1, master-2", result.Message, StringComparison.Ordinal);
        Assert.Empty(await _jobs.ListAsync(clusterId));
        Assert.Empty(_storage.GetMonitoringApi().EnqueuedJobs("default", 0, 10));
    }

    [Fact]
    public async Task EnqueueAsync_HangfireStorageGone_JobFailedWithTheReasonAndNotLeftQueued()
    {
        // Arrange: Hangfire's storage closed under the client.
        var clusterId = await _db.CreateClusterAsync();
        using var directory = new TempDirectory("ovha-hangfire-gone-");
        var gone = new SQLiteStorage(directory.File("hangfire.db"), new SQLiteStorageOptions());
        gone.Dispose();
        var jobs = Service(new BackgroundJobClient(gone));

        // Act
        var result = await jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Assert
        Assert.Equal(OutcomeKind.Refused, result.Kind);
        Assert.StartsWith("Could not be queued: ", result.Message, StringComparison.Ordinal);
        var job = Assert.Single(await jobs.ListAsync(clusterId));
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal(result.Message, job.Message);
        Assert.NotNull(job.FinishedAt);
    }

    [Fact]
    public async Task ListAsync_Jobs_NewestFirstUpToTake()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var ids = new List<int>();
        for (var i = 0; i < 3; i++) ids.Add((await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value);

        // Act
        var list = await _jobs.ListAsync(clusterId, take: 2);

        // Assert
        Assert.Equal([ids[2], ids[1]], list.Select(j => j.Id));
    }

    [Fact]
    public async Task LogAsync_After_LinesAfterThatNumberInOrderUpToTake()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value;
        await using (var db = _db.Open())
        {
            for (var seq = 5; seq >= 1; seq--) db.JobLog.Add(new JobLogLine { JobId = jobId, Seq = seq, At = DateTimeOffset.UtcNow, NodeName = "master-1", Text = $"line {seq}" });
            await db.SaveChangesAsync();
        }

        // Act
        var lines = await _jobs.LogAsync(jobId, after: 2, take: 2);

        // Assert
        Assert.Equal([3, 4], lines.Select(l => l.Seq));
        Assert.Equal(["line 3", "line 4"], lines.Select(l => l.Text));
        Assert.All(lines, l => Assert.Equal("master-1", l.Node));
    }

    [Fact]
    public async Task GetAsync_UnknownJob_Null()
    {
        // Act
        var job = await _jobs.GetAsync(42);

        // Assert
        Assert.Null(job);
    }

    [Fact]
    public async Task CancelAsync_QueuedJob_CancelledBeforeItStartsWithItsNodes()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice")).Id!.Value;
        var changed = new TaskCompletionSource<JobChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = _notifier.SubscribeJob(jobId, change => { changed.TrySetResult(change); return Task.CompletedTask; });

        // Act
        var result = await _jobs.CancelAsync(jobId, "bob");

        // Assert
        Assert.Equal(jobId, result.Id);
        Assert.Equal(new JobChanged(jobId, clusterId, 0, Ended: true), await changed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        var job = await JobRowAsync(jobId);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.True(job.CancelRequested);
        Assert.Equal("Cancelled by bob before it started.", job.Message);
        Assert.NotNull(job.FinishedAt);
        Assert.All(job.Nodes, n => Assert.Equal(NodeJobState.Cancelled, n.State));
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "job.cancel" && a.Target == $"job {jobId}" && a.Actor == "bob");
    }

    [Fact]
    public async Task CancelAsync_RunningJob_RequestsTheCancelAndSignalsTheRunner()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Running, ("master-1", NodeJobState.Running));
        var running = _cancellations.Register(jobId, CancellationToken.None);
        var changed = new TaskCompletionSource<JobChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        using var _ = _notifier.SubscribeJob(jobId, change => { changed.TrySetResult(change); return Task.CompletedTask; });

        // Act
        var result = await _jobs.CancelAsync(jobId, "bob");

        // Assert
        Assert.True(result.Succeeded);
        Assert.Equal(new JobChanged(jobId, clusterId, 0, Ended: false), await changed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.True(running.IsCancellationRequested);
        var job = await JobRowAsync(jobId);
        Assert.Equal(JobState.Running, job.State);
        Assert.True(job.CancelRequested);
        Assert.Equal(NodeJobState.Running, job.Nodes.Single(n => n.NodeName == "master-1").State);
        Assert.Null(job.FinishedAt);
    }

    [Fact]
    public async Task CancelAsync_EndedJob_Conflict()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Succeeded);

        // Act
        var result = await _jobs.CancelAsync(jobId, "bob");

        // Assert
        Assert.Equal((OutcomeKind.Conflict, $"Job {jobId} is already succeeded."), (result.Kind, result.Message));
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task CancelAsync_UnknownJob_NotFound()
    {
        // Act
        var result = await _jobs.CancelAsync(42, "bob");

        // Assert
        Assert.Equal((OutcomeKind.NotFound, "There is no job 42."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task RetryAsync_FailedInstall_NewJobForTheNodesThatDidNotSucceed()
    {
        // Arrange: two masters installed before the job failed.
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Failed, ("master-1", NodeJobState.Succeeded), ("master-2", NodeJobState.Warning),
            ("master-3", NodeJobState.Failed), ("media-1", NodeJobState.Skipped));
        await _db.SetInstalledAsync(clusterId, n => n.Name is "master-1" or "master-2");

        // Act
        var result = await _jobs.RetryAsync(jobId, "bob");

        // Assert
        Assert.True(result.Succeeded, result.Message);
        var retry = await _jobs.GetAsync(result.Id!.Value);
        Assert.Equal(jobId, retry!.RetryOf);
        Assert.Equal(JobKind.Install, retry.Kind);
        Assert.Equal(["master-3", "master-4", "media-1", "media-2"], retry.Nodes.Select(n => n.NodeName));
    }

    [Fact]
    public async Task RetryAsync_SingleNodeJob_KeepsItsTarget()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        await _db.SetInstalledAsync(clusterId, _ => true);
        var nodeId = await NodeIdAsync(clusterId, "media-1");
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Restart, nodeId, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Interrupted);

        // Act
        var result = await _jobs.RetryAsync(jobId, "bob");

        // Assert
        var retry = await _jobs.GetAsync(result.Id!.Value);
        Assert.Equal(nodeId, retry!.NodeId);
        Assert.Equal("media-1", Assert.Single(retry.Nodes).NodeName);
    }

    [Theory]
    [InlineData(JobState.Queued, "queued")]
    [InlineData(JobState.Running, "running")]
    [InlineData(JobState.Succeeded, "succeeded")]
    public async Task RetryAsync_JobNotFailed_Conflict(JobState state, string word)
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, state);

        // Act
        var result = await _jobs.RetryAsync(jobId, "bob");

        // Assert
        Assert.Equal((OutcomeKind.Conflict, $"Job {jobId} is {word}: only failed, cancelled or interrupted jobs are retried."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task RetryAsync_EveryNodeSucceeded_NothingToRetry()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Cancelled, ("master-1", NodeJobState.Succeeded), ("master-2", NodeJobState.Succeeded),
            ("master-3", NodeJobState.Warning), ("master-4", NodeJobState.Succeeded), ("media-1", NodeJobState.Succeeded));

        // Act
        var result = await _jobs.RetryAsync(jobId, "bob");

        // Assert
        Assert.Equal((OutcomeKind.Conflict, $"Every node of job {jobId} succeeded: nothing to retry."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task RetryAsync_UnknownJob_NotFound()
    {
        // Act
        var result = await _jobs.RetryAsync(42, "bob");

        // Assert
        Assert.Equal((OutcomeKind.NotFound, "There is no job 42."), (result.Kind, result.Message));
    }

    [Fact]
    public async Task InterruptOrphans_Alone_RunningJob_InterruptedNodesAsLastKnownAndOneLogLine()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = (await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice")).Id!.Value;
        var queuedId = (await _jobs.EnqueueAsync(clusterId, JobKind.Preflight, null, "alice")).Id!.Value;
        await SetJobAsync(jobId, JobState.Running, ("master-1", NodeJobState.Succeeded), ("master-2", NodeJobState.Failed));
        await using (var db = _db.Open())
        {
            var node = await db.JobNodes.SingleAsync(n => n.JobId == jobId && n.NodeName == "master-3");
            (node.State, node.Message) = (NodeJobState.Running, "Running the installer");
            db.JobLog.Add(new JobLogLine { JobId = jobId, Seq = 9, At = DateTimeOffset.UtcNow, Text = "before" });
            await db.SaveChangesAsync();
        }

        // Act
        var count = await _jobs.InterruptOrphansAsync(new PanelInstance { Alone = true }, TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(1, count);
        var job = await JobRowAsync(jobId);
        Assert.Equal(JobState.Interrupted, job.State);
        Assert.NotNull(job.FinishedAt);
        Assert.Equal("The panel stopped while this job ran. Node states are as last known; retry runs the nodes that did not finish.", job.Message);
        var nodes = job.Nodes.ToDictionary(n => n.NodeName);
        Assert.Equal(NodeJobState.Succeeded, nodes["master-1"].State);
        Assert.Equal(NodeJobState.Failed, nodes["master-2"].State);
        Assert.Equal((NodeJobState.Interrupted, "Interrupted while running: Running the installer"), (nodes["master-3"].State, nodes["master-3"].Message));
        Assert.Equal((NodeJobState.Interrupted, "Interrupted before it started."), (nodes["media-1"].State, nodes["media-1"].Message));
        var log = await _jobs.LogAsync(jobId, after: 0);
        Assert.Equal([9, 10], log.Select(l => l.Seq));
        Assert.Equal("Interrupted: the panel stopped while this job ran.", log[^1].Text);
        Assert.Equal(JobState.Queued, (await JobRowAsync(queuedId)).State);
        Assert.Contains((Microsoft.Extensions.Logging.LogLevel.Warning, "Marked 1 jobs interrupted: the instance that ran them stopped"), _log.Entries);
    }

    /// <summary>Instances sharing a database: a job on an instance still beating is left alone, one on an instance gone quiet is interrupted, naming it.</summary>
    [Fact]
    public async Task InterruptOrphans_SharedDatabase_OnlyJobsOfInstancesGoneQuiet()
    {
        // Arrange
        var now = DateTimeOffset.UtcNow;
        var self = new PanelInstance();
        var alive = (await _jobs.EnqueueAsync(await _db.CreateClusterAsync(name: "alive"), JobKind.Install, null, "alice")).Id!.Value;
        var orphan = (await _jobs.EnqueueAsync(await _db.CreateClusterAsync(name: "orphan"), JobKind.Install, null, "alice")).Id!.Value;
        var mine = (await _jobs.EnqueueAsync(await _db.CreateClusterAsync(name: "mine"), JobKind.Install, null, "alice")).Id!.Value;
        await using (var db = _db.Open())
        {
            db.PanelInstances.AddRange(
                new PanelInstanceEntity { Id = "aaaaaaaaaaaaaaaa", Host = "panel-a:100", StartedAt = now.AddMinutes(-5), LastSeenAt = now.AddSeconds(-5) },
                new PanelInstanceEntity { Id = "bbbbbbbbbbbbbbbb", Host = "panel-b:200", StartedAt = now.AddMinutes(-5), LastSeenAt = now.AddSeconds(-50) });
            await db.SaveChangesAsync();
            foreach (var (jobId, on) in new[] { (alive, "aaaaaaaaaaaaaaaa"), (orphan, "bbbbbbbbbbbbbbbb"), (mine, self.Id) })
                await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.State, JobState.Running).SetProperty(j => j.RunningOn, on));
        }

        // Act
        var count = await _jobs.InterruptOrphansAsync(self, TimeSpan.FromSeconds(30));
        var again = await _jobs.InterruptOrphansAsync(self, TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal((1, 0), (count, again));
        Assert.Equal(JobState.Running, (await JobRowAsync(alive)).State);
        Assert.Equal(JobState.Running, (await JobRowAsync(mine)).State);
        var interrupted = await JobRowAsync(orphan);
        Assert.Equal(JobState.Interrupted, interrupted.State);
        Assert.Equal("The panel instance that ran this job (panel-b:200) stopped answering. Node states are as last known; retry runs the nodes that did not finish.", interrupted.Message);
        Assert.Equal("Interrupted: the panel instance that ran this job (panel-b:200) stopped answering.", (await _jobs.LogAsync(orphan, after: 0))[^1].Text);
    }

    [Fact]
    public async Task InterruptOrphans_NothingRunning_Zero()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        await _jobs.EnqueueAsync(clusterId, JobKind.Install, null, "alice");

        // Act
        var count = await _jobs.InterruptOrphansAsync(new PanelInstance { Alone = true }, TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(0, count);
        Assert.DoesNotContain(_log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Warning);
    }
}
