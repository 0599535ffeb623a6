using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Ssh;

[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class ThreadPoolQuietCollection
{
    public const string Name = "Thread pool quiet";
}

/// <summary>
/// SSH.NET blocks the caller of a connect through the key exchange and authentication. On the thread pool, a sweep's
/// many connects at once starve it, and the panel's own checks time out: false red nodes after every panel start
/// (issue 10). The panel's connects must leave the pool free. Alone in its collection: nothing else uses the pool then.
/// </summary>
[Collection(ThreadPoolQuietCollection.Name)]
public sealed class SshConnectThreadTests
{
    private const int Connects = 12;

    /// <summary>
    /// A server that says it speaks SSH, reads the client's first packet (its key exchange offer) and then answers
    /// nothing: the client waits in the key exchange until its deadline, as it does behind a slow or overloaded node.
    /// It runs on threads of its own, never the pool's: a starved pool must not slow the server down.
    /// </summary>
    private sealed class SilentSshServer : IDisposable
    {
        private readonly Socket _listener = new(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        private readonly List<Socket> _clients = [];
        private int _waiting;

        public SilentSshServer()
        {
            _listener.Bind(new IPEndPoint(IPAddress.Loopback, 0));
            _listener.Listen(64);
            new Thread(Accept) { IsBackground = true, Name = "silent-ssh-accept" }.Start();
        }

        public int Port => ((IPEndPoint)_listener.LocalEndPoint!).Port;

        /// <summary>Clients that sent their key exchange offer and now wait for ours.</summary>
        public int Waiting => Volatile.Read(ref _waiting);

        private void Accept()
        {
            try
            {
                while (true)
                {
                    var client = _listener.Accept();
                    lock (_clients) _clients.Add(client);
                    new Thread(() => Hold(client)) { IsBackground = true, Name = "silent-ssh-client" }.Start();
                }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The test ended.
            }
        }

        private void Hold(Socket client)
        {
            try
            {
                client.Send(Encoding.ASCII.GetBytes("SSH-2.0-OpenSSH_9.2p1 Silent\r\n"));
                var buffer = new byte[4096];
                var seen = 0;
                // The client's version line, then at least the start of its KEXINIT packet.
                while (seen < 64)
                {
                    var n = client.Receive(buffer);
                    if (n == 0) return;
                    seen += n;
                }
                Interlocked.Increment(ref _waiting);
                while (client.Receive(buffer) > 0) { }
            }
            catch (Exception e) when (e is SocketException or ObjectDisposedException)
            {
                // The client gave up, or the test ended.
            }
        }

        public void Dispose()
        {
            _listener.Dispose();
            lock (_clients) foreach (var c in _clients) c.Dispose();
        }
    }

    /// <summary>What a task ended with: its exception, or null.</summary>
    private static async Task<Exception?> OutcomeAsync(Task task)
    {
        try
        {
            await task;
            return null;
        }
        catch (Exception e)
        {
            return e;
        }
    }

    [Fact]
    public async Task ConnectAsync_ManyWaitingInKeyExchange_NoThreadPoolThreadHeld()
    {
        // Arrange
        using var server = new SilentSshServer();
        var connector = new SshNetConnector(NullLogger<SshNetConnector>.Instance);
        var target = new SshTarget("media-1", "127.0.0.1", server.Port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), "SHA256:pinned");
        var options = new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(8) };
        ThreadPool.GetAvailableThreads(out var idleBefore, out _);

        // Act: the connects wait in the key exchange; meanwhile the pool's state is read, and a work item timed.
        var connects = Enumerable.Range(0, Connects).Select(_ => Task.Run(() => connector.ConnectAsync(target, options, CancellationToken.None))).ToList();
        var deadline = DateTime.UtcNow.AddSeconds(6);
        while (server.Waiting < Connects && DateTime.UtcNow < deadline) await Task.Delay(50);
        var waiting = server.Waiting;
        await Task.Delay(300); // let any blocked caller settle into its wait
        ThreadPool.GetAvailableThreads(out var idleDuring, out _);
        var pending = ThreadPool.PendingWorkItemCount;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Task.Run(() => { });
        var probe = started.Elapsed;
        var outcomes = await Task.WhenAll(connects.Select(OutcomeAsync));

        // Assert
        Assert.Equal(Connects, waiting);
        Assert.True(idleBefore - idleDuring < 4, $"{idleBefore - idleDuring} pool threads held by {Connects} connects waiting in key exchange");
        // Starvation shows as work queued behind held threads; a slow probe with nothing queued is the machine, not the pool
        // (a loaded 2-core CI machine gave one 802 ms with 0 queued).
        Assert.True(pending < 4 && probe < TimeSpan.FromSeconds(2), $"a work item waited {probe.TotalMilliseconds:F0} ms for a pool thread ({pending} queued)");
        Assert.All(outcomes, e => Assert.Equal(SshFailureKind.Timeout, Assert.IsType<SshFailureException>(e).Kind));
    }

    [Fact]
    public async Task RunAsync_ManyOnAHungNode_NoThreadPoolThreadHeld()
    {
        // Arrange: sessions open on one node, then the node freezes: no channel is opened, no command answered.
        await using var node = await LocalNode.StartAsync(new NodeDefinition("media-1", NodeRole.Media, "10.5.0.11", null));
        var connector = new SshNetConnector(NullLogger<SshNetConnector>.Instance);
        var target = new SshTarget("media-1", "127.0.0.1", node.Port, "root", new SshCredentials(TestKeys.Ed25519, null, null, null), node.HostKeyFingerprint);
        var options = new SshConnectOptions { ConnectTimeout = TimeSpan.FromSeconds(20) };
        var sessions = await Task.WhenAll(Enumerable.Range(0, Connects).Select(_ => connector.ConnectAsync(target, options, CancellationToken.None)));
        node.HangSessions();
        ThreadPool.GetAvailableThreads(out var idleBefore, out _);

        // Act
        var runs = sessions.Select(s => Task.Run(() => s.RunAsync("true", new SshRunOptions { Description = "a probe", Timeout = TimeSpan.FromSeconds(5) }, CancellationToken.None))).ToList();
        await Task.Delay(1000); // every run is waiting for its channel by now
        ThreadPool.GetAvailableThreads(out var idleDuring, out _);
        var pending = ThreadPool.PendingWorkItemCount;
        var started = System.Diagnostics.Stopwatch.StartNew();
        await Task.Run(() => { });
        var probe = started.Elapsed;
        var outcomes = await Task.WhenAll(runs.Select(OutcomeAsync));
        foreach (var session in sessions) await session.DisposeAsync();

        // Assert
        Assert.True(idleBefore - idleDuring < 4, $"{idleBefore - idleDuring} pool threads held by {Connects} commands waiting for a hung node");
        // Starvation shows as work queued behind held threads; a slow probe with nothing queued is the machine, not the pool
        // (a loaded 2-core CI machine gave one 802 ms with 0 queued).
        Assert.True(pending < 4 && probe < TimeSpan.FromSeconds(2), $"a work item waited {probe.TotalMilliseconds:F0} ms for a pool thread ({pending} queued)");
        Assert.All(outcomes, e => Assert.Equal(SshFailureKind.Timeout, Assert.IsType<SshFailureException>(e).Kind));
    }
}
