using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Status between instances sharing a database. The instance that sweeps a cluster writes each new picture to
/// <c>StatusSnapshots</c> and says so on the instances' channel (<see cref="Relay"/>, <c>s &lt;cluster&gt;</c>); the
/// others read it into their own <see cref="StatusStore"/>, so a page on any instance shows the same status, live. A
/// refresh asked on an instance that does not sweep the cluster goes to the one that does (<c>r &lt;cluster&gt;
/// &lt;ports&gt;</c>). Missed messages are caught up from the table on every ownership round.
/// </summary>
public sealed class StatusSharing(IDbContextFactory<PanelDbContext> dbFactory, StatusStore store, SweepOwnership ownership, PanelInstance instance, TimeProvider clock,
    ILogger<StatusSharing> logger)
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web) { Converters = { new JsonStringEnumConverter() } };

    /// <summary>Sends a message to the other instances (set by the channel; null when alone).</summary>
    public Action<string>? Relay { get; set; }

    /// <summary>Sweeps a cluster this instance owns because another instance asked (set by the status service).</summary>
    public Func<int, bool, Task>? RefreshRequested { get; set; }

    public bool Shared => ownership.Shared;

    /// <summary>The owner's side: a new picture of its cluster, for the others.</summary>
    public async Task PublishAsync(ClusterStatus status, CancellationToken ct)
    {
        if (!Shared) return;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var json = JsonSerializer.Serialize(status, Json);
        var sweptAt = status.CheckedAt ?? clock.GetUtcNow();
        if (await db.StatusSnapshots.Where(s => s.ClusterId == status.ClusterId)
                .ExecuteUpdateAsync(u => u.SetProperty(s => s.Json, json).SetProperty(s => s.SweptAt, sweptAt).SetProperty(s => s.Owner, instance.Id), ct) == 0)
        {
            db.StatusSnapshots.Add(new StatusSnapshotEntity { ClusterId = status.ClusterId, Owner = instance.Id, SweptAt = sweptAt, Json = json });
            try
            {
                await db.SaveChangesAsync(ct);
            }
            catch (DbUpdateException)
            {
                // The cluster was deleted meanwhile (or its first snapshot written twice): the next sweep says it again.
                return;
            }
        }
        Relay?.Invoke($"s {status.ClusterId}");
    }

    /// <summary>A message from another instance: <c>s &lt;cluster&gt;</c> or <c>r &lt;cluster&gt; &lt;0|1&gt;</c>.</summary>
    public async Task ReceiveAsync(string message)
    {
        var f = message.Split(' ');
        try
        {
            if (f is ["s", var s] && int.TryParse(s, out var shared) && !ownership.Owns(shared)) await LoadAsync(shared, CancellationToken.None);
            else if (f is ["r", var r, var ports] && int.TryParse(r, out var asked) && ownership.Owns(asked) && RefreshRequested is { } refresh) await refresh(asked, ports == "1");
        }
        catch (Exception e)
        {
            logger.LogWarning("Status message '{Message}' from another instance not handled: {Reason}", message, e.Message);
        }
    }

    /// <summary>Reads a cluster's snapshot into this instance's store when it is newer than what the store holds.</summary>
    public async Task LoadAsync(int clusterId, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var snapshot = await db.StatusSnapshots.AsNoTracking().FirstOrDefaultAsync(s => s.ClusterId == clusterId, ct);
        if (snapshot is null || store.Latest(clusterId)?.CheckedAt >= snapshot.SweptAt) return;
        if (JsonSerializer.Deserialize<ClusterStatus>(snapshot.Json, Json) is { } status) store.Update(status);
    }

    /// <summary>Every cluster this instance does not sweep whose snapshot is newer than what it shows.</summary>
    public async Task CatchUpAsync(CancellationToken ct)
    {
        if (!Shared) return;
        List<(int ClusterId, DateTimeOffset SweptAt)> snapshots;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
            snapshots = (await db.StatusSnapshots.AsNoTracking().Select(s => new { s.ClusterId, s.SweptAt }).ToListAsync(ct)).Select(s => (s.ClusterId, s.SweptAt)).ToList();
        foreach (var (clusterId, sweptAt) in snapshots)
            if (!ownership.Owns(clusterId) && !(store.Latest(clusterId)?.CheckedAt >= sweptAt))
                await LoadAsync(clusterId, ct);
    }

    /// <summary>
    /// Asks the instance that sweeps a cluster for a sweep now and waits for its picture (at most <paramref name="wait"/>);
    /// null when none came (the owner is gone or slow).
    /// </summary>
    public async Task<ClusterStatus?> AskOwnerAsync(int clusterId, bool allPorts, TimeSpan wait, CancellationToken ct)
    {
        if (Relay is null) return null;
        var asked = clock.GetUtcNow();
        Relay($"r {clusterId} {(allPorts ? 1 : 0)}");
        var deadline = asked + wait;
        while (clock.GetUtcNow() < deadline)
        {
            await Task.Delay(TimeSpan.FromMilliseconds(200), ct);
            if (store.Latest(clusterId) is { CheckedAt: { } checkedAt } status && checkedAt >= asked) return status;
            await LoadAsync(clusterId, ct);
        }
        return null;
    }
}
