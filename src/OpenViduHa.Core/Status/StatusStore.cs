using System.Collections.Concurrent;

namespace OpenViduHa.Core.Status;

/// <summary>
/// The latest status of every watched cluster, in memory, and live updates for open views: a singleton that hands out
/// <see cref="IDisposable"/> subscriptions per cluster. Publishing never waits for a listener; a throwing listener never
/// breaks a sweep.
/// </summary>
public sealed class StatusStore
{
    private readonly ConcurrentDictionary<int, ClusterStatus> _latest = new();
    private readonly Broadcaster<ClusterStatus> _updates = new();

    public ClusterStatus? Latest(int clusterId) => _latest.GetValueOrDefault(clusterId);

    public IReadOnlyCollection<ClusterStatus> All => _latest.Values.ToList();

    public void Update(ClusterStatus status)
    {
        _latest[status.ClusterId] = status;
        _updates.Publish(status);
    }

    public void Remove(int clusterId) => _latest.TryRemove(clusterId, out _);

    /// <summary>Called with every new status of the cluster (after each sweep, changed or not: views show the time).</summary>
    public IDisposable Subscribe(int clusterId, Func<ClusterStatus, Task> handler) => _updates.Subscribe(s => s.ClusterId == clusterId, handler);
}
