using System.Collections.Concurrent;

namespace OpenViduHa.Core;

/// <summary>
/// Live updates for open views: hands out <see cref="IDisposable"/> subscriptions, each with the messages it wants.
/// Publishing never waits for a listener (each is called on the thread pool, in no set order) and a throwing listener
/// never breaks the publisher: a view reports its own errors (DispatchExceptionAsync).
/// </summary>
public sealed class Broadcaster<TMessage>
{
    private readonly ConcurrentDictionary<Guid, (Func<TMessage, bool> Wants, Func<TMessage, Task> Handler)> _subscribers = new();

    public IDisposable Subscribe(Func<TMessage, bool> wants, Func<TMessage, Task> handler)
    {
        var id = Guid.NewGuid();
        _subscribers[id] = (wants, handler);
        return new Subscription(() => _subscribers.TryRemove(id, out _));
    }

    public void Publish(TMessage message)
    {
        foreach (var (_, (wants, handler)) in _subscribers)
        {
            if (!wants(message)) continue;
            _ = Task.Run(async () =>
            {
                try { await handler(message); }
                catch (Exception) { /* the listener's own business: the publisher carries on */ }
            });
        }
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
