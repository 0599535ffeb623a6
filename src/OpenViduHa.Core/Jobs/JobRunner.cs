using System.Globalization;
using Hangfire;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Security;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>A node a job acts on: its definition, its SSH target and its stored row id.</summary>
public sealed record JobNode(int Id, NodeDefinition Definition, SshTarget Ssh)
{
    public string Name => Definition.Name;
    public NodeRole Role => Definition.Role;
}

/// <summary>Everything a handler needs for one run.</summary>
public sealed record JobRun(JobContext Context, JobKind Kind, ClusterDefinition Cluster, IReadOnlyList<JobNode> Scope, IReadOnlyList<JobNode> AllNodes)
{
    /// <summary>What the kind needs besides the cluster and the nodes (an upgrade's target).</summary>
    public JobParameters Parameters { get; init; } = JobParameters.None;

    public CancellationToken Cancellation => Context.Cancellation;

    /// <summary>Nodes whose leftovers of earlier jobs this run has already removed (once per node and run).</summary>
    internal System.Collections.Concurrent.ConcurrentDictionary<int, byte> LeftoversChecked { get; } = new();
}

public interface IJobHandler
{
    IEnumerable<JobKind> Kinds { get; }
    Task RunAsync(JobRun run);
}

/// <summary>
/// The Hangfire entry point. Running a job twice is unsafe (an install is not idempotent), so Hangfire never
/// retries it, and a job that is no longer queued in the panel's database (cancelled, interrupted by a restart) is
/// left alone when Hangfire hands it over again.
/// </summary>
public sealed class JobRunner(
    IDbContextFactory<PanelDbContext> dbFactory,
    ClusterService clusters,
    SecretProtector protector,
    IEnumerable<IJobHandler> handlers,
    JobCancellations cancellations,
    JobNotifier notifier,
    Instances.PanelInstance instance,
    TimeProvider clock,
    IOptions<JobOptions> options,
    ILogger<JobRunner> logger)
{
    /// <summary>
    /// Hangfire's entry: runs the job, then fails in Hangfire too when the job did not succeed (failed, cancelled,
    /// interrupted), with the job's own message, so the Hangfire dashboard says what the panel says. Never retried by
    /// Hangfire: a retry is the operator's (the failed nodes only).
    /// </summary>
    [AutomaticRetry(Attempts = 0, OnAttemptsExceeded = AttemptsExceededAction.Fail)]
    [JobDisplayName("OpenVidu job {0}")]
    public async Task RunAndReportAsync(int jobId, CancellationToken ct)
    {
        await RunAsync(jobId, ct);
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var job = await db.Jobs.AsNoTracking().Where(j => j.Id == jobId).Select(j => new { j.Kind, j.State, j.Message }).FirstOrDefaultAsync(CancellationToken.None);
        if (job is { State: not (JobState.Succeeded or JobState.Queued or JobState.Running) })
            throw new JobNotSucceededException($"Job {jobId} ({job.Kind.Name()}) {job.State.Lower()}: {job.Message}");
    }

    /// <summary>Runs a queued job to its end (a job that is no longer queued is left alone). Its outcome is in the database.</summary>
    [AutomaticRetry(Attempts = 0)]
    [JobDisplayName("OpenVidu job {0}")]
    public async Task RunAsync(int jobId, CancellationToken ct)
    {
        int clusterId;
        JobKind kind;
        List<int> scopeIds;
        JobParameters parameters;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var job = await db.Jobs.AsNoTracking().Include(j => j.Nodes).FirstOrDefaultAsync(j => j.Id == jobId, ct);
            if (job is null || job.State != JobState.Queued)
            {
                logger.LogInformation("Job {JobId} is {State}: not run", jobId, job?.State.ToString() ?? "gone");
                return;
            }
            (clusterId, kind, scopeIds) = (job.ClusterId, job.Kind, job.Nodes.OrderBy(n => n.Id).Select(n => n.NodeId).ToList());
            parameters = JobService.ReadParameters(job.Parameters);
        }

        // Registered before the job counts as running, so a cancel from now on always reaches it.
        using var cancellation = cancellations.Register(jobId, ct);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Queued -> running in one conditional statement: a cancel that got there first wins, never both.
            var now = clock.GetUtcNow();
            var started = await db.Jobs.Where(j => j.Id == jobId && j.State == JobState.Queued)
                .ExecuteUpdateAsync(u => u.SetProperty(j => j.State, JobState.Running).SetProperty(j => j.StartedAt, now).SetProperty(j => j.RunningOn, instance.Id), ct);
            if (started == 0)
            {
                cancellations.Unregister(jobId);
                return;
            }
        }

        ClusterDefinition? cluster;
        List<JobNode> allNodes;
        try
        {
            cluster = await clusters.LoadDefinitionAsync(clusterId, CancellationToken.None)
                      ?? throw new InvalidOperationException($"Cluster {clusterId} no longer exists.");
            allNodes = await LoadNodesAsync(clusterId, cluster);
            if (scopeIds.FirstOrDefault(id => allNodes.All(n => n.Id != id)) is var missing and > 0)
                throw new InvalidOperationException($"Node {missing} is no longer part of the cluster.");
        }
        catch (Exception e)
        {
            // Never leave a job "running" because its setup failed.
            logger.LogError(e, "Job {JobId} could not start", jobId);
            cancellations.Unregister(jobId);
            await FailBeforeStartAsync(jobId, clusterId, e.Message);
            return;
        }
        // User names (admin, minioadmin…) are credentials too, but blanking "admin" out of every line helps nobody.
        var secrets = cluster!.Secrets.Where(s => Secrets.SecretCatalog.Find(s.Key)?.Kind != Secrets.SecretKind.Identity).Select(s => s.Value)
            .Append(cluster.LicenseKey)
            .Concat(allNodes.SelectMany(n => new[] { n.Ssh.Credentials.Password, n.Ssh.Credentials.SudoPassword, n.Ssh.Credentials.PrivateKeyPassphrase }).OfType<string>())
            .ToList();
        var lastSeq = await LastSeqAsync(jobId);
        var context = new JobContext(jobId, clusterId, dbFactory, notifier, clock, secrets, lastSeq, cancellation.Token, ct);
        var run = new JobRun(context, kind, cluster, scopeIds.Select(id => allNodes.First(n => n.Id == id)).ToList(), allNodes) { Parameters = parameters };
        if (await CancelRequestedAsync(jobId)) cancellations.CancelHere(jobId);

        string? failure = null;
        logger.LogInformation("Job {JobId} {JobKind} started on {NodeCount} node(s) of cluster {ClusterName} (OpenVidu {Version})",
            jobId, kind.Name(), run.Scope.Count, cluster.Name, cluster.Version);
        try
        {
            await context.LogAsync(null, $"{kind.Name()} started on {run.Scope.Count} node(s) of cluster '{cluster.Name}' (OpenVidu {cluster.Version}).");
            var handler = handlers.FirstOrDefault(h => h.Kinds.Contains(kind)) ?? throw new InvalidOperationException($"No handler for {kind.Name()} jobs.");
            await handler.RunAsync(run);
        }
        catch (OperationCanceledException) when (cancellation.IsCancellationRequested)
        {
            // Finished below as cancelled.
        }
        catch (Exception e)
        {
            failure = context.Redact(e.Message);
            // The panel's log gets the redacted reason and where it came from, never the raw exception: its message can
            // carry what a node printed (a password among it).
            logger.LogError("Job {JobId} failed: {Reason} ({ExceptionType}){NewLine}{StackTrace}", jobId, failure, e.GetType().Name, Environment.NewLine, e.StackTrace);
        }
        finally
        {
            cancellations.Unregister(jobId);
        }

        if (ct.IsCancellationRequested)
        {
            // The panel is stopping (Hangfire's shutdown token): this job did not finish, it did not fail.
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var job = await db.Jobs.Include(j => j.Nodes).FirstAsync(j => j.Id == jobId, CancellationToken.None);
            await JobService.Interrupt(db, job, clock.GetUtcNow(), CancellationToken.None);
            await db.SaveChangesAsync(CancellationToken.None);
            logger.LogWarning("Job {JobId} {JobKind} interrupted: the panel is stopping (retry it once the panel is back)", jobId, kind.Name());
            notifier.Publish(new JobChanged(jobId, clusterId, 0, Ended: true));
            return;
        }
        await FinishAsync(context, cancellation.IsCancellationRequested, failure);
        if (options.Value.TrimMemoryAfterNodes is > 0 and var large && run.Scope.Count >= large)
        {
            var (before, after, took) = MemoryTrim.Now();
            logger.LogInformation("Job {JobId} over {NodeCount} nodes ended: memory collected, resident {BeforeMb} MB -> {AfterMb} MB ({PauseMs} ms)",
                jobId, run.Scope.Count, before / 1_000_000, after / 1_000_000, (int)took.TotalMilliseconds);
        }
    }

    private async Task FinishAsync(JobContext context, bool cancelled, string? failure)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var job = await db.Jobs.Include(j => j.Nodes).FirstAsync(j => j.Id == context.JobId);
        var now = clock.GetUtcNow();
        foreach (var node in job.Nodes.Where(n => n.State is NodeJobState.Pending or NodeJobState.Running))
        {
            node.State = cancelled ? NodeJobState.Cancelled : NodeJobState.Failed;
            node.Message ??= cancelled ? "Cancelled." : failure ?? "Did not finish.";
            node.UpdatedAt = now;
        }
        // A skipped node did not get the work done: it fails the job like a failed one (never a silent pass).
        var failedNodes = job.Nodes.Where(n => n.State is NodeJobState.Failed or NodeJobState.Skipped).Select(n => n.NodeName).ToList();
        job.State = cancelled || job.CancelRequested ? JobState.Cancelled
            : failure is not null || failedNodes.Count > 0 ? JobState.Failed
            : JobState.Succeeded;
        job.Message = job.State switch
        {
            JobState.Cancelled => "Cancelled.",
            JobState.Failed when failure is not null => failure,
            JobState.Failed => $"Failed on {string.Join(", ", failedNodes)}.",
            _ => job.Message ?? "Done.",
        };
        job.FinishedAt = now;
        await db.SaveChangesAsync(CancellationToken.None);
        // The panel's own log tells the story without the UI (journalctl, log shipping): each node's end, then the job's.
        // Messages are the job's own (what the nodes printed is already blanked out there), redacted once more.
        foreach (var node in job.Nodes.OrderBy(n => n.Id))
        {
            logger.Log(node.State is NodeJobState.Succeeded ? LogLevel.Information : LogLevel.Warning,
                "Job {JobId} {JobKind} on {NodeName}: {NodeState}: {NodeMessage}", job.Id, job.Kind.Name(), node.NodeName, node.State.Lower(), context.Redact(node.Message ?? ""));
        }
        logger.Log(job.State == JobState.Succeeded ? LogLevel.Information : LogLevel.Warning,
            "Job {JobId} {JobKind} of cluster {ClusterId} {JobState} after {Duration}: {JobMessage}",
            job.Id, job.Kind.Name(), job.ClusterId, job.State.Lower(), (now - (job.StartedAt ?? now)).ToString(@"hh\:mm\:ss", CultureInfo.InvariantCulture), context.Redact(job.Message ?? ""));
        await context.LogAsync(null, $"{job.Kind.Name()} {job.State.Lower()}: {job.Message}");
        notifier.Publish(new JobChanged(context.JobId, context.ClusterId, 0, Ended: true));
    }

    private async Task<bool> CancelRequestedAsync(int jobId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        return await db.Jobs.Where(j => j.Id == jobId).Select(j => j.CancelRequested).FirstAsync();
    }

    private async Task FailBeforeStartAsync(int jobId, int clusterId, string reason)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var job = await db.Jobs.Include(j => j.Nodes).FirstAsync(j => j.Id == jobId);
        var now = clock.GetUtcNow();
        job.State = JobState.Failed;
        job.FinishedAt = now;
        job.Message = $"Could not start: {reason}";
        foreach (var node in job.Nodes) { node.State = NodeJobState.Failed; node.Message = job.Message; node.UpdatedAt = now; }
        await db.SaveChangesAsync(CancellationToken.None);
        notifier.Publish(new JobChanged(jobId, clusterId, 0, Ended: true));
    }

    private async Task<int> LastSeqAsync(int jobId)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        return await db.JobLog.Where(l => l.JobId == jobId).MaxAsync(l => (int?)l.Seq) ?? 0;
    }

    private async Task<List<JobNode>> LoadNodesAsync(int clusterId, ClusterDefinition cluster)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var rows = await db.Nodes.AsNoTracking().Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync();
        return rows.Select(n => new JobNode(
            n.Id,
            cluster.Nodes.First(d => d.Name == n.Name),
            new SshTarget(n.Name, n.SshHost, n.SshPort, n.SshUsername, protector.Unprotect<SshCredentials>(n.ProtectedCredentials), n.HostKeyFingerprint))).ToList();
    }
}

/// <summary>A job ended other than succeeded: Hangfire records it as failed, with the job's message (already redacted).</summary>
public sealed class JobNotSucceededException : Exception
{
    public JobNotSucceededException() { }

    public JobNotSucceededException(string message) : base(message) { }

    public JobNotSucceededException(string message, Exception inner) : base(message, inner) { }
}
