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
    private readonly ConcurrentDictionary<Guid, (int ClusterId, Func<ClusterStatus, Task> Handler)> _subscribers = new();

    public ClusterStatus? Latest(int clusterId) => _latest.GetValueOrDefault(clusterId);

    public IReadOnlyCollection<ClusterStatus> All => _latest.Values.ToList();

    public void Update(ClusterStatus status)
    {
        _latest[status.ClusterId] = status;
        foreach (var (_, (clusterId, handler)) in _subscribers)
        {
            if (clusterId != status.ClusterId) continue;
            _ = Task.Run(async () =>
            {
                try { await handler(status); }
                catch (Exception) { /* the view reports its own errors (DispatchExceptionAsync); a sweep never fails for it */ }
            });
        }
    }

    public void Remove(int clusterId) => _latest.TryRemove(clusterId, out _);

    /// <summary>Called with every new status of the cluster (after each sweep, changed or not: views show the time).</summary>
    public IDisposable Subscribe(int clusterId, Func<ClusterStatus, Task> handler)
    {
        var id = Guid.NewGuid();
        _subscribers[id] = (clusterId, handler);
        return new Subscription(() => _subscribers.TryRemove(id, out _));
    }

    private sealed class Subscription(Action dispose) : IDisposable
    {
        private int _disposed;

        public void Dispose()
        {
            if (Interlocked.Exchange(ref _disposed, 1) == 0) dispose();
        }
    }
}
