using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Keeps each cluster's port answers (<see cref="PortResults"/>) in the database: saved at most once a minute after a
/// sweep that changed them and when the panel stops, read back by the first sweep of a restarted panel. A restart then
/// costs the masters no full port matrix (at 1,000 nodes ~4,000 shells at once); a crash loses at most a minute of
/// answers, which the next sweeps check again.
/// </summary>
public sealed class PortAnswersStore(IDbContextFactory<PanelDbContext> dbFactory, TimeProvider clock)
{
    /// <summary>How often a cluster's answers are written at most while the panel runs.</summary>
    public static readonly TimeSpan SaveEvery = TimeSpan.FromMinutes(1);

    private readonly Dictionary<int, DateTimeOffset> _saved = [];
    private readonly Lock _sync = new();

    /// <summary>The cluster's saved answers, or none.</summary>
    public async Task<PortResults> LoadAsync(int clusterId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var row = await db.PortAnswers.AsNoTracking().FirstOrDefaultAsync(a => a.ClusterId == clusterId, ct);
        lock (_sync) _saved[clusterId] = clock.GetUtcNow();
        return row is null ? new PortResults() : PortResults.Restore(row.Cells, row.LastJobId);
    }

    /// <summary>Writes the answers if they changed and the last write is <see cref="SaveEvery"/> old (or <paramref name="now"/> is asked).</summary>
    public async Task SaveAsync(int clusterId, PortResults results, bool now, CancellationToken ct)
    {
        var at = clock.GetUtcNow();
        lock (_sync)
        {
            if (!results.Dirty || (!now && _saved.TryGetValue(clusterId, out var last) && at - last < SaveEvery)) return;
            _saved[clusterId] = at;
        }
        var cells = results.Saved();
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            if (!await db.Clusters.AnyAsync(c => c.Id == clusterId, ct)) return;
            var row = await db.PortAnswers.FirstOrDefaultAsync(a => a.ClusterId == clusterId, ct);
            if (row is null) db.PortAnswers.Add(row = new PortAnswersEntity { ClusterId = clusterId, Cells = cells });
            row.Cells = cells;
            row.LastJobId = results.LastJob;
            row.SavedAt = at;
            await db.SaveChangesAsync(ct);
        }
        catch
        {
            // Not written: the next sweep that may save tries again.
            results.SaveFailed();
            lock (_sync) _saved.Remove(clusterId);
            throw;
        }
    }
}
