using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>
/// Live updates: a subscriber hears its own job or cluster only, and not after it unsubscribed. Publishing hands work to
/// the thread pool; each test waits for the handlers it expects to run, never for time to pass.
/// </summary>
public sealed class JobNotifierTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task Publish_JobSubscriber_HearsItsJobOnly()
    {
        // Arrange
        var notifier = new JobNotifier();
        var heard = new List<JobChanged>();
        var done = new TaskCompletionSource();
        using var subscription = notifier.SubscribeJob(7, change =>
        {
            lock (heard) heard.Add(change);
            if (change.LastSeq == 99) done.TrySetResult();
            return Task.CompletedTask;
        });

        // Act
        notifier.Publish(new JobChanged(8, 1, 1));
        notifier.Publish(new JobChanged(7, 1, 2));
        notifier.Publish(new JobChanged(7, 1, 99));
        await done.Task.WaitAsync(Patience);

        // Assert
        lock (heard) Assert.Equal([2, 99], heard.Select(c => c.LastSeq).Order());
        Assert.All(heard, c => Assert.Equal(7, c.JobId));
    }

    [Fact]
    public async Task Publish_ClusterSubscriber_HearsEveryJobOfItsCluster()
    {
        // Arrange
        var notifier = new JobNotifier();
        var heard = new List<int>();
        var done = new TaskCompletionSource();
        using var subscription = notifier.SubscribeCluster(3, change =>
        {
            lock (heard)
            {
                heard.Add(change.JobId);
                if (heard.Count == 2) done.TrySetResult();
            }
            return Task.CompletedTask;
        });

        // Act
        notifier.Publish(new JobChanged(1, 3, 0));
        notifier.Publish(new JobChanged(2, 4, 0));
        notifier.Publish(new JobChanged(5, 3, 0));
        await done.Task.WaitAsync(Patience);
        // A last change for this cluster: once it is heard, the one for cluster 4 would have been heard too, had it matched.
        var last = new TaskCompletionSource();
        using var marker = notifier.SubscribeCluster(3, change => { if (change.JobId == 9) last.TrySetResult(); return Task.CompletedTask; });
        notifier.Publish(new JobChanged(9, 3, 0));
        await last.Task.WaitAsync(Patience);

        // Assert
        lock (heard) Assert.DoesNotContain(2, heard);
        lock (heard) Assert.Contains(5, heard);
    }

    [Fact]
    public async Task Publish_AfterDispose_IsNotHeard()
    {
        // Arrange
        var notifier = new JobNotifier();
        var disposedHeard = 0;
        var subscription = notifier.SubscribeJob(7, _ => { Interlocked.Increment(ref disposedHeard); return Task.CompletedTask; });
        var witness = new TaskCompletionSource();
        using var other = notifier.SubscribeJob(7, _ => { witness.TrySetResult(); return Task.CompletedTask; });

        // Act
        subscription.Dispose();
        subscription.Dispose();
        notifier.Publish(new JobChanged(7, 1, 1));
        await witness.Task.WaitAsync(Patience);

        // Assert
        Assert.Equal(0, Volatile.Read(ref disposedHeard));
    }

    [Fact]
    public async Task Publish_ThrowingSubscriber_DoesNotStopTheOthers()
    {
        // Arrange
        var notifier = new JobNotifier();
        using var failing = notifier.SubscribeJob(7, _ => throw new InvalidOperationException("a broken view"));
        var heard = new TaskCompletionSource();
        using var working = notifier.SubscribeJob(7, _ => { heard.TrySetResult(); return Task.CompletedTask; });

        // Act
        var publish = Record.Exception(() => notifier.Publish(new JobChanged(7, 1, 1)));
        await heard.Task.WaitAsync(Patience);

        // Assert
        Assert.Null(publish);
    }
}
