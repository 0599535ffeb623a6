using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Tests.Shared;

/// <summary>
/// A running job with a long log, written straight into the panel's database (no node is contacted: the cluster's
/// addresses are examples). Lines after the seed go through the job's real <see cref="JobContext"/>, so the page hears
/// about them as it would from a running job.
/// </summary>
public sealed class JobSeed
{
    private readonly IServiceProvider _services;
    private readonly JobContext _context;

    public int JobId { get; }
    public int ClusterId { get; }

    /// <summary>The nodes the seeded lines came from, in turn (the first line and every 100th are the panel's own).</summary>
    public IReadOnlyList<string> Nodes { get; }

    private JobSeed(IServiceProvider services, int jobId, int clusterId, IReadOnlyList<string> nodes, int lines)
    {
        _services = services;
        JobId = jobId;
        ClusterId = clusterId;
        Nodes = nodes;
        _context = new JobContext(jobId, clusterId, services.GetRequiredService<IDbContextFactory<PanelDbContext>>(),
            services.GetRequiredService<JobNotifier>(), TimeProvider.System, [], lines, CancellationToken.None);
    }

    /// <summary>The node that wrote line <paramref name="seq"/> (null: the panel).</summary>
    public string? NodeOf(int seq) => seq % 100 == 1 ? null : Nodes[seq % Nodes.Count];

    public static string TextOf(int seq) => $"line {seq} of the seeded log";

    public static async Task<JobSeed> CreateAsync(IServiceProvider services, int clusterId, int lines, JobKind kind = JobKind.CheckCredentials)
    {
        var factory = services.GetRequiredService<IDbContextFactory<PanelDbContext>>();
        await using var db = await factory.CreateDbContextAsync();
        var nodes = await db.Nodes.Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync();
        var now = DateTimeOffset.UtcNow;
        var job = new JobEntity
        {
            ClusterId = clusterId, Kind = kind, State = JobState.Running, CreatedBy = "seed", CreatedAt = now, StartedAt = now,
            Nodes = nodes.Select(n => new JobNodeEntity { NodeId = n.Id, NodeName = n.Name, State = NodeJobState.Running, UpdatedAt = now }).ToList(),
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        var seed = new JobSeed(services, job.Id, clusterId, nodes.Select(n => n.Name).ToList(), lines);
        db.JobLog.AddRange(Enumerable.Range(1, lines).Select(seq => new JobLogLine
        {
            JobId = job.Id, Seq = seq, At = now.AddMilliseconds(seq - lines), NodeName = seed.NodeOf(seq), Text = TextOf(seq),
        }));
        await db.SaveChangesAsync();
        return seed;
    }

    /// <summary>One more line, as a running job writes it (committed, then announced to open pages).</summary>
    public Task AppendAsync(string? node, string text) => _context.LogAsync(node, text);
}
