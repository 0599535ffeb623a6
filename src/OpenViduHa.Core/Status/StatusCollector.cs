using System.Collections.Concurrent;
using System.Diagnostics;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Security;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Sweeps installed clusters: one probe per node over its kept connection (<see cref="StatusConnections"/>), the
/// panel's own port and health checks, the load balancer; judges every node and the cluster (<see cref="HealthRules"/>),
/// publishes the picture to open views (<see cref="StatusStore"/>) and writes to the database only what changed.
/// Sweeps of one cluster never overlap; nodes are probed in parallel up to <see cref="StatusOptions.MaxParallelNodes"/>.
/// </summary>
public sealed class StatusCollector : IAsyncDisposable
{
    private readonly IDbContextFactory<PanelDbContext> _dbFactory;
    private readonly ClusterService _clusters;
    private readonly SecretProtector _protector;
    private readonly StatusConnections _connections;
    private readonly StatusStore _store;
    private readonly StatusOptions _options;
    private readonly TimeProvider _clock;
    private readonly ILogger<StatusCollector> _logger;
    private readonly PanelChecks _panelChecks;
    private readonly StatusHistory _history;
    private readonly PortAnswersStore _portAnswers;
    private readonly SweepOwnership _ownership;
    private readonly StatusSharing _sharing;
    private readonly SemaphoreSlim _nodeSlots;
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _clusterGates = new();
    private readonly ConcurrentDictionary<int, IReadOnlyDictionary<string, int>> _restarts = new();
    private readonly ConcurrentDictionary<int, PortResults> _portResults = new();

    /// <summary>Job kinds that leave the nodes as they were (their end does not make port answers stale).</summary>
    private static readonly JobKind[] ReadOnlyKinds = Enum.GetValues<JobKind>().Where(k => !k.Changes()).ToArray();
    private long _sweeps;

    public StatusCollector(
        IDbContextFactory<PanelDbContext> dbFactory,
        ClusterService clusters,
        SecretProtector protector,
        StatusConnections connections,
        StatusStore store,
        SweepOwnership ownership,
        StatusSharing sharing,
        IOptions<StatusOptions> options,
        TimeProvider clock,
        ILogger<StatusCollector> logger)
    {
        _ownership = ownership;
        _sharing = sharing;
        _dbFactory = dbFactory;
        _clusters = clusters;
        _protector = protector;
        _connections = connections;
        _store = store;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _nodeSlots = new SemaphoreSlim(_options.MaxParallelNodes);
        _panelChecks = new PanelChecks(_options, clock);
        _history = new StatusHistory(dbFactory, _options, clock);
        _portAnswers = new PortAnswersStore(dbFactory, clock);
    }

    /// <summary>Sweeps run so far.</summary>
    public long Sweeps => Interlocked.Read(ref _sweeps);

    /// <summary>Verdict changes written to the database so far.</summary>
    public long ChangesWritten => _history.ChangesWritten;

    public StatusConnections Connections => _connections;

    /// <summary>
    /// Every cluster with an installed node that this instance sweeps (all of them when alone), in parallel; connections of
    /// nodes no longer watched here are closed.
    /// </summary>
    public async Task SweepAllAsync(CancellationToken ct)
    {
        List<int> ids;
        HashSet<int> watched;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            var nodes = await db.Nodes.AsNoTracking().Where(n => n.InstalledAt != null).Select(n => new { n.Id, n.ClusterId }).ToListAsync(ct);
            ids = nodes.Select(n => n.ClusterId).Distinct().ToList();
            watched = nodes.Where(n => _ownership.Owns(n.ClusterId)).Select(n => n.Id).ToHashSet();
        }
        await _connections.RetainAsync(watched);
        // A deleted cluster, or one with no installed node left, leaves the live picture (and the metrics).
        foreach (var gone in _store.All.Select(c => c.ClusterId).Where(c => !ids.Contains(c)).ToList()) _store.Remove(gone);
        await Task.WhenAll(ids.Where(_ownership.Owns).Select(async id =>
        {
            try { await SweepClusterAsync(id, force: false, allPorts: false, ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception e) { _logger.LogError(e, "Status sweep of cluster {ClusterId} failed", id); }
        }));
    }

    /// <summary>
    /// Sweeps one cluster now and returns its fresh status (null: no such cluster). <paramref name="force"/> retries
    /// connections that are waiting out their backoff (an operator's refresh); <paramref name="allPorts"/> runs the whole
    /// port matrix, not only the checks that are due.
    /// </summary>
    public Task<ClusterStatus?> SweepClusterAsync(int clusterId, bool force, bool allPorts, CancellationToken ct) =>
        UnderGateAsync(clusterId, () => SweepAsync(clusterId, force, allPorts, ct), ct);

    /// <summary>Runs <paramref name="work"/> under the cluster's sweep gate: sweeps of one cluster never overlap.</summary>
    private async Task<ClusterStatus?> UnderGateAsync(int clusterId, Func<Task<ClusterStatus?>> work, CancellationToken ct)
    {
        var gate = _clusterGates.GetOrAdd(clusterId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            return await work();
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>
    /// An operator's refresh: swept here when this instance sweeps the cluster; otherwise the instance that does is asked
    /// and its fresh picture awaited, and when none answers (it is gone) this instance takes the cluster and sweeps it.
    /// </summary>
    public async Task<ClusterStatus?> RefreshAsync(int clusterId, bool allPorts, bool force, CancellationToken ct)
    {
        if (!_ownership.Owns(clusterId))
        {
            if (await _ownership.OwnerAsync(clusterId, ct) is not null
                && await _sharing.AskOwnerAsync(clusterId, allPorts, _options.ConnectTimeout + _options.ProbeTimeout + _options.PortTimeout, ct) is { } fresh)
                return fresh;
            if (!await _ownership.TakeAsync(clusterId, ct)) return _store.Latest(clusterId);
        }
        return await SweepClusterAsync(clusterId, force, allPorts, ct);
    }

    /// <summary>
    /// The cluster's latest picture, swept now when there is none yet (a panel just started, or sweeps are off). A sweep
    /// already running (the first one after a start: a new connection to every node) is awaited and its picture answered,
    /// not followed by a second sweep: a reader who opens the page just after a restart waits for one sweep, not two.
    /// </summary>
    public async Task<ClusterStatus?> LatestAsync(int clusterId, CancellationToken ct)
    {
        if (_store.Latest(clusterId) is { } latest) return latest;
        if (!_ownership.Owns(clusterId)) return await RefreshAsync(clusterId, allPorts: false, force: false, ct);
        return await UnderGateAsync(clusterId, async () => _store.Latest(clusterId) ?? await SweepAsync(clusterId, force: false, allPorts: false, ct), ct);
    }

    /// <summary>Recent verdict changes of a cluster's nodes (and of the cluster, NodeId null), newest first.</summary>
    public Task<IReadOnlyList<StatusChange>> HistoryAsync(int clusterId, int take, CancellationToken ct) => _history.RecentAsync(clusterId, take, ct);

    /// <summary>A watched node and what it checks this sweep: toward other nodes (in its probe) and from the panel.</summary>
    private sealed record NodeRow(NodeEntity Entity, WatchedNode Watched, Func<SshTarget> Target, string Key)
    {
        public IReadOnlyList<ProbeTarget> DueFromNode { get; set; } = [];
        public IReadOnlyList<int> DueFromPanel { get; set; } = [];
    }

    private async Task<ClusterStatus?> SweepAsync(int clusterId, bool force, bool allPorts, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var definition = await _clusters.LoadDefinitionAsync(clusterId, ct);
        if (definition is null)
        {
            _store.Remove(clusterId);
            _portResults.TryRemove(clusterId, out _);
            return null;
        }
        List<NodeEntity> entities;
        List<(int Id, JobKind Kind, int? NodeId)> jobs;
        int? lastChangingJob;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            entities = await db.Nodes.AsNoTracking().Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync(ct);
            var running = await db.Jobs.AsNoTracking().Where(j => j.ClusterId == clusterId && j.State == JobState.Running)
                .Select(j => new { j.Id, j.Kind, j.NodeId }).ToListAsync(ct);
            jobs = running.Where(j => j.Kind.Changes()).Select(j => (j.Id, j.Kind, j.NodeId)).ToList();
            // A changing job that ended since the last sweep (install, restart, add node…) may have changed what answers.
            lastChangingJob = await db.Jobs.Where(j => j.ClusterId == clusterId && j.FinishedAt != null && !ReadOnlyKinds.Contains(j.Kind))
                .MaxAsync(j => (int?)j.Id, ct);
        }
        await _history.LoadAsync(clusterId, ct);

        var rows = new List<NodeRow>();
        var notWatched = new List<NodeStatus>();
        foreach (var n in entities)
        {
            var why = n.InstalledAt is null ? "not installed yet"
                : n.HostKeyFingerprint is null ? "host key not confirmed: confirm it on the Nodes tab"
                : null;
            if (why is not null)
            {
                notWatched.Add(new NodeStatus { NodeId = n.Id, Name = n.Name, Role = n.Role, PrivateIp = n.PrivateIp, NotWatched = why });
                continue;
            }
            // The credentials are decrypted only when the node's kept connection has to be opened, not every sweep.
            SshTarget Target() => new(n.Name, n.SshHost, n.SshPort, n.SshUsername, _protector.Unprotect<SshCredentials>(n.ProtectedCredentials), n.HostKeyFingerprint);
            rows.Add(new NodeRow(n, new WatchedNode(n.Id, n.Name, n.Role, n.PrivateIp), Target,
                StatusConnections.KeyOf(n.SshHost, n.SshPort, n.SshUsername, n.HostKeyFingerprint, n.ProtectedCredentials)));
        }

        var watched = rows.Select(r => r.Watched).ToList();
        var plan = new PortPlan(definition, watched);
        if (!_portResults.TryGetValue(clusterId, out var portResults))
            portResults = _portResults[clusterId] = await _portAnswers.LoadAsync(clusterId, ct);
        portResults.Begin(plan, watched, lastChangingJob);
        var begun = _clock.GetUtcNow();
        foreach (var row in rows)
        {
            row.DueFromNode = portResults.DueFromNode(row.Watched.Id, plan.FromNode(row.Watched.Id), begun, _options.PortCheckInterval, allPorts, _options.MaxPortTargetsPerSweep);
            row.DueFromPanel = portResults.DueFromPanel(row.Watched, plan.FromPanel(row.Watched.Id), begun, _options.PortCheckInterval, allPorts);
        }
        var loadBalancer = _panelChecks.LoadBalancerAsync(definition, ct);
        var probes = await Task.WhenAll(rows.Select(row => ProbeNodeAsync(row, force, ct)));
        var now = _clock.GetUtcNow();

        var outcomes = rows.Zip(probes).ToDictionary(x => x.First.Watched.Id, x => x.Second);
        foreach (var row in rows)
        {
            var outcome = outcomes[row.Watched.Id];
            if (outcome.Result is { } result) portResults.RecordNode(row.Watched.Id, row.DueFromNode, result, now, _options.PortTimeout);
            portResults.RecordPanel(row.Watched, outcome.PanelTcp, now);
        }
        portResults.End(rows.ToDictionary(r => r.Watched.Id, r => outcomes[r.Watched.Id].Result is { } result ? PortResults.Facts(result) : null));
        await SavePortsAsync(clusterId, portResults, now: false, ct);
        bool Reached(int id) => outcomes[id].Result is not null;
        var ports = rows.ToDictionary(r => r.Watched.Id, r => (IReadOnlyList<PortCheck>)
        [
            outcomes[r.Watched.Id].Health with { CheckedAt = now },
            .. portResults.FromPanel(r.Watched, plan.FromPanel(r.Watched.Id)),
            .. portResults.TowardNode(plan, r.Watched.Id, r.Watched.PrivateIp, Reached),
        ]);

        var judged = new List<(NodeStatus Node, bool Down)>();
        foreach (var row in rows)
        {
            var outcome = outcomes[row.Watched.Id];
            var id = row.Watched.Id;
            var job = jobs.FirstOrDefault(j => j.NodeId is null || j.NodeId == id);
            var facts = new NodeFacts
            {
                Role = row.Watched.Role,
                Reachable = outcome.Result is not null,
                SshError = outcome.Error,
                Probe = outcome.Result,
                Health = outcome.Health,
                Ports = ports[id],
                PreviousRestarts = _restarts.GetValueOrDefault(id),
                RunningJob = job.Id == 0 ? null : $"{job.Kind.Name()} job #{job.Id}",
                Leaving = row.Entity.LeavingSince is not null,
            };
            var verdict = HealthRules.Judge(facts, _options);
            if (outcome.Result is { } result) _restarts[id] = result.Containers.ToDictionary(c => c.Name, c => c.RestartCount);
            judged.Add((new NodeStatus
            {
                NodeId = id,
                Name = row.Watched.Name,
                Role = row.Watched.Role,
                PrivateIp = row.Watched.PrivateIp,
                Reachable = outcome.Result is not null,
                RttMs = outcome.RttMs,
                Service = outcome.Result?.Service ?? "unknown",
                Health = verdict.Health,
                Reasons = verdict.Reasons,
                Containers = outcome.Result?.Containers ?? [],
                Ports = ports[id].OrderBy(p => p.Port).ThenBy(p => p.From == PortPlan.Panel ? "" : p.From, StringComparer.Ordinal).ToList(),
                Resources = outcome.Result?.Resources,
                CheckedAt = now,
                Leaving = row.Entity.LeavingSince is not null,
            }, verdict.Down));
        }
        var lb = await loadBalancer;
        var (health, reason) = HealthRules.Judge(judged, lb);
        var order = entities.Select((e, i) => (e.Id, i)).ToDictionary(x => x.Id, x => x.i);
        var status = new ClusterStatus
        {
            ClusterId = clusterId,
            ClusterName = definition.Name,
            CheckedAt = now,
            Health = health,
            Reason = reason,
            Nodes = judged.Select(j => j.Node).Concat(notWatched).OrderBy(n => order[n.NodeId]).ToList(),
            LoadBalancer = lb,
            SweepDuration = Stopwatch.GetElapsedTime(started),
            PortsCheckedAt = portResults.OldestCheck,
            PortChecksRun = rows.Sum(r => (Reached(r.Watched.Id) ? r.DueFromNode.Sum(t => t.Ports.Count) : 0) + r.DueFromPanel.Count),
        };
        await _history.RecordAsync(status, outcomes.Where(o => o.Value.Presented is not null).ToDictionary(o => o.Key, o => o.Value.Presented!), ct);
        Interlocked.Increment(ref _sweeps);
        _store.Update(status);
        await _sharing.PublishAsync(status, ct);
        return status;
    }

    private sealed record NodeOutcome(ProbeResult? Result, string? Error, double? RttMs, PortCheck Health, IReadOnlyList<PortCheck> PanelTcp, string? Presented);

    private async Task<NodeOutcome> ProbeNodeAsync(NodeRow row, bool force, CancellationToken ct)
    {
        await _nodeSlots.WaitAsync(ct);
        try
        {
            var health = _panelChecks.HealthAsync(row.Watched, ct);
            var tcp = Task.WhenAll(row.DueFromPanel.Select(port => _panelChecks.TcpAsync(row.Watched.PrivateIp, port, ct)));
            var (result, error, rtt, presented) = await RunProbeAsync(row, force, ct);
            return new NodeOutcome(result, error, rtt, await health, await tcp, presented);
        }
        finally
        {
            _nodeSlots.Release();
        }
    }

    private async Task<(ProbeResult? Result, string? Error, double? RttMs, string? Presented)> RunProbeAsync(NodeRow row, bool force, CancellationToken ct)
    {
        var script = StatusProbe.Script(row.DueFromNode, _options.PortTimeout);
        for (var attempt = 0; ; attempt++)
        {
            var (session, error, presented) = await _connections.GetAsync(row.Watched.Id, row.Target, row.Key, force || attempt > 0, ct);
            if (session is null) return (null, error, null, presented);
            try
            {
                var output = await session.RunScriptAsync(script, _options.ProbeTimeout + _options.PortTimeout, "status probe", ct);
                if (!output.Stdout.Contains("@hello", StringComparison.Ordinal))
                {
                    var reason = $"the probe did not run: {output.AsCommandResult().LastMessage()}";
                    await _connections.BackOffAsync(row.Watched.Id, reason);
                    return (null, reason, null, null);
                }
                var rtt = output.FirstOutput is { } first ? Math.Round(first.TotalMilliseconds, 1) : (double?)null;
                _connections.Ran(row.Watched.Id);
                return (StatusProbe.Parse(output.Stdout), null, rtt, null);
            }
            catch (SshFailureException e) when (e.Kind == SshFailureKind.Disconnected && attempt == 0)
            {
                // A kept connection that died between sweeps (node rebooted, sshd restarted): one fresh try.
                await _connections.DropAsync(row.Watched.Id);
            }
            catch (SshFailureException e) when (e.Kind is SshFailureKind.SudoFailed or SshFailureKind.AuthenticationFailed)
            {
                // Refused, not lost: trying again at once would only repeat the refusal (and count against the account).
                await _connections.BackOffAsync(row.Watched.Id, e.Message);
                return (null, e.Message, null, null);
            }
            catch (SshFailureException e)
            {
                await _connections.DropAsync(row.Watched.Id);
                return (null, e.Message, null, null);
            }
            catch (Exception e) when (e is not OperationCanceledException || !ct.IsCancellationRequested)
            {
                await _connections.DropAsync(row.Watched.Id);
                return (null, $"the probe failed: {e.GetType().Name}", null, null);
            }
        }
    }

    private async Task SavePortsAsync(int clusterId, PortResults results, bool now, CancellationToken ct)
    {
        try { await _portAnswers.SaveAsync(clusterId, results, now, ct); }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            // Only a restart's first sweep would miss them: it checks every port again.
            _logger.LogWarning(e, "Saving the port answers of cluster {ClusterId} failed", clusterId);
        }
    }

    /// <summary>Saves every cluster's port answers changed since their last save (the host is stopping: sweeps have ended).</summary>
    public async Task SavePortAnswersAsync(CancellationToken ct)
    {
        foreach (var (clusterId, results) in _portResults)
        {
            var gate = _clusterGates.GetOrAdd(clusterId, _ => new SemaphoreSlim(1, 1));
            if (!await gate.WaitAsync(TimeSpan.FromSeconds(5), ct)) continue;
            try { await SavePortsAsync(clusterId, results, now: true, ct); }
            finally { gate.Release(); }
        }
    }

    public async ValueTask DisposeAsync()
    {
        _panelChecks.Dispose();
        await _connections.DisposeAsync();
    }
}
