using System.Text.Json;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;

namespace OpenViduHa.Core.Jobs;

/// <summary>Queues, reads, cancels and retries jobs. The rules that keep a cluster safe are checked here.</summary>
public sealed class JobService(
    IDbContextFactory<PanelDbContext> dbFactory,
    IBackgroundJobClient hangfire,
    JobCancellations cancellations,
    JobNotifier notifier,
    AuditLog audit,
    TimeProvider clock,
    ILogger<JobService> logger)
{
    private static readonly JsonSerializerOptions ParameterJson = new(JsonSerializerDefaults.Web) { DefaultIgnoreCondition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull };

    /// <summary>A job's stored parameters (none when the kind takes none).</summary>
    public static JobParameters ReadParameters(string? json) =>
        string.IsNullOrEmpty(json) ? JobParameters.None : JsonSerializer.Deserialize<JobParameters>(json, ParameterJson) ?? JobParameters.None;

    private static readonly SemaphoreSlim EnqueueLock = new(1, 1);

    /// <returns>The job's id; or refused (the request, or a rule the cluster's state breaks), not found, or a conflict with a changing job.</returns>
    public async Task<Outcome> EnqueueAsync(int clusterId, JobKind kind, int? nodeId, string actor, IReadOnlyCollection<int>? onlyNodes = null, int? retryOf = null,
        JobParameters? parameters = null, CancellationToken ct = default)
    {
        // One writer at a time decides "is another changing job running?", so two clicks cannot both pass.
        await EnqueueLock.WaitAsync(ct);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            var cluster = await db.Clusters.Include(c => c.Nodes).AsNoTracking().FirstOrDefaultAsync(c => c.Id == clusterId, ct);
            if (cluster is null) return Outcome.NotFound($"There is no cluster {clusterId}.");

            var nodes = cluster.Nodes.OrderBy(n => n.Ordinal).ToList();
            NodeEntity? target = null;
            if (kind.NeedsNode())
            {
                if (nodeId is null) return Outcome.Refused($"A {kind.Name()} job needs a nodeId.");
                target = nodes.FirstOrDefault(n => n.Id == nodeId);
                if (target is null) return Outcome.Refused($"Node {nodeId} is not part of cluster '{cluster.Name}'.");
            }
            else if (nodeId is not null)
            {
                if (!kind.MayTargetNode()) return Outcome.Refused($"A {kind.Name()} job acts on the whole cluster: leave nodeId out.");
                target = nodes.FirstOrDefault(n => n.Id == nodeId);
                if (target is null) return Outcome.Refused($"Node {nodeId} is not part of cluster '{cluster.Name}'.");
            }

            if (kind.Changes() && await BlockingAsync(db, cluster, ct) is { } blocking) return Outcome.Conflict(blocking);

            parameters ??= JobParameters.None;
            if (JobRules.Check(kind, cluster, nodes, target, retry: retryOf is not null, parameters) is { } refusal) return Outcome.Refused(refusal);

            var generation = OpenViduVersion.TryParse(cluster.OpenviduVersion, out var version) ? version.Generation : InstallerGeneration.Current;
            var scope = JobRules.NodesFor(kind, nodes, target, generation);
            if (onlyNodes is not null) scope = scope.Where(n => onlyNodes.Contains(n.Id)).ToList();
            var now = clock.GetUtcNow();
            var job = new JobEntity
            {
                ClusterId = clusterId,
                Kind = kind,
                NodeId = target?.Id ?? nodeId,
                State = JobState.Queued,
                CreatedBy = actor,
                CreatedAt = now,
                RetryOfJobId = retryOf,
                Parameters = parameters == JobParameters.None ? null : JsonSerializer.Serialize(parameters, ParameterJson),
                Nodes = scope.Select(n => new JobNodeEntity { NodeId = n.Id, NodeName = n.Name, State = NodeJobState.Pending, UpdatedAt = now }).ToList(),
            };
            await using (var transaction = await db.Database.BeginTransactionAsync(ct))
            {
                // A changing job moves the cluster's revision as it is queued, in one transaction: an edit that read the
                // cluster before cannot be saved after (its save checks the revision, and then sees this job), and this
                // job cannot start on a definition an edit replaced after it was read here.
                if (kind.Changes() && await db.Clusters.Where(c => c.Id == clusterId && c.Revision == cluster.Revision)
                        .ExecuteUpdateAsync(u => u.SetProperty(c => c.Revision, c => c.Revision + 1), ct) == 0)
                    return Outcome.Conflict($"Cluster '{cluster.Name}' was changed while the {kind.Name()} job was being queued: nothing was started. Look at the change, then start the job again.");
                db.Jobs.Add(job);
                audit.Add(db, actor, $"job.{kind.Name()}", cluster.Name, AuditDetail(kind, target, job.Nodes.Count, parameters));
                await db.SaveChangesAsync(ct);
                await transaction.CommitAsync(ct);
            }

            try
            {
                hangfire.Enqueue<JobRunner>(runner => runner.RunAndReportAsync(job.Id, CancellationToken.None));
            }
            catch (Exception e)
            {
                // A job Hangfire never got would stay queued and block the cluster: it fails here, with the reason.
                logger.LogError(e, "Job {JobId} could not be handed to Hangfire", job.Id);
                job.State = JobState.Failed;
                job.FinishedAt = clock.GetUtcNow();
                job.Message = $"Could not be queued: {e.Message}";
                await db.SaveChangesAsync(CancellationToken.None);
                return Outcome.Refused(job.Message);
            }
            logger.LogInformation("Job {JobId} {JobKind} queued for cluster {ClusterName} by {Actor}", job.Id, kind.Name(), cluster.Name, actor);
            notifier.Publish(new JobChanged(job.Id, clusterId, 0));
            return Outcome.Ok(job.Id);
        }
        finally
        {
            EnqueueLock.Release();
        }
    }

    /// <summary>What the audit log says a job was started on (and, for a reconfigure, which keys and settings: never a value).</summary>
    private static string AuditDetail(JobKind kind, NodeEntity? target, int nodes, JobParameters parameters)
    {
        var on = target is null ? $"{nodes} nodes" : target.Name;
        if (kind != JobKind.Reconfigure) return on;
        var what = new List<string>();
        if (parameters.Rotate is { Count: > 0 } rotate) what.Add($"rotate {string.Join(", ", rotate)}");
        if (parameters.Set?.Modules is { } modules) what.Add($"modules {string.Join(",", modules)}");
        if (parameters.Set?.RtcEngine is { } engine) what.Add($"rtcEngine {engine}");
        return $"{on}: {string.Join("; ", what)}";
    }

    /// <summary>Why a changing job may not start on the cluster now (another changing job is queued or running), or null.</summary>
    private static async Task<string?> BlockingAsync(PanelDbContext db, ClusterEntity cluster, CancellationToken ct)
    {
        var running = await db.Jobs.AsNoTracking()
            .Where(j => j.ClusterId == cluster.Id && (j.State == JobState.Queued || j.State == JobState.Running))
            .ToListAsync(ct);
        var blocking = running.FirstOrDefault(j => j.Kind.Changes());
        return blocking is null ? null
            : $"Job {blocking.Id} ({blocking.Kind.Name()}, {blocking.State.Lower()}) is changing cluster '{cluster.Name}': one changing job at a time. Wait for it, or cancel it.";
    }

    /// <summary>
    /// For each of <paramref name="kinds"/> (on the whole cluster), why it would be refused now, or null when it may
    /// start: the page disables its button with the reason instead of failing after the click. The same rules as
    /// <see cref="EnqueueAsync"/>, which checks them again when the job is asked for.
    /// </summary>
    public async Task<IReadOnlyDictionary<JobKind, string?>> WhyNotAsync(int clusterId, IReadOnlyList<JobKind> kinds, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await db.Clusters.Include(c => c.Nodes).AsNoTracking().FirstOrDefaultAsync(c => c.Id == clusterId, ct);
        if (cluster is null) return kinds.ToDictionary(k => k, _ => (string?)$"There is no cluster {clusterId}.");
        var nodes = cluster.Nodes.OrderBy(n => n.Ordinal).ToList();
        var blocking = kinds.Any(k => k.Changes()) ? await BlockingAsync(db, cluster, ct) : null;
        return kinds.ToDictionary(k => k, k => (k.Changes() ? blocking : null) ?? (k.NeedsNode() ? $"A {k.Name()} job needs a node." : JobRules.Check(k, cluster, nodes, null)));
    }

    public async Task<JobView?> GetAsync(int jobId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.AsNoTracking().Include(j => j.Nodes).FirstOrDefaultAsync(j => j.Id == jobId, ct);
        return job is null ? null : ToView(job);
    }

    public async Task<IReadOnlyList<JobView>> ListAsync(int clusterId, int take = 50, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var jobs = await db.Jobs.AsNoTracking().Include(j => j.Nodes).Where(j => j.ClusterId == clusterId)
            .OrderByDescending(j => j.Id).Take(take).ToListAsync(ct);
        return jobs.Select(ToView).ToList();
    }

    /// <summary>
    /// A job's log lines after <paramref name="after"/>, in order, at most <paramref name="take"/>; only one node's lines
    /// when <paramref name="node"/> is given (<see cref="JobLogText.PanelNode"/>: the job's own lines, which have no node).
    /// </summary>
    public async Task<IReadOnlyList<JobLogLineView>> LogAsync(int jobId, int after, int take = 5000, string? node = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var lines = db.JobLog.AsNoTracking().Where(l => l.JobId == jobId && l.Seq > after);
        if (node == JobLogText.PanelNode) lines = lines.Where(l => l.NodeName == null);
        else if (node is not null) lines = lines.Where(l => l.NodeName == node);
        return await lines.OrderBy(l => l.Seq).Take(take).Select(l => new JobLogLineView(l.Seq, l.At, l.NodeName, l.Text)).ToListAsync(ct);
    }

    /// <summary>Every log line of a job (or of one node, as <see cref="LogAsync"/>), read a page at a time: a long log is never held whole.</summary>
    public async IAsyncEnumerable<JobLogLineView> ReadLogAsync(int jobId, string? node = null, [System.Runtime.CompilerServices.EnumeratorCancellation] CancellationToken ct = default)
    {
        const int page = 5000;
        var after = 0;
        while (true)
        {
            var lines = await LogAsync(jobId, after, page, node, ct);
            foreach (var line in lines) yield return line;
            if (lines.Count < page) yield break;
            after = lines[^1].Seq;
        }
    }

    public async Task<Outcome> CancelAsync(int jobId, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var job = await db.Jobs.Include(j => j.Nodes).FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return NoJob(jobId);
        if (job.State.IsFinal()) return Outcome.Conflict($"Job {jobId} is already {job.State.Lower()}.");

        var now = clock.GetUtcNow();
        // Queued -> cancelled only if it is still queued, in one statement: the runner's queued -> running is the other
        // side of the same race, and exactly one of them wins.
        var cancelledBeforeStart = await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Queued)
            .ExecuteUpdateAsync(u => u.SetProperty(j => j.State, JobState.Cancelled).SetProperty(j => j.FinishedAt, now)
                .SetProperty(j => j.CancelRequested, true).SetProperty(j => j.Message, $"Cancelled by {actor} before it started."), ct);
        if (cancelledBeforeStart > 0)
        {
            await db.JobNodes.Where(n => n.JobId == jobId)
                .ExecuteUpdateAsync(u => u.SetProperty(n => n.State, NodeJobState.Cancelled).SetProperty(n => n.UpdatedAt, now), ct);
        }
        else
        {
            await db.Jobs.Where(j => j.Id == jobId).ExecuteUpdateAsync(u => u.SetProperty(j => j.CancelRequested, true), ct);
        }
        audit.Add(db, actor, "job.cancel", $"job {jobId}");
        await db.SaveChangesAsync(ct);
        // Running: here, or on the instance that runs it.
        if (cancelledBeforeStart == 0) cancellations.Cancel(jobId);
        notifier.Publish(new JobChanged(jobId, job.ClusterId, 0, Ended: cancelledBeforeStart > 0));
        return Outcome.Ok(jobId);
    }

    /// <summary>A new job of the same kind for the nodes that did not succeed.</summary>
    public async Task<Outcome> RetryAsync(int jobId, string actor, CancellationToken ct = default)
    {
        JobEntity? job;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            job = await db.Jobs.AsNoTracking().Include(j => j.Nodes).FirstOrDefaultAsync(j => j.Id == jobId, ct);
        if (job is null) return NoJob(jobId);
        if (!job.State.IsFinal() || job.State == JobState.Succeeded)
            return Outcome.Conflict($"Job {jobId} is {job.State.Lower()}: only failed, cancelled or interrupted jobs are retried.");
        var failed = job.Nodes.Where(n => n.State is not (NodeJobState.Succeeded or NodeJobState.Warning)).Select(n => n.NodeId).ToList();
        if (failed.Count == 0) return Outcome.Conflict($"Every node of job {jobId} succeeded: nothing to retry.");
        return await EnqueueAsync(job.ClusterId, job.Kind, job.NodeId, actor, job.Kind.WholeCluster() ? null : failed, jobId, ReadParameters(job.Parameters), ct);
    }

    /// <summary>
    /// A job whose instance is gone did not finish: marked interrupted, node states kept, retry possible (from any
    /// instance). Gone: not heard of for <paramref name="deadAfter"/>; when this instance is <see cref="PanelInstance.Alone"/>
    /// (SQLite), any other. Two instances looking at once interrupt a job once.
    /// </summary>
    public async Task<int> InterruptOrphansAsync(PanelInstance self, TimeSpan deadAfter, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var running = db.Jobs.Include(j => j.Nodes).Where(j => j.State == JobState.Running && (j.RunningOn == null || j.RunningOn != self.Id));
        if (!self.Alone)
        {
            var cutoff = now - deadAfter;
            running = running.Where(j => j.RunningOn == null || !db.PanelInstances.Any(i => i.Id == j.RunningOn && i.LastSeenAt >= cutoff));
        }
        var orphans = await running.ToListAsync(ct);
        var interrupted = 0;
        foreach (var job in orphans)
        {
            await using var transaction = await db.Database.BeginTransactionAsync(ct);
            // Claimed by one conditional statement: another instance that got there first wins, and this one leaves it.
            if (await db.Jobs.Where(j => j.Id == job.Id && j.State == JobState.Running).ExecuteUpdateAsync(u => u.SetProperty(j => j.State, JobState.Interrupted), ct) == 0) continue;
            var host = self.Alone || job.RunningOn is null ? null : await db.PanelInstances.Where(i => i.Id == job.RunningOn).Select(i => i.Host).FirstOrDefaultAsync(ct);
            await Interrupt(db, job, now, ct, self.Alone ? null : $"The panel instance that ran this job ({host ?? job.RunningOn ?? "unknown"}) stopped answering");
            await db.SaveChangesAsync(ct);
            await transaction.CommitAsync(ct);
            interrupted++;
            notifier.Publish(new JobChanged(job.Id, job.ClusterId, 0, Ended: true));
        }
        if (interrupted > 0) logger.LogWarning("Marked {Count} jobs interrupted: the instance that ran them stopped", interrupted);
        return interrupted;
    }

    /// <summary>Ends a job that the panel's stop cut short: node states as last known, retry possible.</summary>
    internal static async Task Interrupt(PanelDbContext db, JobEntity job, DateTimeOffset now, CancellationToken ct, string? why = null)
    {
        why ??= "The panel stopped while this job ran";
        job.State = JobState.Interrupted;
        job.FinishedAt = now;
        job.Message = $"{why}. Node states are as last known; retry runs the nodes that did not finish.";
        InterruptNodes(job, now);
        db.JobLog.Add(new JobLogLine
        {
            JobId = job.Id, Seq = (await db.JobLog.Where(l => l.JobId == job.Id).MaxAsync(l => (int?)l.Seq, ct) ?? 0) + 1,
            At = now, Text = $"Interrupted: {char.ToLowerInvariant(why[0])}{why[1..]}.",
        });
    }

    /// <summary>A cut-short job's nodes that had not finished: interrupted, with what they were doing.</summary>
    internal static void InterruptNodes(JobEntity job, DateTimeOffset now)
    {
        foreach (var node in job.Nodes.Where(n => n.State is NodeJobState.Running or NodeJobState.Pending))
        {
            node.Message = node.State == NodeJobState.Running ? $"Interrupted while running: {node.Message}" : "Interrupted before it started.";
            node.State = NodeJobState.Interrupted;
            node.UpdatedAt = now;
        }
    }

    private static Outcome NoJob(int jobId) => Outcome.NotFound($"There is no job {jobId}.");

    internal static JobView ToView(JobEntity job)
    {
        var parameters = ReadParameters(job.Parameters);
        return new(job.Id, job.ClusterId, job.Kind, job.NodeId, job.State, job.Message, job.CreatedBy, job.CreatedAt, job.StartedAt, job.FinishedAt,
            job.RetryOfJobId,
            job.Nodes.OrderBy(n => n.Id).Select(n => new JobNodeView(n.NodeId, n.NodeName, n.State, n.Message, n.Details)).ToList())
        {
            TargetVersion = parameters.TargetVersion,
            DrainTimeout = parameters.DrainTimeout,
            Force = parameters.Force ? true : null,
            Wipe = parameters.Wipe ? true : null,
            PublicIp = parameters.PublicIp,
            Rotate = parameters.Rotate,
            Set = parameters.Set,
        };
    }
}

/// <summary>
/// Cancellation sources of the jobs running in this process. A cancel for a job that runs elsewhere goes to
/// <see cref="Relay"/> (with PostgreSQL, the channel to the other instances); the instance that runs it cancels at once.
/// </summary>
public sealed class JobCancellations
{
    /// <summary>Where a cancel for a job not running here is passed on (null: one instance, nowhere).</summary>
    public Action<int>? Relay { get; set; }

    private readonly System.Collections.Concurrent.ConcurrentDictionary<int, CancellationTokenSource> _sources = new();

    public CancellationTokenSource Register(int jobId, CancellationToken outer)
    {
        var source = CancellationTokenSource.CreateLinkedTokenSource(outer);
        _sources[jobId] = source;
        return source;
    }

    public void Unregister(int jobId)
    {
        if (_sources.TryRemove(jobId, out var source)) source.Dispose();
    }

    /// <summary>Cancels the job if it runs here, or asks the other instances.</summary>
    public void Cancel(int jobId)
    {
        if (!CancelHere(jobId)) Relay?.Invoke(jobId);
    }

    /// <summary>Cancels the job if it runs in this process; false if it does not.</summary>
    public bool CancelHere(int jobId)
    {
        if (!_sources.TryGetValue(jobId, out var source)) return false;
        try { source.Cancel(); } catch (ObjectDisposedException) { }
        return true;
    }
}
