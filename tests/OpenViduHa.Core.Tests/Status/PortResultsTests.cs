using OpenViduHa.Core.Status;

namespace OpenViduHa.Core.Tests.Status;

/// <summary>The port matrix's tier: which checks a sweep runs, which answers stand in between, and how they read.</summary>
public sealed class PortResultsTests
{
    private static readonly TimeSpan Interval = TimeSpan.FromMinutes(5);
    private static readonly TimeSpan PortTimeout = TimeSpan.FromSeconds(1.5);
    private static readonly DateTimeOffset T0 = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private readonly PortPlan _plan;
    private readonly List<WatchedNode> _nodes;
    private readonly PortResults _results = new();

    public PortResultsTests()
    {
        var cluster = TestClusters.Full("3.8.0");
        _nodes = cluster.Nodes.Select((n, i) => new WatchedNode(i + 1, n.Name, n.Role, n.PrivateIp)).ToList();
        _plan = new PortPlan(cluster, _nodes);
    }

    private WatchedNode Node(string name) => _nodes.Single(n => n.Name == name);

    private static int Count(IReadOnlyList<ProbeTarget> targets) => targets.Sum(t => t.Ports.Count);

    /// <summary>One sweep: every node runs what is due and answers <paramref name="open"/> for each (null: no answer).</summary>
    private void Sweep(DateTimeOffset at, int? lastJob = 0, bool all = false, Func<string, int, bool?>? open = null, ISet<string>? unreached = null,
        Func<string, string>? facts = null)
    {
        _results.Begin(_plan, _nodes, lastJob);
        foreach (var node in _nodes)
        {
            var due = _results.DueFromNode(node.Id, _plan.FromNode(node.Id), at, Interval, all);
            var panel = _results.DueFromPanel(node, _plan.FromPanel(node.Id), at, Interval, all);
            _results.RecordPanel(node, panel.Select(p => new PortCheck(p, "tcp", PortPlan.Panel, open?.Invoke(node.PrivateIp, p) ?? true, null)), at);
            if (unreached?.Contains(node.Name) == true) continue;
            var ports = new Dictionary<(string, int), bool>();
            foreach (var target in due)
                foreach (var port in target.Ports)
                    if ((open is null ? true : open(target.Ip, port)) is { } answer) ports[(target.Ip, port)] = answer;
            _results.RecordNode(node.Id, due, new ProbeResult { Ports = ports }, at, PortTimeout);
        }
        _results.End(_nodes.ToDictionary(n => n.Id, n => unreached?.Contains(n.Name) == true ? null : facts?.Invoke(n.Name) ?? "active|caddy:running"));
    }

    private int DueCount(DateTimeOffset at, bool all = false) =>
        _nodes.Sum(n => Count(_results.DueFromNode(n.Id, _plan.FromNode(n.Id), at, Interval, all)) + _results.DueFromPanel(n, _plan.FromPanel(n.Id), at, Interval, all).Count);

    private int PlannedCount => _nodes.Sum(n => Count(_plan.FromNode(n.Id)) + _plan.FromPanel(n.Id).Count);

    [Fact]
    public void DueFromNode_NothingKnown_TheWholePlan()
    {
        _results.Begin(_plan, _nodes, 0);

        var master = Node("master-1");
        Assert.Equal(_plan.FromNode(master.Id), _results.DueFromNode(master.Id, _plan.FromNode(master.Id), T0, Interval, all: false));
        Assert.Equal(PlannedCount, DueCount(T0));
    }

    [Fact]
    public void Due_AllOpen_NothingUntilTheIntervalHasPassed_ThenEverything()
    {
        Sweep(T0);

        Assert.Equal(0, DueCount(T0.AddSeconds(15)));
        Assert.Equal(0, DueCount(T0 + Interval - TimeSpan.FromSeconds(1)));
        Assert.Equal(PlannedCount, DueCount(T0 + Interval));
    }

    [Fact]
    public void Due_AskedForAll_EverythingEvenWhenFresh()
    {
        Sweep(T0);

        Assert.Equal(PlannedCount, DueCount(T0.AddSeconds(15), all: true));
    }

    [Fact]
    public void Due_IntervalZero_EverySweepRunsEverything()
    {
        Sweep(T0);

        var zero = _nodes.Sum(n => Count(_results.DueFromNode(n.Id, _plan.FromNode(n.Id), T0, TimeSpan.Zero, false)));
        Assert.Equal(_nodes.Sum(n => Count(_plan.FromNode(n.Id))), zero);
    }

    [Fact]
    public void Due_AClosedAndASilentCheck_RunEverySweep_OnlyThoseTargetsAndPorts()
    {
        // Arrange: master-1's redis (7000) refused from everyone, media-1's 7880 silent from every master.
        var master1 = Node("master-1");
        var media1 = Node("media-1");
        Sweep(T0, open: (ip, port) => ip == master1.PrivateIp && port == 7000 ? false : ip == media1.PrivateIp && port == 7880 ? null : true);

        // Act
        var fromMaster2 = _results.DueFromNode(Node("master-2").Id, _plan.FromNode(Node("master-2").Id), T0.AddSeconds(15), Interval, false);

        // Assert: master-2 checks only master-1:7000 and media-1:7880 again; no other node or port.
        Assert.Equal([(master1.PrivateIp, 7000), (media1.PrivateIp, 7880)], fromMaster2.SelectMany(t => t.Ports.Select(p => (t.Ip, p))).Order().ToList());
        var media2 = _results.DueFromNode(Node("media-2").Id, _plan.FromNode(Node("media-2").Id), T0.AddSeconds(15), Interval, false);
        Assert.Equal([(master1.PrivateIp, 7000)], media2.SelectMany(t => t.Ports.Select(p => (t.Ip, p))).ToList());
    }

    [Fact]
    public void DueFromNode_Capped_FailedFirstThenNeverCheckedThenOldest_TheWholePlanOverSweeps()
    {
        // Arrange: master-1 checks 5 nodes (3 masters, 2 media). All open at T0 except master-4's redis; media-2's answers forgotten.
        var master1 = Node("master-1");
        var planned = _plan.FromNode(master1.Id);
        Assert.Equal(5, planned.Count);
        var master4 = Node("master-4");
        Sweep(T0, open: (ip, port) => !(ip == master4.PrivateIp && port == 7000));
        var media2 = Node("media-2");
        _results.End(_nodes.ToDictionary(n => n.Id, n => n == media2 ? null : "active|caddy:running"));
        _results.Begin(_plan, _nodes, 0); // media-2 came back: its answers are gone

        // Act: the interval has passed, so all 5 are due; 2 per sweep.
        var at = T0 + Interval;
        var first = _results.DueFromNode(master1.Id, planned, at, Interval, false, maxTargets: 2);

        // Assert: the failed one, then the never checked one.
        Assert.Equal([master4.PrivateIp, media2.PrivateIp], first.Select(t => t.Ip).ToList());
        Assert.Equal(planned.Single(t => t.Ip == master4.PrivateIp).Ports, first[0].Ports); // all its due ports, not only the failed one

        // Over the next sweeps every target is checked, 2 at a time.
        var seen = new HashSet<string>();
        for (var sweep = 0; sweep < 3; sweep++)
        {
            var due = _results.DueFromNode(master1.Id, planned, at, Interval, false, maxTargets: 2);
            Assert.InRange(due.Count, 1, 2);
            foreach (var target in due) seen.Add(target.Ip);
            _results.RecordNode(master1.Id, due, new ProbeResult { Ports = due.SelectMany(t => t.Ports.Select(p => ((t.Ip, p), true))).ToDictionary(x => x.Item1, x => x.Item2) }, at, PortTimeout);
            at = at.AddSeconds(15);
        }
        Assert.Equal(planned.Select(t => t.Ip).ToHashSet(), seen);
        Assert.Empty(_results.DueFromNode(master1.Id, planned, at, Interval, false, maxTargets: 2));
        Assert.Equal(planned, _results.DueFromNode(master1.Id, planned, at, Interval, all: true, maxTargets: 2)); // on demand: all
    }

    [Fact]
    public void TowardNode_OpenRefusedSilent_EachWithWhenItRan_UnreachedSourcesLeftOut()
    {
        // Arrange: media-1's 7880 as its sources saw it: master-1 open, master-2 refused, master-3 no answer, master-4 not reached.
        var media1 = Node("media-1");
        var answers = new Dictionary<string, bool?> { ["10.5.0.1"] = true, ["10.5.0.2"] = false, ["10.5.0.3"] = null };
        _results.Begin(_plan, _nodes, 0);
        foreach (var master in _nodes.Where(n => n.Name.StartsWith("master", StringComparison.Ordinal) && n.Name != "master-4"))
        {
            var ports = answers[master.PrivateIp] is { } open ? new Dictionary<(string, int), bool> { [(media1.PrivateIp, 7880)] = open } : [];
            _results.RecordNode(master.Id, [new ProbeTarget(media1.PrivateIp, [7880])], new ProbeResult { Ports = ports }, T0, PortTimeout);
        }

        // Act
        var checks = _results.TowardNode(_plan, media1.Id, media1.PrivateIp, id => Node("master-4").Id != id).Where(c => c.Port == 7880).ToList();

        // Assert
        Assert.Equal(
        [
            new PortCheck(7880, "tcp", "master-1", true, null, T0),
            new PortCheck(7880, "tcp", "master-2", false, "refused or unreachable", T0),
            new PortCheck(7880, "tcp", "master-3", false, "no answer within 1.5 s", T0),
        ], checks);
    }

    [Fact]
    public void TowardNode_BetweenFullChecks_TheLastAnswerWithItsOwnTime()
    {
        // Arrange: all open at T0; at T0+15 s master-1's 7000 refused from master-2 (it was already failing: re-run).
        var master1 = Node("master-1");
        Sweep(T0, open: (ip, port) => !(ip == master1.PrivateIp && port == 7000));
        Sweep(T0.AddSeconds(15), open: (ip, port) => !(ip == master1.PrivateIp && port == 7000));

        var checks = _results.TowardNode(_plan, master1.Id, master1.PrivateIp, _ => true).ToList();

        Assert.All(checks.Where(c => c.Port == 7000), c => Assert.Equal(T0.AddSeconds(15), c.CheckedAt));
        Assert.All(checks.Where(c => c.Port != 7000), c => Assert.Equal(T0, c.CheckedAt));
        Assert.All(checks.Where(c => c.Port != 7000), c => Assert.True(c.Open));
        Assert.Equal(T0, _results.OldestCheck);
    }

    [Fact]
    public void Begin_AChangingJobEndedSinceTheLastSweep_EverythingDueAgain()
    {
        Sweep(T0, lastJob: 7);
        Assert.Equal(0, DueCount(T0.AddSeconds(15)));

        _results.Begin(_plan, _nodes, 7);
        Assert.Equal(0, DueCount(T0.AddSeconds(15)));

        _results.Begin(_plan, _nodes, 9);
        Assert.Equal(PlannedCount, DueCount(T0.AddSeconds(15)));
        Assert.Equal(0, _results.Count);
    }

    [Fact]
    public void Begin_NoChangingJobHasEverFinished_AnswersKeptFromSweepToSweep()
    {
        Sweep(T0, lastJob: null);

        _results.Begin(_plan, _nodes, null);

        Assert.Equal(0, DueCount(T0.AddSeconds(15)));
        Assert.True(_results.Count > 0);
    }

    [Fact]
    public void SavedAndRestored_AnotherProcessGoesOn_SameAnswersAndTimes_OnlyTheFailedCheckDue()
    {
        // Arrange: a full check at T0 with master-1's 7000 refused from everywhere.
        var master1 = Node("master-1");
        Sweep(T0, lastJob: 7, open: (ip, port) => !(ip == master1.PrivateIp && port == 7000));
        Assert.True(_results.Dirty);

        // Act
        var saved = _results.Saved();
        var restored = PortResults.Restore(saved, _results.LastJob);
        restored.Begin(_plan, _nodes, 7);

        // Assert: not dirty once saved; the restored answers read the same, and only the refused checks are due.
        Assert.False(_results.Dirty);
        Assert.Equal(_results.Count, restored.Count);
        Assert.Equal(_results.TowardNode(_plan, master1.Id, master1.PrivateIp, _ => true), restored.TowardNode(_plan, master1.Id, master1.PrivateIp, _ => true));
        Assert.Equal(_results.FromPanel(master1, _plan.FromPanel(master1.Id)), restored.FromPanel(master1, _plan.FromPanel(master1.Id)));
        var due = _nodes.Sum(n => Count(restored.DueFromNode(n.Id, _plan.FromNode(n.Id), T0.AddSeconds(15), Interval, all: false)));
        var refused = _nodes.Sum(n => _plan.FromNode(n.Id).Where(t => t.Ip == master1.PrivateIp).Count(t => t.Ports.Contains(7000)));
        Assert.True(refused > 0);
        Assert.Equal(refused, due);
        Assert.False(restored.Dirty);
    }

    [Fact]
    public void Restored_AChangingJobEndedAfterTheSave_EverythingDueAgain()
    {
        Sweep(T0, lastJob: 7);
        var restored = PortResults.Restore(_results.Saved(), _results.LastJob);

        restored.Begin(_plan, _nodes, 8);

        Assert.Equal(0, restored.Count);
        Assert.True(restored.Dirty);
        Assert.Equal(PlannedCount, _nodes.Sum(n => Count(restored.DueFromNode(n.Id, _plan.FromNode(n.Id), T0.AddSeconds(15), Interval, all: false))
            + restored.DueFromPanel(n, _plan.FromPanel(n.Id), T0.AddSeconds(15), Interval, all: false).Count));
    }

    [Fact]
    public void Begin_ANodeComesBack_ChecksFromItAndTowardItDue_OthersNot()
    {
        // Arrange: media-2 not reached at T0 (its outgoing answers are old, and it may have rebooted).
        Sweep(T0);
        var media2 = Node("media-2");
        Sweep(T0.AddSeconds(15), unreached: new HashSet<string> { "media-2" });

        // Act: the next sweep reaches it again.
        _results.Begin(_plan, _nodes, 0);

        // Assert
        var at = T0.AddSeconds(30);
        Assert.Equal(_plan.FromNode(media2.Id), _results.DueFromNode(media2.Id, _plan.FromNode(media2.Id), at, Interval, false));
        Assert.Equal(_plan.FromPanel(media2.Id), _results.DueFromPanel(media2, _plan.FromPanel(media2.Id), at, Interval, false));
        var master1 = Node("master-1");
        Assert.Equal([media2.PrivateIp], _results.DueFromNode(master1.Id, _plan.FromNode(master1.Id), at, Interval, false).Select(t => t.Ip).ToList());
        Assert.Empty(_results.DueFromNode(Node("media-1").Id, _plan.FromNode(Node("media-1").Id), at, Interval, false));
    }

    [Fact]
    public void Begin_ANodesServiceChanged_ChecksFromItAndTowardItDue_ThenNotWhileItStaysSo()
    {
        Sweep(T0);
        var master1 = Node("master-1");
        Sweep(T0.AddSeconds(15), facts: name => name == "master-1" ? "inactive|caddy:exited" : "active|caddy:running");

        _results.Begin(_plan, _nodes, 0);

        var at = T0.AddSeconds(30);
        Assert.Equal(_plan.FromNode(master1.Id), _results.DueFromNode(master1.Id, _plan.FromNode(master1.Id), at, Interval, false));
        Assert.Equal([master1.PrivateIp], _results.DueFromNode(Node("media-1").Id, _plan.FromNode(Node("media-1").Id), at, Interval, false).Select(t => t.Ip).ToList());
        Assert.Equal([master1.PrivateIp], _results.DueFromNode(Node("master-2").Id, _plan.FromNode(Node("master-2").Id), at, Interval, false).Select(t => t.Ip).ToList());

        // The same facts again: nothing new is due.
        Sweep(at, facts: name => name == "master-1" ? "inactive|caddy:exited" : "active|caddy:running");
        _results.Begin(_plan, _nodes, 0);
        Assert.Equal(0, DueCount(T0.AddSeconds(45)));
    }

    [Fact]
    public void Facts_ServiceAndContainerStates_NotTheirChangingStatusText()
    {
        var a = new ProbeResult { Service = "active", Containers = [new ContainerStatus("caddy", "img", "running", "Up 3 seconds", 0)] };
        var b = a with { Containers = [new ContainerStatus("caddy", "img", "running", "Up 4 minutes", 2)] };
        var c = a with { Containers = [new ContainerStatus("caddy", "img", "restarting", "Restarting (1) 2 seconds ago", 3)] };

        Assert.Equal(PortResults.Facts(a), PortResults.Facts(b));
        Assert.NotEqual(PortResults.Facts(a), PortResults.Facts(c));
        Assert.NotEqual(PortResults.Facts(a), PortResults.Facts(a with { Service = "inactive" }));
    }

    [Fact]
    public void Begin_ANodeLeavesThePlan_ItsAnswersGo()
    {
        Sweep(T0);
        var before = _results.Count;
        var fewer = _nodes.Where(n => n.Name != "media-2").ToList();
        var cluster = TestClusters.Full("3.8.0");
        var plan = new PortPlan(cluster with { Nodes = cluster.Nodes.Where(n => n.Name != "media-2").ToList() }, fewer);

        _results.Begin(plan, fewer, 0);

        var media2 = Node("media-2");
        var gone = Count(_plan.FromNode(media2.Id)) + _plan.FromPanel(media2.Id).Count + _plan.Expected(media2.Id).Count;
        Assert.Equal(before - gone, _results.Count);
        Assert.Equal(0, fewer.Sum(n => Count(_results.DueFromNode(n.Id, plan.FromNode(n.Id), T0.AddSeconds(15), Interval, false))));
    }

    [Fact]
    public void Panel_DueAndRecorded_ReadBackWithTheirTime_ARefusedOneDueAgain()
    {
        var media1 = Node("media-1");
        Assert.Equal([7881], _plan.FromPanel(media1.Id));
        _results.Begin(_plan, _nodes, 0);
        _results.RecordPanel(media1, [new PortCheck(7881, "tcp", PortPlan.Panel, false, "connection refused")], T0);

        Assert.Equal([new PortCheck(7881, "tcp", PortPlan.Panel, false, "connection refused", T0)], _results.FromPanel(media1, [7881]).ToList());
        Assert.Equal([7881], _results.DueFromPanel(media1, [7881], T0.AddSeconds(15), Interval, false));

        _results.RecordPanel(media1, [new PortCheck(7881, "tcp", PortPlan.Panel, true)], T0.AddSeconds(15));
        Assert.Empty(_results.DueFromPanel(media1, [7881], T0.AddSeconds(30), Interval, false));
        Assert.Equal(T0.AddSeconds(15), _results.FromPanel(media1, [7881]).Single().CheckedAt);
    }
}
