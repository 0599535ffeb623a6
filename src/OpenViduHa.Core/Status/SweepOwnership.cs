using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Which clusters this instance sweeps. Alone (SQLite), every cluster. Sharing a database, each installed cluster is
/// swept by one instance, the holder of its lease in <c>SweepLeases</c>: held for <see cref="LeaseDuration"/> (one
/// status interval) and renewed every <see cref="RoundInterval"/> (a third of it), so the clusters of an instance that
/// died are taken within 1⅓ intervals and swept at once. Clusters are shared out evenly among the instances that sweep
/// (an instance above its fair share lets the extra go, one below takes free ones; expired leases are taken whatever
/// the share).
/// </summary>
public sealed class SweepOwnership(
    IDbContextFactory<PanelDbContext> dbFactory,
    PanelInstance instance,
    IOptions<StatusOptions> status,
    IOptions<InstanceOptions> instances,
    TimeProvider clock,
    ILogger<SweepOwnership> logger)
{
    private volatile HashSet<int> _owned = [];

    /// <summary>True when other instances may sweep too (PostgreSQL): leases decide.</summary>
    public bool Shared => !instance.Alone;

    public TimeSpan LeaseDuration => status.Value.Interval;

    public TimeSpan RoundInterval => status.Value.Interval / 3;

    public bool Owns(int clusterId) => !Shared || _owned.Contains(clusterId);

    public IReadOnlyCollection<int> Owned => _owned;

    /// <summary>
    /// One round: renew this instance's leases, let go of those above its fair share, take free or expired ones up to
    /// it. Returns the clusters taken in this round (to sweep at once).
    /// </summary>
    public async Task<IReadOnlyList<int>> RoundAsync(CancellationToken ct)
    {
        if (!Shared) return [];
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var until = now + LeaseDuration;
        await db.SweepLeases.Where(l => l.Owner == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(l => l.ExpiresAt, until), ct);

        var installed = await db.Nodes.Where(n => n.InstalledAt != null).Select(n => n.ClusterId).Distinct().OrderBy(c => c).ToListAsync(ct);
        var aliveSince = now - instances.Value.DeadAfter;
        var sweepers = Math.Max(1, await db.PanelInstances.CountAsync(i => i.Sweeps && i.LastSeenAt >= aliveSince && i.Id != instance.Id, ct) + 1);
        var fair = (installed.Count + sweepers - 1) / sweepers;
        var leases = await db.SweepLeases.AsNoTracking().ToListAsync(ct);
        var mine = leases.Where(l => l.Owner == instance.Id && installed.Contains(l.ClusterId)).Select(l => l.ClusterId).Order().ToList();

        if (mine.Count > fair)
        {
            var extra = mine.Skip(fair).ToList();
            await db.SweepLeases.Where(l => l.Owner == instance.Id && extra.Contains(l.ClusterId)).ExecuteDeleteAsync(ct);
            mine = mine.Take(fair).ToList();
            logger.LogInformation("Sweeps of clusters {Clusters} left to the other instances (fair share {Fair})", string.Join(", ", extra), fair);
        }

        var taken = new List<int>();
        var held = leases.ToDictionary(l => l.ClusterId);
        foreach (var clusterId in installed)
        {
            if (mine.Contains(clusterId)) continue;
            if (held.TryGetValue(clusterId, out var lease))
            {
                // An expired lease is taken whatever the share: its owner stopped renewing (dead, or stuck), and a
                // cluster without a sweeper is worse than an uneven share, which the next rounds even out.
                if (lease.ExpiresAt >= now) continue;
                // Taken from an owner that stopped renewing, in one conditional statement: of two instances trying, one wins.
                if (await db.SweepLeases.Where(l => l.ClusterId == clusterId && l.ExpiresAt < now)
                        .ExecuteUpdateAsync(u => u.SetProperty(l => l.Owner, instance.Id).SetProperty(l => l.ExpiresAt, until), ct) == 0) continue;
            }
            else
            {
                if (mine.Count >= fair) continue;
                db.SweepLeases.Add(new SweepLeaseEntity { ClusterId = clusterId, Owner = instance.Id, ExpiresAt = until });
                try
                {
                    await db.SaveChangesAsync(ct);
                }
                catch (DbUpdateException)
                {
                    // Another instance made the lease first: it sweeps that cluster.
                    db.ChangeTracker.Clear();
                    continue;
                }
            }
            mine.Add(clusterId);
            taken.Add(clusterId);
        }
        _owned = mine.ToHashSet();
        if (taken.Count > 0) logger.LogInformation("Instance {Instance} now sweeps clusters {Clusters}", instance.Id, string.Join(", ", taken));
        return taken;
    }

    /// <summary>The instance sweeping a cluster, when one holds an unexpired lease (null: none).</summary>
    public async Task<string?> OwnerAsync(int clusterId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        return await db.SweepLeases.Where(l => l.ClusterId == clusterId && l.ExpiresAt >= now).Select(l => l.Owner).FirstOrDefaultAsync(ct);
    }

    /// <summary>Takes a cluster whose owner is gone right now (a refresh found nobody to ask); true when this instance holds it.</summary>
    public async Task<bool> TakeAsync(int clusterId, CancellationToken ct)
    {
        if (!Shared) return true;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var until = now + LeaseDuration;
        var updated = await db.SweepLeases.Where(l => l.ClusterId == clusterId && (l.ExpiresAt < now || l.Owner == instance.Id))
            .ExecuteUpdateAsync(u => u.SetProperty(l => l.Owner, instance.Id).SetProperty(l => l.ExpiresAt, until), ct);
        if (updated == 0)
        {
            if (await db.SweepLeases.AnyAsync(l => l.ClusterId == clusterId, ct)) return false;
            db.SweepLeases.Add(new SweepLeaseEntity { ClusterId = clusterId, Owner = instance.Id, ExpiresAt = until });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                return false;
            }
        }
        _owned = [.. _owned, clusterId];
        return true;
    }
}
