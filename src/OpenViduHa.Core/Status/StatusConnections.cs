using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Status;

/// <summary>
/// One SSH connection per watched node, kept open between sweeps and used only by the collector (jobs open their own:
/// a status probe never shares, slows or breaks an install's connection). A lost connection is opened again on the
/// next use; a connection that cannot be opened, or whose probe sudo refused, is tried again after 1 s, then twice as long
/// each time up to <see cref="StatusOptions.MaxReconnectBackoff"/>, unless the operator asks for a refresh (a wrong sudo
/// password tried every interval would trip fail2ban or pam_faillock on the node).
/// </summary>
public sealed class StatusConnections(ISshConnector ssh, IOptions<StatusOptions> options, TimeProvider clock) : IAsyncDisposable
{
    private sealed class Slot : IDisposable
    {
        public readonly SemaphoreSlim Gate = new(1, 1);
        public ISshSession? Session;
        public string? Key;
        public int Failures;
        public DateTimeOffset NextAttempt;
        public string? LastError;
        public string? LastPresented;

        public void Dispose() => Gate.Dispose();
    }

    private readonly ConcurrentDictionary<int, Slot> _slots = new();
    private readonly SemaphoreSlim _handshakes = new(options.Value.MaxParallelConnects);
    private long _connects;

    /// <summary>Connections opened so far (cold sweeps open one per node, warm ones none).</summary>
    public long Connects => Interlocked.Read(ref _connects);

    public int Open => _slots.Values.Count(s => s.Session is { IsConnected: true });

    /// <summary>
    /// The node's kept connection, opened if needed. <paramref name="key"/> identifies what it was opened with (address,
    /// user, credentials, pinned key): a different key closes the old one. <paramref name="target"/> is asked for only
    /// to connect (it decrypts the credentials). Null and why when it cannot be had.
    /// </summary>
    public async Task<(ISshSession? Session, string? Error, string? PresentedFingerprint)> GetAsync(int nodeId, Func<SshTarget> target, string key, bool force, CancellationToken ct)
    {
        var slot = _slots.GetOrAdd(nodeId, _ => new Slot());
        await slot.Gate.WaitAsync(ct);
        try
        {
            if (slot.Session is { } open && slot.Key == key && open.IsConnected) return (open, null, null);
            await CloseAsync(slot);
            var now = clock.GetUtcNow();
            if (!force && slot.Failures > 0 && now < slot.NextAttempt)
                return (null, slot.LastError, slot.LastPresented);

            await _handshakes.WaitAsync(ct);
            try
            {
                var o = options.Value;
                slot.Session = await ssh.ConnectAsync(target(), new SshConnectOptions { ConnectTimeout = o.ConnectTimeout, KeepAlive = TimeSpan.FromSeconds(30) }, ct);
                Interlocked.Increment(ref _connects);
                slot.Key = key;
                // The failures are forgotten once a probe runs (Ran), not here: a connection that opens and then has its
                // sudo refused must keep waiting longer each time.
                return (slot.Session, null, null);
            }
            catch (SshFailureException e)
            {
                Failed(slot, e.Message, e.PresentedFingerprint);
                return (null, e.Message, e.PresentedFingerprint);
            }
            finally
            {
                _handshakes.Release();
            }
        }
        finally
        {
            slot.Gate.Release();
        }
    }

    /// <summary>The node's probe ran: earlier failures are forgotten, the next one waits 1 s again.</summary>
    public void Ran(int nodeId)
    {
        if (_slots.TryGetValue(nodeId, out var slot) && slot.Failures > 0)
        {
            slot.Failures = 0;
            slot.LastError = null;
            slot.LastPresented = null;
        }
    }

    /// <summary>
    /// The connection opened but its probe could not run as root (sudo refused, the shell would not start): closed and
    /// waited out like a connection that cannot be opened, so the same refusal is not repeated every interval.
    /// </summary>
    public async Task BackOffAsync(int nodeId, string error)
    {
        if (!_slots.TryGetValue(nodeId, out var slot)) return;
        await slot.Gate.WaitAsync();
        try
        {
            await CloseAsync(slot);
            Failed(slot, error, null);
        }
        finally { slot.Gate.Release(); }
    }

    private void Failed(Slot slot, string error, string? presented)
    {
        slot.Failures++;
        var backoff = TimeSpan.FromSeconds(Math.Min(Math.Pow(2, slot.Failures - 1), options.Value.MaxReconnectBackoff.TotalSeconds));
        slot.NextAttempt = clock.GetUtcNow() + backoff;
        slot.LastError = error;
        slot.LastPresented = presented;
    }

    /// <summary>Closes the node's connection after it failed a command (it is opened again on the next use).</summary>
    public async Task DropAsync(int nodeId)
    {
        if (!_slots.TryGetValue(nodeId, out var slot)) return;
        await slot.Gate.WaitAsync();
        try { await CloseAsync(slot); }
        finally { slot.Gate.Release(); }
    }

    /// <summary>Closes the connections of nodes that are no longer watched.</summary>
    public async Task RetainAsync(IReadOnlySet<int> watchedNodeIds)
    {
        foreach (var id in _slots.Keys.Where(id => !watchedNodeIds.Contains(id)).ToList())
        {
            if (_slots.TryRemove(id, out var slot)) await CloseAsync(slot);
        }
    }

    /// <summary>What the key of a node's connection is: never the credentials themselves, only a hash of their encrypted form.</summary>
    public static string KeyOf(string host, int port, string username, string? pinnedFingerprint, string protectedCredentials) =>
        $"{host}:{port}:{username}:{pinnedFingerprint}:{Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(protectedCredentials)))[..16]}";

    private static async Task CloseAsync(Slot slot)
    {
        var session = slot.Session;
        slot.Session = null;
        slot.Key = null;
        if (session is null) return;
        try { await session.DisposeAsync(); }
        catch (Exception) { /* a dead connection has nothing left to close */ }
    }

    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(_slots.Values.Select(slot => Task.Run(() => CloseAsync(slot))));
        foreach (var slot in _slots.Values) slot.Dispose();
        _slots.Clear();
    }
}
