using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>The threads SSH.NET's blocking calls run on: never one task behind another, reused, ended when idle.</summary>
public sealed class BlockingThreadsTests
{
    [Fact]
    public async Task Run_ManyTasksThatBlockUntilAllHaveStarted_AllRunAtOnce()
    {
        // Arrange: 40 tasks, each blocked until all 40 run; one waiting behind another would never finish.
        var threads = new BlockingThreads(TimeSpan.FromSeconds(30));
        using var all = new CountdownEvent(40);

        // Act
        var tasks = Enumerable.Range(0, 40).Select(_ => threads.Run(() =>
        {
            all.Signal();
            return all.Wait(TimeSpan.FromSeconds(20));
        })).ToList();
        var results = await Task.WhenAll(tasks).WaitAsync(TimeSpan.FromSeconds(30));

        // Assert
        Assert.All(results, Assert.True);
        Assert.Equal(40, threads.Started);
    }

    [Fact]
    public void Run_ThreadKept_DoesNotHoldTheAsyncLocalsOfTheCallerThatStartedIt()
    {
        // Arrange: a caller with an async-local (a log scope, a request's activity, a test host) starts the only thread,
        // then ends.
        var threads = new BlockingThreads(TimeSpan.FromMinutes(5));
        var scope = StartFromAScope(threads);

        // Act
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();

        // Assert: the thread waits for more work, and the caller's value is gone with the caller.
        Assert.Equal(1, threads.Threads);
        Assert.False(scope.IsAlive);
    }

    private static readonly AsyncLocal<object?> Scope = new();

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference StartFromAScope(BlockingThreads threads)
    {
        WeakReference? scope = null;
        var caller = new Thread(() =>
        {
            var value = new object();
            Scope.Value = value;
            Assert.Same(value, threads.Run(() => Scope.Value).Result); // the task itself runs in its caller's context
            scope = new WeakReference(value);
        });
        caller.Start();
        caller.Join();
        return scope!;
    }

    [Fact]
    public async Task Run_OneAfterAnother_TheWaitingThreadServesThem()
    {
        var threads = new BlockingThreads(TimeSpan.FromSeconds(30));

        var ids = new List<int>();
        for (var i = 0; i < 20; i++)
        {
            ids.Add(await threads.Run(() => Environment.CurrentManagedThreadId));
            await WaitUntilAsync(() => threads.Waiting == 1); // back to waiting for work (the await may resume before)
        }

        Assert.Equal(1, threads.Started);
        Assert.Single(ids.Distinct());
        Assert.All(ids, id => Assert.NotEqual(Environment.CurrentManagedThreadId, id));
    }

    [Fact]
    public async Task Run_BurstsWhileThreadsWait_NoNewThreadWhileEnoughAreIdle()
    {
        // Arrange: 8 threads made by a first burst of blocking tasks, then idle.
        var threads = new BlockingThreads(TimeSpan.FromSeconds(30));
        using (var first = new CountdownEvent(8))
        {
            await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => threads.Run(() => { first.Signal(); first.Wait(TimeSpan.FromSeconds(20)); })));
        }
        await WaitUntilAsync(() => threads.Waiting == 8);

        // Act: a second burst of 8 blocking tasks at once.
        using var second = new CountdownEvent(8);
        await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => threads.Run(() => { second.Signal(); second.Wait(TimeSpan.FromSeconds(20)); }))).WaitAsync(TimeSpan.FromSeconds(30));

        // Assert: served by the same 8 threads.
        Assert.Equal(8, threads.Started);
        Assert.Equal(8, threads.Threads);
    }

    [Fact]
    public async Task Threads_IdleLongerThanTheirTimeout_End()
    {
        var threads = new BlockingThreads(TimeSpan.FromMilliseconds(100));
        await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => threads.Run(() => Thread.Sleep(50))));

        await WaitUntilAsync(() => threads.Threads == 0);

        Assert.Equal(0, threads.Threads);
        Assert.Equal(7, await threads.Run(() => 7)); // and a new one starts for the next task
    }

    [Fact]
    public async Task Run_WorkThrows_TheTaskFaultsAndTheThreadGoesOn()
    {
        var threads = new BlockingThreads(TimeSpan.FromSeconds(30));

        await Assert.ThrowsAsync<InvalidOperationException>(() => threads.Run(() => throw new InvalidOperationException("boom")));
        // The task ends before its thread is back waiting for work: a task queued in between would start another thread.
        await WaitUntilAsync(() => threads.Waiting == 1);

        Assert.Equal(5, await threads.Run(() => 5));
        Assert.Equal(1, threads.Started);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException("condition not met in 10 s");
            await Task.Delay(10);
        }
    }
}
