using System.Collections.Concurrent;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// SSH sessions a job opens ahead of use, at most <see cref="JobOptions.MaxParallelNodes"/> handshakes at a time,
/// and closes together at the end. A failed connection is reported when the node's work asks for it.
/// </summary>
public sealed class SessionPool(NodeOps ops, JobRun run) : IAsyncDisposable
{
    private readonly ConcurrentDictionary<int, Task<ISshSession>> _sessions = new();
    private readonly SemaphoreSlim _handshakes = new(Math.Max(1, ops.Options.MaxParallelNodes));

    public void Open(IEnumerable<JobNode> nodes)
    {
        foreach (var node in nodes) _sessions.GetOrAdd(node.Id, _ => ConnectAsync(node));
    }

    public Task<ISshSession> GetAsync(JobNode node) => _sessions.GetOrAdd(node.Id, _ => ConnectAsync(node));

    private async Task<ISshSession> ConnectAsync(JobNode node)
    {
        await _handshakes.WaitAsync(run.Cancellation);
        try
        {
            return await ops.ConnectAsync(run, node);
        }
        finally
        {
            _handshakes.Release();
        }
    }

    /// <summary>Closes every session at once: SSH.NET's disconnect waits for its reader thread, ~20 ms each.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_sessions.Values.Select(task => Task.Run(async () =>
        {
            try
            {
                await (await task).DisposeAsync();
            }
            catch (Exception)
            {
                // A connection that never opened has nothing to close; its failure was reported on its node.
            }
        })));
        _handshakes.Dispose();
    }
}
