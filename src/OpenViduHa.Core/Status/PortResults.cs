using System.Text.Json;

namespace OpenViduHa.Core.Status;

/// <summary>One port check's last answer: open, or closed with why (refused, no answer in time), and when it ran.</summary>
public sealed record PortCell(bool Open, string? Detail, DateTimeOffset CheckedAt);

/// <summary>
/// The port matrix of one cluster on its own tier: the checks the nodes run toward each other (in their probes) and the
/// panel's TCP connects run only when due, and their last answers stand in between. The liveness, service, container
/// and resource checks (and each node's health request) run every sweep; a master's share of a sweep no longer grows
/// with every media node.
/// <para>
/// A check is due when it never ran (a new node, a changed address, a changed plan), when it failed last time (a red
/// cell is checked every sweep, so it clears as soon as it is mended), when its answer is older than
/// <see cref="StatusOptions.PortCheckInterval"/>, or when the sweep asks for all of them (an operator's "check ports
/// now"). A change to the cluster (a changing job ended since the last sweep), and a node that changed (it came back
/// after a sweep that did not reach it, its service or a container changed state) drop the answers they may have made
/// wrong: the next sweep checks them again (<see cref="Begin"/>).
/// </para>
/// Not thread-safe: one per cluster, used under the cluster's sweep gate.
/// </summary>
public sealed class PortResults
{
    /// <summary>The panel's own connects are kept under this source id (node ids start at 1).</summary>
    private const int PanelSource = 0;

    private readonly Dictionary<(int From, string Ip, int Port), PortCell> _cells = [];
    private readonly Dictionary<int, string> _facts = [];
    private HashSet<int> _changed = [];

    /// <summary>The newest finished changing job the last sweep saw (null: none had finished), once a sweep has begun.</summary>
    private bool _begun;
    private int? _lastJob;

    /// <summary>The signature of the plan the answers were last pruned to (null: never, e.g. answers just restored).</summary>
    private (int Hash, int Checks)? _plan;

    /// <summary>Answers kept.</summary>
    public int Count => _cells.Count;

    /// <summary>The answers changed since <see cref="Saved"/> last ran.</summary>
    public bool Dirty { get; private set; }

    /// <summary>The newest finished changing job the answers were made after.</summary>
    public int? LastJob => _lastJob;

    private sealed record SavedCell(int F, string Ip, int P, bool O, string? D, long T);

    /// <summary>A save of <see cref="Saved"/> did not reach the database: the answers still need one.</summary>
    public void SaveFailed() => Dirty = true;

    /// <summary>The answers as JSON, for a restarted panel to go on from (<see cref="Restore"/>).</summary>
    public string Saved()
    {
        Dirty = false;
        return JsonSerializer.Serialize(_cells.Select(c => new SavedCell(c.Key.From, c.Key.Ip, c.Key.Port, c.Value.Open, c.Value.Detail, c.Value.CheckedAt.ToUnixTimeMilliseconds())));
    }

    /// <summary>
    /// Answers saved by an earlier panel process. Its first sweep drops them all if a changing job ended after them, and
    /// runs the checks that are due by then as usual (the failed ones, the old ones).
    /// </summary>
    public static PortResults Restore(string saved, int? lastJob)
    {
        var results = new PortResults { _begun = true, _lastJob = lastJob };
        foreach (var c in JsonSerializer.Deserialize<List<SavedCell>>(saved) ?? [])
            results._cells[(c.F, c.Ip, c.P)] = new PortCell(c.O, c.D, DateTimeOffset.FromUnixTimeMilliseconds(c.T));
        return results;
    }

    /// <summary>The oldest answer kept: every check has run since (null: none kept).</summary>
    public DateTimeOffset? OldestCheck => _cells.Count == 0 ? null : _cells.Values.Min(c => c.CheckedAt);

    /// <summary>
    /// Starts a sweep: drops answers the plan no longer asks for, answers from and toward nodes the last sweep found
    /// changed or did not reach, and every answer when a changing job has ended since the last sweep.
    /// </summary>
    public void Begin(PortPlan plan, IReadOnlyList<WatchedNode> nodes, int? lastFinishedChangingJob)
    {
        if (_begun && lastFinishedChangingJob != _lastJob && _cells.Count > 0)
        {
            _cells.Clear();
            Dirty = true;
        }
        _lastJob = lastFinishedChangingJob;
        _begun = true;

        // The same plan as the last sweep's and no node came back: no answer can have gone unplanned or stale, and the
        // ~45,000 checks of a 1,000-node cluster need not be gone through (a set of them every sweep was ~5 MB of garbage).
        var returned = _changed.Count == 0 ? [] : nodes.Where(n => _changed.Contains(n.Id)).ToList();
        if (returned.Count == 0 && _plan == plan.Signature) return;
        _plan = plan.Signature;

        var planned = new HashSet<(int, string, int)>();
        foreach (var node in nodes)
        {
            foreach (var target in plan.FromNode(node.Id))
                foreach (var port in target.Ports) planned.Add((node.Id, target.Ip, port));
            foreach (var port in plan.FromPanel(node.Id)) planned.Add((PanelSource, node.PrivateIp, port));
        }
        var returnedIps = returned.Select(n => n.PrivateIp).ToHashSet(StringComparer.Ordinal);
        var returnedIds = returned.Select(n => n.Id).ToHashSet();
        foreach (var key in _cells.Keys.ToList())
        {
            if (!planned.Contains(key) || returnedIds.Contains(key.From) || returnedIps.Contains(key.Ip)) Dirty |= _cells.Remove(key);
        }
    }

    /// <summary>
    /// What <paramref name="nodeId"/> checks this sweep: the due part of its planned targets, at most
    /// <paramref name="maxTargets"/> of them (each is a shell on the node): failed ones first, then ones never checked,
    /// then the oldest. A master of a big cluster so spreads its checks of every media node over several sweeps.
    /// </summary>
    public IReadOnlyList<ProbeTarget> DueFromNode(int nodeId, IReadOnlyList<ProbeTarget> planned, DateTimeOffset now, TimeSpan interval, bool all, int maxTargets = int.MaxValue)
    {
        if (all) return planned;
        var due = new List<(ProbeTarget Target, int Rank, DateTimeOffset Oldest)>();
        foreach (var target in planned)
        {
            var cells = target.Ports.Select(p => (Port: p, Cell: _cells.GetValueOrDefault((nodeId, target.Ip, p)))).ToList();
            var ports = cells.Where(c => Due(c.Cell, now, interval)).Select(c => c.Port).ToList();
            if (ports.Count == 0) continue;
            var rank = cells.Any(c => c.Cell is { Open: false }) ? 0 : cells.Any(c => c.Cell is null) ? 1 : 2;
            var oldest = cells.Min(c => c.Cell?.CheckedAt ?? DateTimeOffset.MinValue);
            due.Add((ports.Count == target.Ports.Count ? target : new ProbeTarget(target.Ip, ports), rank, oldest));
        }
        if (due.Count <= maxTargets) return due.Select(d => d.Target).ToList();
        return due.OrderBy(d => d.Rank).ThenBy(d => d.Oldest).Take(maxTargets).Select(d => d.Target).ToList();
    }

    /// <summary>The panel's TCP connects to <paramref name="node"/> due this sweep.</summary>
    public IReadOnlyList<int> DueFromPanel(WatchedNode node, IReadOnlyList<int> planned, DateTimeOffset now, TimeSpan interval, bool all) =>
        all ? planned : planned.Where(p => Due(_cells.GetValueOrDefault((PanelSource, node.PrivateIp, p)), now, interval)).ToList();

    private static bool Due(PortCell? cell, DateTimeOffset now, TimeSpan interval) =>
        cell is null || !cell.Open || now - cell.CheckedAt >= interval;

    /// <summary>
    /// What <paramref name="nodeId"/>'s probe answered for the checks it was asked (<paramref name="asked"/>); a check
    /// with no line in its output did not finish within <paramref name="portTimeout"/>.
    /// </summary>
    public void RecordNode(int nodeId, IReadOnlyList<ProbeTarget> asked, ProbeResult result, DateTimeOffset at, TimeSpan portTimeout)
    {
        foreach (var target in asked)
        {
            foreach (var port in target.Ports)
            {
                Dirty = true;
                _cells[(nodeId, target.Ip, port)] = result.Ports.TryGetValue((target.Ip, port), out var open)
                    ? new PortCell(open, open ? null : "refused or unreachable", at)
                    : new PortCell(false, $"no answer within {portTimeout.TotalSeconds:0.#} s", at);
            }
        }
    }

    /// <summary>The panel's TCP connects to <paramref name="node"/> that ran this sweep.</summary>
    public void RecordPanel(WatchedNode node, IEnumerable<PortCheck> checks, DateTimeOffset at)
    {
        foreach (var check in checks)
        {
            Dirty = true;
            _cells[(PanelSource, node.PrivateIp, check.Port)] = new PortCell(check.Open, check.Detail, at);
        }
    }

    /// <summary>
    /// Ends a sweep with what it found on each node (<paramref name="facts"/>: its service and containers' states in a
    /// string, null when it was not reached). A node not reached, or whose facts differ from the last sweep's, has the
    /// checks from and toward it run again next sweep.
    /// </summary>
    public void End(IReadOnlyDictionary<int, string?> facts)
    {
        _changed = [];
        foreach (var (id, now) in facts)
        {
            if (now is null) _changed.Add(id);
            else if (_facts.TryGetValue(id, out var before) && before != now) _changed.Add(id);
            if (now is null) _facts.Remove(id);
            else _facts[id] = now;
        }
        foreach (var gone in _facts.Keys.Where(id => !facts.ContainsKey(id)).ToList()) _facts.Remove(gone);
    }

    /// <summary>What <see cref="End"/> compares between sweeps: the service's state and each container's.</summary>
    public static string Facts(ProbeResult result) =>
        result.Service + "|" + string.Join(",", result.Containers.Select(c => c.Name + ":" + c.State));

    /// <summary>The panel's TCP checks of <paramref name="node"/>, each with when it last ran.</summary>
    public IEnumerable<PortCheck> FromPanel(WatchedNode node, IReadOnlyList<int> planned)
    {
        foreach (var port in planned)
        {
            if (_cells.GetValueOrDefault((PanelSource, node.PrivateIp, port)) is { } cell)
                yield return new PortCheck(port, "tcp", PortPlan.Panel, cell.Open, cell.Detail, cell.CheckedAt);
        }
    }

    /// <summary>
    /// The node-to-node checks toward <paramref name="nodeId"/>, each with when it last ran. A source this sweep did not
    /// reach says nothing (its node is what is wrong, and its answers may be stale).
    /// </summary>
    public IEnumerable<PortCheck> TowardNode(PortPlan plan, int nodeId, string ip, Func<int, bool> reached)
    {
        foreach (var (port, source) in plan.Expected(nodeId))
        {
            if (!reached(source.Id) || _cells.GetValueOrDefault((source.Id, ip, port)) is not { } cell) continue;
            yield return new PortCheck(port, "tcp", source.Name, cell.Open, cell.Detail, cell.CheckedAt);
        }
    }
}
