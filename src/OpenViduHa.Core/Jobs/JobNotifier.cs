using System.Collections.Concurrent;

namespace OpenViduHa.Core.Jobs;

/// <summary>A job changed (state, a node, new log lines). Carries no values: listeners read what they show.</summary>
/// <summary>A job's state, nodes or log changed; <paramref name="Ended"/> when it reached a final state (views that show nodes reload then).</summary>
public sealed record JobChanged(int JobId, int ClusterId, int LastSeq, bool Ended = false);

/// <summary>
/// Live updates for open views: a singleton that hands out <see cref="IDisposable"/> subscriptions, per job and per
/// cluster. Publishing never blocks on a slow listener and a throwing listener never breaks a job.
/// </summary>
public sealed class JobNotifier
{
    private readonly ConcurrentDictionary<Guid, (int? JobId, int? ClusterId, Func<JobChanged, Task> Handler)> _subscribers = new();

    public IDisposable SubscribeJob(int jobId, Func<JobChanged, Task> handler) => Add(jobId, null, handler);

    public IDisposable SubscribeCluster(int clusterId, Func<JobChanged, Task> handler) => Add(null, clusterId, handler);

    public void Publish(JobChanged change)
    {
        foreach (var (_, (jobId, clusterId, handler)) in _subscribers)
        {
            if (jobId == change.JobId || clusterId == change.ClusterId)
                _ = Task.Run(async () =>
                {
                    try { await handler(change); }
                    catch (Exception) { /* the view reports its own errors (DispatchExceptionAsync); a job never fails for it */ }
                });
        }
    }

    private Subscription Add(int? jobId, int? clusterId, Func<JobChanged, Task> handler)
    {
        var id = Guid.NewGuid();
        _subscribers[id] = (jobId, clusterId, handler);
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
