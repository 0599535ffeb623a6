namespace OpenViduHa.Core.Ssh;

/// <summary>
/// Runs work that blocks a thread (SSH.NET's synchronous channel open and exec, its output streams' reads) on threads of
/// its own, never the .NET pool's: dozens of blocked pool threads starve the rest of the panel. Unlike
/// <see cref="TaskCreationOptions.LongRunning"/>, which starts and ends a thread per task (three per command, thousands per
/// sweep at 1,000 nodes), its threads are kept and reused; one that waited <c>idle</c> for work ends. A task never waits
/// behind another: when no thread is waiting for work, a new one starts.
/// </summary>
public sealed class BlockingThreads : TaskScheduler
{
    /// <summary>The panel's one instance (threads are kept for 30 s without work).</summary>
    public static readonly BlockingThreads Shared = new(TimeSpan.FromSeconds(30));

    private readonly TimeSpan _idle;
    private readonly Queue<Task> _queue = new();
    private readonly object _gate = new();
    private int _waiting;
    private int _claimed;
    private int _threads;
    private long _started;

    public BlockingThreads(TimeSpan idle) => _idle = idle;

    /// <summary>Threads alive now.</summary>
    public int Threads => Volatile.Read(ref _threads);

    /// <summary>Threads waiting for work now.</summary>
    public int Waiting
    {
        get { lock (_gate) return _waiting; }
    }

    /// <summary>Threads started so far.</summary>
    public long Started => Interlocked.Read(ref _started);

    /// <summary>Runs <paramref name="work"/> on one of these threads.</summary>
    public Task<T> Run<T>(Func<T> work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this);

    /// <inheritdoc cref="Run{T}(Func{T})"/>
    public Task Run(Action work) => Task.Factory.StartNew(work, CancellationToken.None, TaskCreationOptions.DenyChildAttach, this);

    protected override void QueueTask(Task task)
    {
        lock (_gate)
        {
            _queue.Enqueue(task);
            // A waiting thread not yet claimed by an earlier task takes it; otherwise a new thread does.
            if (_waiting > _claimed)
            {
                _claimed++;
                Monitor.Pulse(_gate);
                return;
            }
            _threads++;
        }
        Interlocked.Increment(ref _started);
        // UnsafeStart: the thread does not capture the execution context of the caller that happened to start it. A
        // thread kept for as long as work keeps coming would otherwise hold that caller's async-locals (its log scope,
        // its request's activity) for good; each task still runs in its own caller's context.
        new Thread(Work) { IsBackground = true, Name = "ovha-blocking" }.UnsafeStart();
    }

    private void Work()
    {
        while (true)
        {
            Task? task;
            lock (_gate)
            {
                while (!_queue.TryDequeue(out task))
                {
                    _waiting++;
                    var woken = Monitor.Wait(_gate, _idle);
                    _waiting--;
                    // A claim is honoured by whichever waiter wakes first: it looks at the queue again before leaving.
                    if (_claimed > 0) _claimed--;
                    else if (!woken)
                    {
                        _threads--;
                        return;
                    }
                }
            }
            TryExecuteTask(task);
        }
    }

    /// <summary>Never on the caller's thread: the caller may be a pool thread.</summary>
    protected override bool TryExecuteTaskInline(Task task, bool taskWasPreviouslyQueued) => false;

    protected override IEnumerable<Task> GetScheduledTasks()
    {
        lock (_gate) return _queue.ToArray();
    }
}
