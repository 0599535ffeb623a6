using Hangfire;
using Hangfire.Storage.SQLite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>
/// Two writers on one cluster, on the real database: a hook runs the second writer exactly between the first one's checks
/// and its write, the moment a race would lose data.
/// </summary>
public sealed class ConcurrentEditTests : IDisposable
{
    private readonly BeforeClusterWrite _hook = new();
    private readonly BeforeTransaction _jobHook = new();
    private readonly PanelDatabase _db;
    private readonly TempDirectory _hangfireDirectory = new("ovha-hangfire-");
    private readonly SQLiteStorage _storage;
    private readonly JobService _jobs;

    public ConcurrentEditTests()
    {
        _db = new PanelDatabase(_hook, _jobHook);
        _storage = new SQLiteStorage(_hangfireDirectory.File("hangfire.db"), new SQLiteStorageOptions());
        _jobs = new JobService(_db.Factory, new BackgroundJobClient(_storage), new JobCancellations(), new JobNotifier(), _db.Audit,
            TimeProvider.System, NullLogger<JobService>.Instance);
    }

    public void Dispose()
    {
        _storage.Dispose();
        _hangfireDirectory.Dispose();
        _db.Dispose();
    }

    /// <summary>The edit found no changing job, then one was queued before the edit wrote: the edit is refused as busy, nothing stored.</summary>
    [Fact]
    public async Task Edit_ChangingJobQueuedBetweenItsCheckAndItsWrite_RefusedAsBusy_NothingStored()
    {
        var id = await _db.CreateClusterAsync();
        var spec = (await _db.Clusters.GetSpecAsync(id))!;
        spec.DomainName = "changed.example.io";
        int? jobId = null;
        _hook.Once = async () => jobId = (await _jobs.EnqueueAsync(id, JobKind.Install, null, "alice")).Id;

        var result = await _db.Clusters.UpdateAsync(id, spec, "bob");

        Assert.NotNull(jobId); // the hook ran: the job went in between
        Assert.Equal(OutcomeKind.Conflict, result.Kind);
        Assert.Contains($"Job {jobId} (install) is changing this cluster", result.Message, StringComparison.Ordinal);
        Assert.Equal("openvidu.example.io", (await _db.Clusters.GetAsync(id))!.DomainName);
    }

    /// <summary>The other order: the edit wrote first (between the job's read and its write): the job is not queued on the old definition.</summary>
    [Fact]
    public async Task ChangingJob_EditSavedBetweenItsReadAndItsWrite_NotQueued()
    {
        var id = await _db.CreateClusterAsync();
        var spec = (await _db.Clusters.GetSpecAsync(id))!;
        spec.DomainName = "changed.example.io";
        _jobHook.Once = async () => Assert.True((await _db.Clusters.UpdateAsync(id, spec, "bob")).Succeeded);

        var result = await _jobs.EnqueueAsync(id, JobKind.Install, null, "alice");

        Assert.Equal(OutcomeKind.Conflict, result.Kind);
        Assert.Contains("was changed while the install job was being queued", result.Message, StringComparison.Ordinal);
        Assert.Empty(await _jobs.ListAsync(id));
        Assert.Equal("changed.example.io", (await _db.Clusters.GetAsync(id))!.DomainName);
    }

    /// <summary>A revision read before a changing job started is stale: the wizard's save is a precondition failure, not a silent overwrite.</summary>
    [Fact]
    public async Task Edit_AtARevisionBeforeAChangingJobStarted_PreconditionFailed()
    {
        var id = await _db.CreateClusterAsync();
        var read = (await _db.Clusters.GetAsync(id))!.Revision;
        var spec = (await _db.Clusters.GetSpecAsync(id))!;
        Assert.True((await _jobs.EnqueueAsync(id, JobKind.Install, null, "alice")).Succeeded);
        spec.DomainName = "changed.example.io";

        var result = await _db.Clusters.UpdateAsync(id, spec, "bob", ifRevision: read);

        Assert.Equal(OutcomeKind.PreconditionFailed, result.Kind);
        Assert.Equal(read + 1, (await _db.Clusters.GetAsync(id))!.Revision);
    }

    /// <summary>Two media nodes added at the same moment: the second lands inside the first's write, and both are stored, each with its own id.</summary>
    [Fact]
    public async Task AddNode_AnotherAddedBetweenItsReadAndItsWrite_BothStored()
    {
        var id = await _db.CreateClusterAsync();
        int? otherId = null;
        _hook.Once = async () => otherId = (await _db.Clusters.AddNodeAsync(id, Specs.Node("media", "10.5.0.31", "203.0.113.31"), "bob")).Id;

        var result = await _db.Clusters.AddNodeAsync(id, Specs.Node("media", "10.5.0.30", "203.0.113.30"), "alice");

        Assert.True(result.Succeeded, result.Message);
        Assert.NotNull(otherId);
        var nodes = await _db.NodesAsync(id);
        Assert.Equal(["10.5.0.30", "10.5.0.31"], nodes.Where(n => n.Id == result.Id || n.Id == otherId).Select(n => n.PrivateIp).Order());
        Assert.Equal("10.5.0.30", nodes.Single(n => n.Id == result.Id).PrivateIp);
        Assert.Equal(4, nodes.Count(n => n.Role == NodeRole.Media));
        Assert.Equal(["media-1", "media-2", "media-3", "media-4"], nodes.Where(n => n.Role == NodeRole.Media).Select(n => n.Name).Order());
        Assert.Equal(nodes.Count, nodes.Select(n => n.Ordinal).Distinct().Count());
    }

    /// <summary>Runs <see cref="Once"/> the first time a context is about to write a changed cluster.</summary>
    private sealed class BeforeClusterWrite : SaveChangesInterceptor
    {
        public Func<Task>? Once { get; set; }

        public override async ValueTask<InterceptionResult<int>> SavingChangesAsync(DbContextEventData eventData, InterceptionResult<int> result, CancellationToken cancellationToken = default)
        {
            if (eventData.Context!.ChangeTracker.Entries<ClusterEntity>().Any(e => e.State == EntityState.Modified) && Once is { } action)
            {
                Once = null;
                await action();
            }
            return result;
        }
    }

    /// <summary>Runs <see cref="Once"/> before the first transaction begins (a job's queuing: after its reads, before its write).</summary>
    private sealed class BeforeTransaction : DbTransactionInterceptor
    {
        public Func<Task>? Once { get; set; }

        public override async ValueTask<InterceptionResult<System.Data.Common.DbTransaction>> TransactionStartingAsync(
            System.Data.Common.DbConnection connection, TransactionStartingEventData eventData, InterceptionResult<System.Data.Common.DbTransaction> result,
            CancellationToken cancellationToken = default)
        {
            if (Once is { } action)
            {
                Once = null;
                await action();
            }
            return result;
        }
    }
}
