using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
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
    private readonly HttpClient _http;
    private readonly SemaphoreSlim _nodeSlots;
    private readonly ConcurrentDictionary<int, SemaphoreSlim> _clusterGates = new();
    private readonly ConcurrentDictionary<int, IReadOnlyDictionary<string, int>> _restarts = new();
    private readonly ConcurrentDictionary<(int ClusterId, int? NodeId), (string Health, string Reason)> _verdicts = new();
    private readonly ConcurrentDictionary<int, bool> _verdictsLoaded = new();
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, IPAddress? Address)> _dns = new();
    private long _sweeps;
    private long _changesWritten;

    public StatusCollector(
        IDbContextFactory<PanelDbContext> dbFactory,
        ClusterService clusters,
        SecretProtector protector,
        StatusConnections connections,
        StatusStore store,
        IOptions<StatusOptions> options,
        TimeProvider clock,
        ILogger<StatusCollector> logger)
    {
        _dbFactory = dbFactory;
        _clusters = clusters;
        _protector = protector;
        _connections = connections;
        _store = store;
        _options = options.Value;
        _clock = clock;
        _logger = logger;
        _nodeSlots = new SemaphoreSlim(_options.MaxParallelNodes);
        // Health requests keep their connections between sweeps (one per node); the timeout is per request.
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = _options.PortTimeout,
            PooledConnectionIdleTimeout = _options.Interval + TimeSpan.FromSeconds(30),
            UseProxy = false,
            AllowAutoRedirect = false,
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>Sweeps run so far.</summary>
    public long Sweeps => Interlocked.Read(ref _sweeps);

    /// <summary>Verdict changes written to the database so far.</summary>
    public long ChangesWritten => Interlocked.Read(ref _changesWritten);

    public StatusConnections Connections => _connections;

    /// <summary>Every cluster with an installed node, in parallel; connections of nodes no longer watched are closed.</summary>
    public async Task SweepAllAsync(CancellationToken ct)
    {
        List<int> ids;
        HashSet<int> watched;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            var nodes = await db.Nodes.AsNoTracking().Where(n => n.InstalledAt != null).Select(n => new { n.Id, n.ClusterId }).ToListAsync(ct);
            ids = nodes.Select(n => n.ClusterId).Distinct().ToList();
            watched = nodes.Select(n => n.Id).ToHashSet();
        }
        await _connections.RetainAsync(watched);
        // A deleted cluster, or one with no installed node left, leaves the live picture (and the metrics).
        foreach (var gone in _store.All.Select(c => c.ClusterId).Where(c => !ids.Contains(c)).ToList()) _store.Remove(gone);
        await Task.WhenAll(ids.Select(async id =>
        {
            try { await SweepClusterAsync(id, force: false, ct); }
            catch (OperationCanceledException) when (ct.IsCancellationRequested) { }
            catch (Exception e) { _logger.LogError(e, "Status sweep of cluster {ClusterId} failed", id); }
        }));
    }

    /// <summary>
    /// Sweeps one cluster now and returns its fresh status (null: no such cluster). <paramref name="force"/> retries
    /// connections that are waiting out their backoff (an operator's refresh).
    /// </summary>
    public async Task<ClusterStatus?> SweepClusterAsync(int clusterId, bool force, CancellationToken ct)
    {
        var gate = _clusterGates.GetOrAdd(clusterId, _ => new SemaphoreSlim(1, 1));
        await gate.WaitAsync(ct);
        try
        {
            return await SweepAsync(clusterId, force, ct);
        }
        finally
        {
            gate.Release();
        }
    }

    /// <summary>Recent verdict changes of a cluster's nodes (and of the cluster, NodeId null), newest first.</summary>
    public async Task<IReadOnlyList<StatusChange>> HistoryAsync(int clusterId, int take, CancellationToken ct)
    {
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var rows = await db.StatusChanges.AsNoTracking().Where(c => c.ClusterId == clusterId)
            .OrderByDescending(c => c.Id).Take(take).ToListAsync(ct);
        return rows.Select(r => new StatusChange(r.ClusterId, r.NodeId, r.At, r.Health, r.Reason)).ToList();
    }

    private sealed record NodeRow(NodeEntity Entity, WatchedNode Watched, SshTarget Target, string Key);

    private async Task<ClusterStatus?> SweepAsync(int clusterId, bool force, CancellationToken ct)
    {
        var started = Stopwatch.GetTimestamp();
        var definition = await _clusters.LoadDefinitionAsync(clusterId, ct);
        if (definition is null)
        {
            _store.Remove(clusterId);
            return null;
        }
        List<NodeEntity> entities;
        List<(int Id, JobKind Kind, int? NodeId)> jobs;
        await using (var db = await _dbFactory.CreateDbContextAsync(ct))
        {
            entities = await db.Nodes.AsNoTracking().Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync(ct);
            var running = await db.Jobs.AsNoTracking().Where(j => j.ClusterId == clusterId && j.State == JobState.Running)
                .Select(j => new { j.Id, j.Kind, j.NodeId }).ToListAsync(ct);
            jobs = running.Where(j => j.Kind.Changes()).Select(j => (j.Id, j.Kind, j.NodeId)).ToList();
        }
        await LoadVerdictsAsync(clusterId, ct);

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
            var target = new SshTarget(n.Name, n.SshHost, n.SshPort, n.SshUsername, _protector.Unprotect<SshCredentials>(n.ProtectedCredentials), n.HostKeyFingerprint);
            rows.Add(new NodeRow(n, new WatchedNode(n.Id, n.Name, n.Role, n.PrivateIp), target, StatusConnections.KeyOf(target, n.ProtectedCredentials)));
        }

        var plan = new PortPlan(definition, rows.Select(r => r.Watched).ToList());
        var loadBalancer = CheckLoadBalancerAsync(definition, ct);
        var probes = await Task.WhenAll(rows.Select(row => ProbeNodeAsync(row, plan, force, ct)));
        var now = _clock.GetUtcNow();

        // Node-to-node checks land on the node they target, named by the node they ran from.
        var byIp = rows.GroupBy(r => r.Watched.PrivateIp).ToDictionary(g => g.Key, g => g.First().Watched.Id);
        var ports = rows.ToDictionary(r => r.Watched.Id, _ => new List<PortCheck>());
        foreach (var (row, probe) in rows.Zip(probes))
            ports[row.Watched.Id].AddRange(probe.PanelChecks);
        var outcomes = rows.Zip(probes).ToDictionary(x => x.First.Watched.Id, x => x.Second);
        foreach (var row in rows)
        {
            foreach (var (port, source) in plan.Expected(row.Watched.Id))
            {
                var from = outcomes[source.Id];
                if (from.Result is null) continue; // the source was not reached: nothing is known from there
                var open = from.Result.Ports.TryGetValue((row.Watched.PrivateIp, port), out var o) ? (bool?)o : null;
                ports[row.Watched.Id].Add(new PortCheck(port, "tcp", source.Name, open == true,
                    open is null ? $"no answer within {_options.PortTimeout.TotalSeconds:0.#} s" : open.Value ? null : "refused or unreachable"));
            }
        }

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
                Health = outcome.PanelChecks[0],
                Ports = ports[id],
                PreviousRestarts = _restarts.GetValueOrDefault(id),
                RunningJob = job.Id == 0 ? null : $"{job.Kind.Name()} job #{job.Id}",
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
        };
        await RecordChangesAsync(status, outcomes, ct);
        Interlocked.Increment(ref _sweeps);
        _store.Update(status);
        return status;
    }

    private sealed record NodeOutcome(ProbeResult? Result, string? Error, double? RttMs, IReadOnlyList<PortCheck> PanelChecks, string? Presented);

    private async Task<NodeOutcome> ProbeNodeAsync(NodeRow row, PortPlan plan, bool force, CancellationToken ct)
    {
        await _nodeSlots.WaitAsync(ct);
        try
        {
            var panel = PanelChecksAsync(row, plan, ct);
            var (result, error, rtt, presented) = await RunProbeAsync(row, plan, force, ct);
            return new NodeOutcome(result, error, rtt, await panel, presented);
        }
        finally
        {
            _nodeSlots.Release();
        }
    }

    private async Task<(ProbeResult? Result, string? Error, double? RttMs, string? Presented)> RunProbeAsync(NodeRow row, PortPlan plan, bool force, CancellationToken ct)
    {
        var script = StatusProbe.Script(plan.FromNode(row.Watched.Id), _options.PortTimeout);
        for (var attempt = 0; ; attempt++)
        {
            var (session, error, presented) = await _connections.GetAsync(row.Watched.Id, row.Target, row.Key, force || attempt > 0, ct);
            if (session is null) return (null, error, null, presented);
            var sent = Stopwatch.GetTimestamp();
            long first = 0;
            try
            {
                var output = await session.RunAsync(script, new SshRunOptions
                {
                    Description = "status probe",
                    Timeout = _options.ProbeTimeout + _options.PortTimeout,
                    OnLine = (_, _) => Interlocked.CompareExchange(ref first, Stopwatch.GetTimestamp(), 0),
                }, ct);
                if (!output.Stdout.Contains("@hello", StringComparison.Ordinal))
                    return (null, $"the probe did not run: {output.LastMessage()}", null, null);
                var rtt = first == 0 ? (double?)null : Math.Round(Stopwatch.GetElapsedTime(sent, first).TotalMilliseconds, 1);
                return (StatusProbe.Parse(output.Stdout), null, rtt, null);
            }
            catch (SshFailureException e) when (e.Kind == SshFailureKind.Disconnected && attempt == 0)
            {
                // A kept connection that died between sweeps (node rebooted, sshd restarted): one fresh try.
                await _connections.DropAsync(row.Watched.Id);
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

    /// <summary>The role's health endpoint over HTTP and the ports the load balancer (or anyone) reaches, from the panel.</summary>
    private async Task<IReadOnlyList<PortCheck>> PanelChecksAsync(NodeRow row, PortPlan plan, CancellationToken ct)
    {
        var tcp = plan.FromPanel(row.Watched.Id).Select(port => TcpCheckAsync(row.Watched.PrivateIp, port, ct)).ToList();
        var health = await HealthCheckAsync(row.Watched, ct);
        return [health, .. await Task.WhenAll(tcp)];
    }

    private async Task<PortCheck> HealthCheckAsync(WatchedNode node, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        var url = $"http://{FormatHost(node.PrivateIp)}:{PortPlan.HealthPort}{PortPlan.HealthPath(node.Role)}";
        try
        {
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            var detail = code == 200 ? "HTTP 200" : $"HTTP {code} {response.ReasonPhrase}".TrimEnd();
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, code == 200, detail);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, false, $"no answer within {_options.PortTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, false, Describe(e));
        }
    }

    private async Task<PortCheck> TcpCheckAsync(string ip, int port, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Parse(ip), port, timeout.Token);
            return new PortCheck(port, "tcp", PortPlan.Panel, true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, $"no answer within {_options.PortTimeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.SocketErrorCode.ToString());
        }
        catch (FormatException)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, "not an IP address");
        }
    }

    /// <summary>
    /// The cluster's domain through the load balancer: <c>GET https://domain/health/caddy</c>, connected to the load
    /// balancer's IP when the panel knows it, else to what the domain resolves to. Not checked when neither is known.
    /// </summary>
    private async Task<LoadBalancerStatus> CheckLoadBalancerAsync(ClusterDefinition cluster, CancellationToken ct)
    {
        var domain = cluster.DomainName;
        IPAddress? address = null;
        if (cluster.LoadBalancerIp is { } ip && IPAddress.TryParse(ip, out var parsed)) address = parsed;
        else address = await ResolveAsync(domain, ct);
        if (address is null)
            return new LoadBalancerStatus(domain, false, false, $"not checked: {domain} does not resolve from the panel and no load balancer IP is set");

        var target = $"https://{domain}/health/caddy via {address}";
        string? certificate = null;
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = _options.PortTimeout,
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(address, 443, token);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                // The operator's certificate is reported, not required: the check is about reachability (the node is
                // reached by its private IP, which no certificate names), and nothing secret is sent over it.
#pragma warning disable CA5359
                RemoteCertificateValidationCallback = (_, _, _, errors) =>
                {
                    certificate = errors == SslPolicyErrors.None ? "certificate valid" : $"certificate not trusted here ({errors})";
                    return true;
                },
#pragma warning restore CA5359
            },
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout + _options.PortTimeout);
        try
        {
            using var response = await client.GetAsync($"https://{domain}/health/caddy", timeout.Token);
            var code = (int)response.StatusCode;
            return new LoadBalancerStatus(target, true, code == 200, $"HTTP {code}{(certificate is null ? "" : ", " + certificate)}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new LoadBalancerStatus(target, true, false, $"no answer within {(_options.PortTimeout + _options.PortTimeout).TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new LoadBalancerStatus(target, true, false, Describe(e));
        }
    }

    /// <summary>DNS with a timeout, answers (and failures) kept for five minutes: a dead resolver never slows every sweep.</summary>
    private async Task<IPAddress?> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        if (_dns.TryGetValue(domain, out var cached) && cached.Until > now) return cached.Address;
        IPAddress? address = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        try
        {
            var all = await Dns.GetHostAddressesAsync(domain, AddressFamily.InterNetwork, timeout.Token);
            address = all.FirstOrDefault();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
        }
        _dns[domain] = (now.AddMinutes(5), address);
        return address;
    }

    /// <summary>
    /// Why the request failed, in words. A load balancer that is going away refuses the connection, or resets it when it
    /// had accepted it into its backlog as it closed (the reset then comes in the TLS handshake, under an IOException).
    /// </summary>
    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.ConnectionReset } => "connection reset",
        SocketException s => s.SocketErrorCode.ToString(),
        IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset } } => "connection reset",
        System.Security.Authentication.AuthenticationException => "TLS handshake failed",
        _ when e.HttpRequestError == HttpRequestError.ResponseEnded => "connection closed without an answer",
        _ => e.HttpRequestError.ToString(),
    };

    private static string FormatHost(string ip) => IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip;

    private async Task LoadVerdictsAsync(int clusterId, CancellationToken ct)
    {
        if (_verdictsLoaded.ContainsKey(clusterId)) return;
        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        var lastIds = await db.StatusChanges.Where(c => c.ClusterId == clusterId).GroupBy(c => c.NodeId).Select(g => g.Max(c => c.Id)).ToListAsync(ct);
        var last = await db.StatusChanges.AsNoTracking().Where(c => lastIds.Contains(c.Id)).ToListAsync(ct);
        foreach (var row in last) _verdicts[(clusterId, row.NodeId)] = (row.Health, row.Reason);
        _verdictsLoaded[clusterId] = true;
    }

    /// <summary>Writes a row per node (and for the cluster) whose verdict changed since the last one written; nothing otherwise.</summary>
    private async Task RecordChangesAsync(ClusterStatus status, Dictionary<int, NodeOutcome> outcomes, CancellationToken ct)
    {
        var at = status.CheckedAt ?? _clock.GetUtcNow();
        var changes = new List<StatusChangeEntity>();
        foreach (var node in status.Nodes)
        {
            var verdict = (node.Health.Lower(), node.NotWatched is { } why ? $"not watched: {why}" : node.Reason);
            if (_verdicts.TryGetValue((status.ClusterId, node.NodeId), out var before) && before == verdict) continue;
            changes.Add(new StatusChangeEntity { ClusterId = status.ClusterId, NodeId = node.NodeId, At = at, Health = verdict.Item1, Reason = verdict.Item2 });
        }
        var cluster = (status.Health.Lower(), status.Reason);
        if (!_verdicts.TryGetValue((status.ClusterId, null), out var was) || was != cluster)
            changes.Add(new StatusChangeEntity { ClusterId = status.ClusterId, NodeId = null, At = at, Health = cluster.Item1, Reason = cluster.Item2 });
        var presented = outcomes.Where(o => o.Value.Presented is not null).ToList();
        if (changes.Count == 0 && presented.Count == 0) return;

        await using var db = await _dbFactory.CreateDbContextAsync(ct);
        if (changes.Count > 0)
        {
            db.StatusChanges.AddRange(changes);
            await db.SaveChangesAsync(CancellationToken.None);
            foreach (var c in changes) _verdicts[(c.ClusterId, c.NodeId)] = (c.Health, c.Reason);
            Interlocked.Add(ref _changesWritten, changes.Count);
            foreach (var nodeId in changes.Select(c => c.NodeId).Distinct())
            {
                var keepFrom = await db.StatusChanges.Where(c => c.ClusterId == status.ClusterId && c.NodeId == nodeId)
                    .OrderByDescending(c => c.Id).Skip(_options.HistoryPerNode).Select(c => (long?)c.Id).FirstOrDefaultAsync(CancellationToken.None);
                if (keepFrom is { } oldest)
                    await db.StatusChanges.Where(c => c.ClusterId == status.ClusterId && c.NodeId == nodeId && c.Id <= oldest).ExecuteDeleteAsync(CancellationToken.None);
            }
        }
        // A host that presents another key than the pinned one: kept for the operator to compare and re-pin (never trusted).
        foreach (var (nodeId, outcome) in presented)
        {
            await db.Nodes.Where(n => n.Id == nodeId && n.PresentedHostKeyFingerprint != outcome.Presented)
                .ExecuteUpdateAsync(u => u.SetProperty(n => n.PresentedHostKeyFingerprint, outcome.Presented), CancellationToken.None);
        }
    }

    public async ValueTask DisposeAsync()
    {
        _http.Dispose();
        await _connections.DisposeAsync();
    }
}
