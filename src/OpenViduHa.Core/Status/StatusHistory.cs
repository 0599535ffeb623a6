using System.Collections.Concurrent;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Status;

/// <summary>
/// The status history: a row per verdict change of a node (or of the cluster), written only when the verdict changed,
/// at most <see cref="StatusOptions.HistoryPerNode"/> kept per node; and what a host presented instead of its pinned key.
/// </summary>
internal sealed class StatusHistory(IDbContextFactory<PanelDbContext> dbFactory, StatusOptions options, TimeProvider clock)
{
    private readonly ConcurrentDictionary<(int ClusterId, int? NodeId), (string Health, string Reason)> _verdicts = new();
    private readonly ConcurrentDictionary<int, bool> _verdictsLoaded = new();
    private long _changesWritten;

    /// <summary>Verdict changes written to the database so far.</summary>
    public long ChangesWritten => Interlocked.Read(ref _changesWritten);

    /// <summary>Recent verdict changes of a cluster's nodes (and of the cluster, NodeId null), newest first.</summary>
    public async Task<IReadOnlyList<StatusChange>> RecentAsync(int clusterId, int take, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.StatusChanges.AsNoTracking().Where(c => c.ClusterId == clusterId)
            .OrderByDescending(c => c.Id).Take(take).ToListAsync(ct);
        return rows.Select(r => new StatusChange(r.ClusterId, r.NodeId, r.At, r.Health, r.Reason)).ToList();
    }

    /// <summary>The last verdict written per node of the cluster, read once per cluster (after a restart: from the database).</summary>
    public async Task LoadAsync(int clusterId, CancellationToken ct)
    {
        if (_verdictsLoaded.ContainsKey(clusterId)) return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var lastIds = await db.StatusChanges.Where(c => c.ClusterId == clusterId).GroupBy(c => c.NodeId).Select(g => g.Max(c => c.Id)).ToListAsync(ct);
        var last = await db.StatusChanges.AsNoTracking().Where(c => lastIds.Contains(c.Id)).ToListAsync(ct);
        foreach (var row in last) _verdicts[(clusterId, row.NodeId)] = (row.Health, row.Reason);
        _verdictsLoaded[clusterId] = true;
    }

    /// <summary>
    /// Writes a row per node (and for the cluster) whose verdict changed since the last one written, trims the history of
    /// those nodes, and keeps the keys hosts presented (<paramref name="presented"/>: node id to fingerprint). Nothing is
    /// written when nothing changed.
    /// </summary>
    public async Task RecordAsync(ClusterStatus status, IReadOnlyDictionary<int, string> presented, CancellationToken ct)
    {
        var at = status.CheckedAt ?? clock.GetUtcNow();
        var changes = new List<StatusChangeEntity>();
        foreach (var node in status.Nodes)
        {
            var verdict = (node.Health.Lower(), node.NotWatched is { } why ? $"not watched: {why}" : node.Reason);
            if (_verdicts.TryGetValue((status.ClusterId, node.NodeId), out var before) && before == verdict) continue;
            changes.Add(new StatusChangeEntity { ClusterId = status.ClusterId, NodeId = node.NodeId, At = at, Health = verdict.Item1, Reason = verdict.Item2 });
        }
        var cluster = (status.Health.Lower(), status.Reason);
        if (!_verdicts.TryGetValue((status.ClusterId, null), out var was) || was != cluster)
            changes.Add(new StatusChangeEntity { ClusterId = status.ClusterId, NodeId = null, At = at, Health = cluster.Item1, Reason = cluster.Item2 });
        if (changes.Count == 0 && presented.Count == 0) return;

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (changes.Count > 0)
        {
            db.StatusChanges.AddRange(changes);
            await db.SaveChangesAsync(CancellationToken.None);
            foreach (var c in changes) _verdicts[(c.ClusterId, c.NodeId)] = (c.Health, c.Reason);
            Interlocked.Add(ref _changesWritten, changes.Count);
            await TrimAsync(db, status.ClusterId, changes.Select(c => c.NodeId).Distinct().ToList());
        }
        if (presented.Count > 0) await KeepPresentedAsync(db, presented);
    }

    /// <summary>One statement for the cluster: of each changed node's rows, those with HistoryPerNode newer ones go.</summary>
    private async Task TrimAsync(PanelDbContext db, int clusterId, List<int?> nodeIds)
    {
        var keep = options.HistoryPerNode;
        var nodes = nodeIds.OfType<int>().ToList();
        var withCluster = nodeIds.Contains(null);
        await db.StatusChanges
            .Where(c => c.ClusterId == clusterId && ((c.NodeId != null && nodes.Contains(c.NodeId.Value)) || (withCluster && c.NodeId == null)))
            .Where(c => db.StatusChanges.Count(n => n.ClusterId == clusterId && n.NodeId == c.NodeId && n.Id > c.Id) >= keep)
            .ExecuteDeleteAsync(CancellationToken.None);
    }

    /// <summary>
    /// A host that presents another key than the pinned one: kept for the operator to compare and re-pin (never
    /// trusted). The nodes whose kept key differs are updated together, in one save.
    /// </summary>
    private static async Task KeepPresentedAsync(PanelDbContext db, IReadOnlyDictionary<int, string> presented)
    {
        var ids = presented.Keys.ToList();
        var rows = await db.Nodes.Where(n => ids.Contains(n.Id)).ToListAsync(CancellationToken.None);
        foreach (var row in rows.Where(r => r.PresentedHostKeyFingerprint != presented[r.Id])) row.PresentedHostKeyFingerprint = presented[row.Id];
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
