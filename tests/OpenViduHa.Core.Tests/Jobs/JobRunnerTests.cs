using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>
/// A job's life around its handler, on the real database: queued to running, the outcome of each node and of the job,
/// cancel, the panel stopping, redaction. The handlers here are the runner's plug-in point filled with a script (what a
/// real handler would report), not a stand-in for SSH: the SSH handlers run against local sshd nodes (LocalCluster) and the lab.
/// </summary>
public sealed class JobRunnerTests : IDisposable
{
    private readonly PanelDatabase _db = new();
    private readonly JobCancellations _cancellations = new();
    private readonly JobNotifier _notifier = new();

    public void Dispose() => _db.Dispose();

    private sealed class ScriptedHandler(JobKind kind, Func<JobRun, Task> script) : IJobHandler
    {
        public int Runs { get; private set; }
        public IEnumerable<JobKind> Kinds => [kind];

        public Task RunAsync(JobRun run)
        {
            Runs++;
            return script(run);
        }
    }

    private readonly ListLogger<JobRunner> _log = new();

    private JobRunner Runner(params IJobHandler[] handlers) => Runner(new JobOptions(), handlers);

    private JobRunner Runner(JobOptions options, params IJobHandler[] handlers) =>
        new(_db.Factory, _db.Clusters, _db.Protector, handlers, _cancellations, _notifier, Instance, TimeProvider.System, Options.Create(options), _log);

    private static readonly PanelInstance Instance = new() { Alone = true };

    private async Task<int> QueueAsync(int clusterId, JobKind kind = JobKind.Install, Action<JobEntity>? change = null)
    {
        var nodes = await _db.NodesAsync(clusterId);
        await using var db = _db.Open();
        var job = new JobEntity
        {
            ClusterId = clusterId, Kind = kind, State = JobState.Queued, CreatedBy = "tester", CreatedAt = DateTimeOffset.UtcNow,
            Nodes = nodes.Select(n => new JobNodeEntity { NodeId = n.Id, NodeName = n.Name, State = NodeJobState.Pending }).ToList(),
        };
        change?.Invoke(job);
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job.Id;
    }

    private async Task<JobEntity> JobAsync(int jobId)
    {
        await using var db = _db.Open();
        return await db.Jobs.AsNoTracking().Include(j => j.Nodes.OrderBy(n => n.Id)).SingleAsync(j => j.Id == jobId);
    }

    private async Task<List<string>> LogAsync(int jobId)
    {
        await using var db = _db.Open();
        return await db.JobLog.Where(l => l.JobId == jobId).OrderBy(l => l.Seq).Select(l => l.Text).ToListAsync();
    }

    /// <summary>
    /// The first change the runner publishes for the cluster marked ended (views reload their nodes on it). Publishing is
    /// asynchronous and unordered, so the test waits for it; the job row is final by the time it is sent.
    /// </summary>
    private Task<JobChanged> EndedAsync(int clusterId)
    {
        var ended = new TaskCompletionSource<JobChanged>(TaskCreationOptions.RunContinuationsAsynchronously);
        _notifier.SubscribeCluster(clusterId, change => { if (change.Ended) ended.TrySetResult(change); return Task.CompletedTask; });
        return ended.Task.WaitAsync(TimeSpan.FromSeconds(30));
    }

    private static Func<JobRun, Task> Every(NodeJobState state, string message) => async run =>
    {
        foreach (var node in run.Scope) await run.Context.SetNodeAsync(node.Id, state, message);
    };

    [Theory]
    [InlineData(6, true)] // a job over at least TrimMemoryAfterNodes nodes
    [InlineData(7, false)]
    [InlineData(0, false)] // 0: never
    public async Task RunAsync_JobOverManyNodes_CollectsTheMemoryItLeft_AndSaysSo(int trimAfterNodes, bool trimmed)
    {
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId);
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));

        await Runner(new JobOptions { TrimMemoryAfterNodes = trimAfterNodes }, handler).RunAsync(jobId, CancellationToken.None);

        Assert.Equal(JobState.Succeeded, (await JobAsync(jobId)).State);
        var lines = _log.Entries.Where(e => e.Message.Contains("memory collected", StringComparison.Ordinal)).ToList();
        Assert.Equal(trimmed ? 1 : 0, lines.Count);
        if (trimmed) Assert.Matches($@"^Job {jobId} over 6 nodes ended: memory collected, resident \d+ MB -> \d+ MB \(\d+ ms\)$", lines[0].Message);
    }

    [Fact]
    public async Task RunAsync_EveryNodeSucceeds_JobSucceededWithItsLog()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId);
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));
        var ended = EndedAsync(clusterId);

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.Equal(jobId, (await ended).JobId);
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Succeeded, job.State);
        Assert.Equal("Done.", job.Message);
        Assert.NotNull(job.StartedAt);
        Assert.NotNull(job.FinishedAt);
        Assert.All(job.Nodes, n => Assert.Equal((NodeJobState.Succeeded, "Installed"), (n.State, n.Message)));
        Assert.Equal(["install started on 6 node(s) of cluster 'prod' (OpenVidu 3.0.0).", "install succeeded: Done."], await LogAsync(jobId));
        Assert.Equal(1, handler.Runs);
    }

    [Fact]
    public async Task RunAsync_Run_CarriesTheClusterTheScopeInJobOrderAndEveryNode()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var nodes = await _db.NodesAsync(clusterId);
        var jobId = await QueueAsync(clusterId, JobKind.Restart, job => job.Nodes.RemoveAll(n => n.NodeName != "media-2" && n.NodeName != "master-3"));
        JobRun? seen = null;
        var handler = new ScriptedHandler(JobKind.Restart, run => { seen = run; return Every(NodeJobState.Succeeded, "ok")(run); });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.NotNull(seen);
        Assert.Equal(JobKind.Restart, seen.Kind);
        Assert.Equal("prod", seen.Cluster.Name);
        Assert.Equal(["master-3", "media-2"], seen.Scope.Select(n => n.Name));
        Assert.Equal(nodes.Select(n => n.Name), seen.AllNodes.Select(n => n.Name));
        var master3 = seen.AllNodes.Single(n => n.Name == "master-3");
        Assert.Equal(nodes.Single(n => n.Name == "master-3").Id, master3.Id);
        Assert.Equal(("10.5.0.3", 22, "root", PanelDatabase.Fingerprint("10.5.0.3")), (master3.Ssh.Host, master3.Ssh.Port, master3.Ssh.Username, master3.Ssh.PinnedFingerprint));
        Assert.True(master3.Ssh.Credentials.UsesKey);
        Assert.Equal(Core.Clusters.NodeRole.Master, master3.Role);
        Assert.Equal("10.5.0.3", master3.Definition.PrivateIp);
        Assert.Equal(jobId, seen.Context.JobId);
        Assert.Equal(clusterId, seen.Context.ClusterId);
    }

    [Fact]
    public async Task RunAsync_NodesLeftUnfinished_FailedNamingThem()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = await QueueAsync(clusterId);
        var handler = new ScriptedHandler(JobKind.Install, async run =>
        {
            await run.Context.SetNodeAsync(run.Scope[0].Id, NodeJobState.Succeeded, "Installed");
            await run.Context.SetNodeAsync(run.Scope[1].Id, NodeJobState.Warning, "Slow disk");
            await run.Context.SetNodeAsync(run.Scope[2].Id, NodeJobState.Running, "Running the installer");
        });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("Failed on master-3, master-4, media-1.", job.Message);
        Assert.Equal((NodeJobState.Warning, "Slow disk"), (job.Nodes[1].State, job.Nodes[1].Message));
        Assert.Equal((NodeJobState.Failed, "Running the installer"), (job.Nodes[2].State, job.Nodes[2].Message));
        Assert.Equal((NodeJobState.Failed, "Did not finish."), (job.Nodes[3].State, job.Nodes[3].Message));
        Assert.Equal("install failed: Failed on master-3, master-4, media-1.", (await LogAsync(jobId))[^1]);
    }

    [Fact]
    public async Task RunAsync_SkippedNode_FailsTheJob()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = await QueueAsync(clusterId);
        var handler = new ScriptedHandler(JobKind.Install, async run =>
        {
            foreach (var node in run.Scope)
                await run.Context.SetNodeAsync(node.Id, node.Name == "media-1" ? NodeJobState.Skipped : NodeJobState.Succeeded, "x");
        });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("Failed on media-1.", job.Message);
    }

    [Fact]
    public async Task RunAsync_HandlerThrows_FailedWithTheRedactedReasonOnTheJobAndItsUnfinishedNodes()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = await QueueAsync(clusterId);
        var licence = "";
        var handler = new ScriptedHandler(JobKind.Install, async run =>
        {
            await run.Context.SetNodeAsync(run.Scope[0].Id, NodeJobState.Succeeded, "Installed");
            licence = run.Cluster.LicenseKey;
            throw new InvalidOperationException($"broke near {run.Cluster.LicenseKey}");
        });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("broke near ***", job.Message);
        Assert.Equal(NodeJobState.Succeeded, job.Nodes[0].State);
        Assert.All(job.Nodes.Skip(1), n => Assert.Equal((NodeJobState.Failed, "broke near ***"), (n.State, n.Message)));
        Assert.Equal("install failed: broke near ***", (await LogAsync(jobId))[^1]);
        var error = Assert.Single(_log.Entries, e => e.Level == Microsoft.Extensions.Logging.LogLevel.Error);
        Assert.StartsWith($"Job {jobId} failed: broke near *** (InvalidOperationException)", error.Message, StringComparison.Ordinal);
        Assert.NotEqual("", licence);
        Assert.DoesNotContain(licence, string.Join('\n', _log.Entries.Select(e => e.Message)), StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunAsync_CancelledWhileRunning_CancelledWithItsUnfinishedNodes()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = await QueueAsync(clusterId);
        var started = new TaskCompletionSource();
        var handler = new ScriptedHandler(JobKind.Install, async run =>
        {
            await run.Context.SetNodeAsync(run.Scope[0].Id, NodeJobState.Succeeded, "Installed");
            await run.Context.SetNodeAsync(run.Scope[1].Id, NodeJobState.Running, "Running the installer");
            started.SetResult();
            await Task.Delay(Timeout.Infinite, run.Cancellation);
        });
        var running = Runner(handler).RunAsync(jobId, CancellationToken.None);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Act
        _cancellations.Cancel(jobId);
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal("Cancelled.", job.Message);
        Assert.Equal(NodeJobState.Succeeded, job.Nodes[0].State);
        Assert.Equal((NodeJobState.Cancelled, "Running the installer"), (job.Nodes[1].State, job.Nodes[1].Message));
        Assert.Equal((NodeJobState.Cancelled, "Cancelled."), (job.Nodes[2].State, job.Nodes[2].Message));
        Assert.Equal("install cancelled: Cancelled.", (await LogAsync(jobId))[^1]);
    }

    [Fact]
    public async Task RunAsync_CancelRequestedBeforeItStarted_HandlerSeesTheCancel()
    {
        // Arrange: the cancel call flagged the job while the runner was picking it up.
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId, change: job => job.CancelRequested = true);
        var sawCancel = false;
        var handler = new ScriptedHandler(JobKind.Install, run =>
        {
            sawCancel = run.Cancellation.IsCancellationRequested;
            run.Cancellation.ThrowIfCancellationRequested();
            return Task.CompletedTask;
        });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.True(sawCancel);
        Assert.Equal(JobState.Cancelled, (await JobAsync(jobId)).State);
    }

    [Fact]
    public async Task RunAsync_CancelFlaggedButHandlerFinished_StillCancelled()
    {
        // Arrange: the handler ignores the token and ends normally.
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId, change: job => job.CancelRequested = true);
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Cancelled, job.State);
        Assert.Equal("Cancelled.", job.Message);
    }

    [Theory]
    [InlineData(JobState.Cancelled)]
    [InlineData(JobState.Running)]
    [InlineData(JobState.Interrupted)]
    public async Task RunAsync_JobNoLongerQueued_LeftAlone(JobState state)
    {
        // Arrange: Hangfire handed over a job the panel already ended (or one that runs elsewhere).
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId, change: job => job.State = state);
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.Equal(0, handler.Runs);
        var job = await JobAsync(jobId);
        Assert.Equal(state, job.State);
        Assert.Null(job.StartedAt);
        Assert.Empty(await LogAsync(jobId));
        Assert.Contains((Microsoft.Extensions.Logging.LogLevel.Information, $"Job {jobId} is {state}: not run"), _log.Entries);
    }

    [Fact]
    public async Task RunAsync_UnknownJob_DoesNothing()
    {
        // Arrange
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));

        // Act
        var thrown = await Record.ExceptionAsync(() => Runner(handler).RunAsync(42, CancellationToken.None));

        // Assert
        Assert.Null(thrown);
        Assert.Equal(0, handler.Runs);
    }

    [Fact]
    public async Task RunAsync_NodeRemovedSinceQueued_FailsBeforeStartOnEveryNode()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId, change: job => job.Nodes.Add(new JobNodeEntity { NodeId = 999, NodeName = "media-9", State = NodeJobState.Pending }));
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));
        var ended = EndedAsync(clusterId);

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.Equal(jobId, (await ended).JobId);
        Assert.Equal(0, handler.Runs);
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("Could not start: Node 999 is no longer part of the cluster.", job.Message);
        Assert.NotNull(job.FinishedAt);
        Assert.All(job.Nodes, n => Assert.Equal((NodeJobState.Failed, job.Message), (n.State, n.Message)));
    }

    [Fact]
    public async Task RunAsync_NoHandlerForTheKind_Failed()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId, JobKind.Install);
        var other = new ScriptedHandler(JobKind.Preflight, Every(NodeJobState.Succeeded, "ok"));

        // Act
        await Runner(other).RunAsync(jobId, CancellationToken.None);

        // Assert
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Failed, job.State);
        Assert.Equal("No handler for install jobs.", job.Message);
        Assert.Equal(0, other.Runs);
    }

    [Fact]
    public async Task RunAsync_PanelStopping_InterruptedNotFailed()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync(media: 1);
        var jobId = await QueueAsync(clusterId);
        using var shutdown = new CancellationTokenSource();
        var started = new TaskCompletionSource();
        var handler = new ScriptedHandler(JobKind.Install, async run =>
        {
            await run.Context.SetNodeAsync(run.Scope[0].Id, NodeJobState.Running, "Running the installer");
            started.SetResult();
            await Task.Delay(Timeout.Infinite, run.Cancellation);
        });
        var ended = EndedAsync(clusterId);
        var running = Runner(handler).RunAsync(jobId, shutdown.Token);
        await started.Task.WaitAsync(TimeSpan.FromSeconds(30));

        // Act
        shutdown.Cancel();
        await running.WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.Equal(jobId, (await ended).JobId);
        var job = await JobAsync(jobId);
        Assert.Equal(JobState.Interrupted, job.State);
        Assert.Equal((NodeJobState.Interrupted, "Interrupted while running: Running the installer"), (job.Nodes[0].State, job.Nodes[0].Message));
        Assert.Equal((NodeJobState.Interrupted, "Interrupted before it started."), (job.Nodes[1].State, job.Nodes[1].Message));
        Assert.Equal("Interrupted: the panel stopped while this job ran.", (await LogAsync(jobId))[^1]);
    }

    [Fact]
    public async Task RunAsync_Log_RedactsSecretsLicenceAndSshPasswordsButNotUserNames()
    {
        // Arrange
        var spec = Specs.Valid();
        spec.Nodes![5].Ssh = new Core.Clusters.SshSpec { Host = "10.5.0.12", Username = "deploy", Password = "NodeLoginPassword", SudoPassword = "NodeSudoPassword", HostKeyFingerprint = PanelDatabase.Fingerprint("x") };
        var clusterId = (await _db.Clusters.CreateAsync(spec, "tester")).Id!.Value;
        var jobId = await QueueAsync(clusterId, JobKind.Preflight);
        var handler = new ScriptedHandler(JobKind.Preflight, async run =>
        {
            var c = run.Cluster;
            await run.Context.LogAsync("media-2", $"{c.Secret(SecretCatalog.RedisPassword)} {c.LicenseKey} NodeLoginPassword NodeSudoPassword {c.Secret(SecretCatalog.DashboardAdminUser)}");
            await Every(NodeJobState.Succeeded, "ok")(run);
        });

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        Assert.Equal("*** *** *** *** admin", (await LogAsync(jobId))[1]);
    }

    [Fact]
    public async Task RunAsync_JobWithEarlierLines_NumbersOnFromTheLast()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var jobId = await QueueAsync(clusterId);
        await using (var db = _db.Open())
        {
            db.JobLog.Add(new JobLogLine { JobId = jobId, Seq = 3, At = DateTimeOffset.UtcNow, Text = "earlier" });
            await db.SaveChangesAsync();
        }
        var handler = new ScriptedHandler(JobKind.Install, Every(NodeJobState.Succeeded, "Installed"));

        // Act
        await Runner(handler).RunAsync(jobId, CancellationToken.None);

        // Assert
        await using var check = _db.Open();
        Assert.Equal([3, 4, 5], await check.JobLog.Where(l => l.JobId == jobId).OrderBy(l => l.Seq).Select(l => l.Seq).ToListAsync());
    }
}
