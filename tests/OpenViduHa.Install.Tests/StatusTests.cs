using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Status;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// One installed cluster (4 masters, 2 media nodes, OpenVidu 3.8.0) on real sshd lab nodes, watched by the real collector
/// every second. Each test breaks something, watches the status say so, and mends it (tests of a class run one by one).
/// </summary>
public sealed class StatusLabFixture : IAsyncLifetime
{
    public static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    public static readonly TimeSpan ProbeTimeout = TimeSpan.FromSeconds(5);
    public static readonly TimeSpan PortTimeout = TimeSpan.FromSeconds(2);

    public static Dictionary<string, string?> Settings => new()
    {
        ["Status:Interval"] = Interval.ToString(),
        ["Status:ProbeTimeout"] = ProbeTimeout.ToString(),
        ["Status:PortTimeout"] = PortTimeout.ToString(),
        ["Status:ConnectTimeout"] = "00:00:03",
        ["Status:MaxReconnectBackoff"] = "00:00:01",
    };

    public LabPanel Lp { get; private set; } = null!;
    public int ClusterId { get; private set; }

    public async Task InitializeAsync()
    {
        Lp = await LabPanel.StartAsync(6, logLevel: "Warning", settings: Settings);
        var nodes = Lp.Lab.Nodes;
        ClusterId = await Lp.CreateAsync(Lp.Spec("watched", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        var install = await Lp.RunJobAsync(ClusterId, "install");
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
    }

    public async Task DisposeAsync() => await Lp.DisposeAsync();
}

public sealed class StatusTests(StatusLabFixture fixture) : IClassFixture<StatusLabFixture>, IAsyncLifetime
{
    private LabPanel Lp => fixture.Lp;
    private int Id => fixture.ClusterId;

    public async Task InitializeAsync()
    {
        // Every test starts from a healthy cluster (and a previous test's mending is confirmed).
        foreach (var node in Lp.Lab.Nodes)
        {
            node.ClearFaults();
            if (!node.SshRunning) await node.StartSshAsync();
            if (!node.ServiceActive) Assert.Equal(0, (await node.RunAsRootAsync("systemctl start openvidu")).ExitCode);
        }
        await WaitStatusAsync(StatusLifecycleTests.AllGreen, "healthy, every node green, at the start");
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Fact]
    public async Task Refresh_InstalledCluster_EveryNodeGreen_WithContainersAndEveryPortOpen()
    {
        var status = await RefreshAsync();

        Assert.Equal("healthy", Health(status));
        var nodes = status["nodes"]!.AsArray().Select(n => n!.AsObject()).ToList();
        Assert.Equal(6, nodes.Count);
        foreach (var node in nodes)
        {
            var name = node["name"]!.GetValue<string>();
            Assert.True(node["health"]!.GetValue<string>() == "green", $"{name}: {node.ToJsonString()}");
            Assert.True(node["reachable"]!.GetValue<bool>());
            Assert.True(node["rttMs"]!.GetValue<double>() > 0);
            Assert.Equal("active", node["service"]!.GetValue<string>());
            var containers = node["containers"]!.AsArray();
            Assert.Contains(containers, c => c!["name"]!.GetValue<string>() == (name.StartsWith("master", StringComparison.Ordinal) ? "redis-server" : "egress"));
            Assert.All(containers, c => Assert.True(c!["state"]!.GetValue<string>() == "running" || c["name"]!.GetValue<string>() == "openvidu-init"));
            var ports = node["ports"]!.AsArray().Select(p => p!.AsObject()).ToList();
            Assert.All(ports, p => Assert.True(p["open"]!.GetValue<bool>(), $"{name}: {p.ToJsonString()}"));
            Assert.Contains(ports, p => p["port"]!.GetValue<int>() == 7880 && p["protocol"]!.GetValue<string>() == "http" && p["from"]!.GetValue<string>() == "panel");
        }
        // Node-to-node checks ran from the nodes: redis on master-1 from every other node.
        var master1Ports = nodes[0]["ports"]!.AsArray();
        var redisFrom = master1Ports.Where(p => p!["port"]!.GetValue<int>() == 7000).Select(p => p!["from"]!.GetValue<string>()).Order().ToList();
        Assert.Equal(["master-2", "master-3", "master-4", "media-1", "media-2"], redisFrom);
        Assert.True(nodes[0]["resources"]!["memoryTotalKb"]!.GetValue<long>() > 0);
    }

    [Fact]
    public async Task Sweeps_WhileNothingChanges_WriteNothingToTheDatabase_AndKeepTheirConnections()
    {
        await RefreshAsync();
        var collector = Lp.Panel.Services.GetRequiredService<StatusCollector>();
        var rows = Lp.Panel.Count("StatusChanges");
        var connects = collector.Connections.Connects;
        var sweeps = collector.Sweeps;

        for (var i = 0; i < 3; i++) await RefreshAsync();
        await WaitUntilAsync(() => collector.Sweeps >= sweeps + 5, "two more scheduled sweeps");

        Assert.Equal(rows, Lp.Panel.Count("StatusChanges"));
        Assert.Equal(connects, collector.Connections.Connects);
    }

    [Fact]
    public async Task ServiceStopped_NodeRedWithinOnePeriodPlusTimeout_ThenGreenAgain()
    {
        var master2 = Lp.Lab.Nodes[1];
        var stopped = Stopwatch.StartNew();
        Assert.Equal(0, (await master2.RunAsRootAsync("systemctl stop openvidu")).ExitCode);

        var status = await WaitStatusAsync(s => NodeHealth(s, "master-2") == "red", "master-2 red");
        var elapsed = stopped.Elapsed;

        var limit = StatusLabFixture.Interval + StatusLabFixture.ProbeTimeout + StatusLabFixture.PortTimeout;
        Assert.True(elapsed <= limit, $"red after {elapsed.TotalSeconds:0.0} s, limit {limit.TotalSeconds} s");
        Assert.Contains("openvidu service is inactive", Reasons(status, "master-2"), StringComparison.Ordinal);
        Assert.Equal("degraded", Health(status));
        Assert.StartsWith("1 master down (master-2)", status["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal(0, (await master2.RunAsRootAsync("systemctl start openvidu")).ExitCode);
        status = await WaitStatusAsync(s => NodeHealth(s, "master-2") == "green" && Health(s) == "healthy", "master-2 green again");

        // The history keeps the way down and back, and the cluster's own changes.
        var history = await HistoryAsync();
        var master2Id = await Lp.NodeIdAsync(Id, "master-2");
        var changes = history.Where(c => c.NodeId == master2Id).Take(2).Select(c => c.Health).ToList();
        Assert.Equal(["green", "red"], changes);
        Assert.Contains(history, c => c.NodeId is null && c.Health == "degraded");
    }

    [Fact]
    public async Task MachineOff_NodeRedUnreachable_ThenGreenWhenBackOn()
    {
        var media1 = Lp.Lab.Nodes[4];
        await media1.PowerOffAsync();

        var status = await WaitStatusAsync(s => NodeHealth(s, "media-1") == "red", "media-1 red");
        var node = NodeOf(status, "media-1");
        Assert.False(node["reachable"]!.GetValue<bool>());
        Assert.StartsWith("unreachable:", Reasons(status, "media-1"), StringComparison.Ordinal);
        Assert.Contains("refused", Reasons(status, "media-1"), StringComparison.Ordinal);
        Assert.Equal("degraded", Health(status));
        Assert.Contains("media node down (media-1)", status["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        await media1.PowerOnAsync();
        await WaitStatusAsync(s => NodeHealth(s, "media-1") == "green", "media-1 green again");
    }

    [Fact]
    public async Task RestartingContainer_AmberNamingIt()
    {
        Lp.Lab.Nodes[2].RestartingContainer("grafana");

        var status = await WaitStatusAsync(s => NodeHealth(s, "master-3") == "amber", "master-3 amber");

        Assert.Equal("container grafana is restarting", Reasons(status, "master-3"));
        var grafana = NodeOf(status, "master-3")["containers"]!.AsArray().Single(c => c!["name"]!.GetValue<string>() == "grafana")!;
        Assert.Equal("restarting", grafana["state"]!.GetValue<string>());
        Assert.True(grafana["restartCount"]!.GetValue<int>() >= 1);
        Assert.Equal("degraded", Health(status));
        Assert.Equal("warnings on master-3.", status["reason"]!.GetValue<string>());

        Lp.Lab.Nodes[2].RestartingContainer(null);
        await WaitStatusAsync(s => NodeHealth(s, "master-3") == "green", "master-3 green again");
    }

    [Fact]
    public async Task ClosedPort_NotSeenBetweenPortChecks_CheckPortsNowShowsItFromEveryNodeThatNeedsIt_ThenEverySweepUntilMended()
    {
        // Arrange: a healthy cluster whose port matrix ran a moment ago (the fixture keeps the 5-minute port tier).
        var before = await RefreshAsync(ports: true);
        var portsAt = before["portsCheckedAt"]!.GetValue<DateTimeOffset>();
        Lp.Lab.Nodes[0].ClosePort(7000);

        // Act 1: sweeps go on (every second) without running the matrix: the closed port is not seen yet.
        var checkedAt = before["checkedAt"]!.GetValue<DateTimeOffset>();
        var later = await WaitStatusAsync(s => s["checkedAt"]!.GetValue<DateTimeOffset>() > checkedAt.AddSeconds(2), "two more sweeps");

        // Assert 1: the cells still show the answers of the port check, with its time; no port check ran.
        Assert.Equal("green", NodeHealth(later, "master-1"));
        Assert.Equal(0, later["portChecksRun"]!.GetValue<int>());
        Assert.Equal(portsAt, later["portsCheckedAt"]!.GetValue<DateTimeOffset>());
        var stale = NodeOf(later, "master-1")["ports"]!.AsArray().Where(p => p!["port"]!.GetValue<int>() == 7000).ToList();
        Assert.Equal(5, stale.Count);
        Assert.All(stale, p => Assert.True(p!["checkedAt"]!.GetValue<DateTimeOffset>() <= portsAt.AddSeconds(1)));

        // Act 2: "check ports now".
        var status = await RefreshAsync(ports: true);

        // Assert 2: closed from every node that needs it, checked in this sweep.
        var redis = NodeOf(status, "master-1")["ports"]!.AsArray().Where(p => p!["port"]!.GetValue<int>() == 7000).ToList();
        Assert.Equal(5, redis.Count);
        Assert.All(redis, p => Assert.False(p!["open"]!.GetValue<bool>()));
        Assert.All(redis, p => Assert.Equal(status["checkedAt"]!.GetValue<DateTimeOffset>(), p!["checkedAt"]!.GetValue<DateTimeOffset>()));
        Assert.True(status["portChecksRun"]!.GetValue<int>() > 100, status["portChecksRun"]!.ToJsonString()); // the whole matrix of 6 nodes
        Assert.Equal("amber", NodeHealth(status, "master-1"));
        Assert.Equal("port 7000/tcp closed from master-2, master-3, master-4, media-1, media-2", Reasons(status, "master-1"));
        Assert.All(NodeOf(status, "master-1")["ports"]!.AsArray().Where(p => p!["port"]!.GetValue<int>() != 7000), p => Assert.True(p!["open"]!.GetValue<bool>()));

        // Act 3, Assert 3: the failed checks run every sweep, so mending it turns the node green without asking; only they run.
        var failing = await WaitStatusAsync(s => s["checkedAt"]!.GetValue<DateTimeOffset>() > status["checkedAt"]!.GetValue<DateTimeOffset>(), "the next sweep");
        Assert.Equal(5, failing["portChecksRun"]!.GetValue<int>());
        Lp.Lab.Nodes[0].OpenPort(7000);
        await WaitStatusAsync(s => NodeHealth(s, "master-1") == "green", "master-1 green again");
    }

    [Fact]
    public async Task MastersDown_TwoDegraded_ThreeDown_ThenHealthy()
    {
        var masters = Lp.Lab.Nodes.Take(3).ToList();
        await masters[0].PowerOffAsync();
        Assert.Equal(0, (await masters[1].RunAsRootAsync("systemctl stop openvidu")).ExitCode);

        var two = await WaitStatusAsync(s => NodeHealth(s, "master-1") == "red" && NodeHealth(s, "master-2") == "red", "two masters red");
        Assert.Equal("degraded", Health(two));
        Assert.StartsWith("2 masters down (master-1, master-2): egress", two["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        Assert.Equal(0, (await masters[2].RunAsRootAsync("systemctl stop openvidu")).ExitCode);
        var three = await WaitStatusAsync(s => Health(s) == "down", "cluster down");
        Assert.StartsWith("3 masters down (master-1, master-2, master-3)", three["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        await masters[0].PowerOnAsync();
        Assert.Equal(0, (await masters[1].RunAsRootAsync("systemctl start openvidu")).ExitCode);
        Assert.Equal(0, (await masters[2].RunAsRootAsync("systemctl start openvidu")).ExitCode);
        await WaitStatusAsync(s => Health(s) == "healthy", "healthy again");
    }

    [Fact]
    public async Task Metrics_WithToken_InPrometheusText_WithoutSignIn_401()
    {
        await RefreshAsync();

        var response = await Lp.Api.GetAsync("/metrics");
        var text = await response.Content.ReadAsStringAsync();
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("text/plain", response.Content.Headers.ContentType!.MediaType);
        Assert.Contains("ovha_node_up{cluster=\"watched\",node=\"master-1\",role=\"master\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_node_health{cluster=\"watched\",node=\"media-2\",role=\"media\",health=\"green\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_cluster_health{cluster=\"watched\",health=\"healthy\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_container_restarts{cluster=\"watched\",node=\"master-1\",role=\"master\",container=\"caddy\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_jobs{kind=\"install\",state=\"succeeded\"} 1\n", text, StringComparison.Ordinal);

        using var anonymous = Lp.Panel.CreateClient(new() { AllowAutoRedirect = false });
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        anonymous.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", "ovha_not_a_token_0000000000000000000000");
        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
    }

    [Fact]
    public async Task Status_UnknownCluster_404ProblemDetails()
    {
        var response = await Lp.Api.GetAsync("/api/clusters/999/status");

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await Lp.Api.PostAsync("/api/clusters/999/status/refresh", null)).StatusCode);
    }

    private async Task<JsonObject> RefreshAsync(bool ports = false)
    {
        var response = await Lp.Api.PostAsync($"/api/clusters/{Id}/status/refresh{(ports ? "?ports=true" : "")}", null);
        var text = await response.Content.ReadAsStringAsync();
        Assert.True(response.StatusCode == HttpStatusCode.OK, text);
        return JsonNode.Parse(text)!.AsObject();
    }

    private async Task<JsonObject> WaitStatusAsync(Func<JsonObject, bool> until, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = (await Lp.Api.GetFromJsonAsync<JsonObject>($"/api/clusters/{Id}/status"))!;
            if (until(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Not {what} after {seconds} s: {last?.ToJsonString()}");
    }

    private static async Task WaitUntilAsync(Func<bool> until, string what, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!until())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not {what} after {seconds} s");
            await Task.Delay(50);
        }
    }

    private async Task<IReadOnlyList<StatusChange>> HistoryAsync() =>
        await Lp.Panel.Services.GetRequiredService<StatusCollector>().HistoryAsync(Id, 100, CancellationToken.None);

    private static string Health(JsonObject status) => status["health"]!.GetValue<string>();

    private static JsonObject NodeOf(JsonObject status, string name) =>
        status["nodes"]!.AsArray().Single(n => n!["name"]!.GetValue<string>() == name)!.AsObject();

    private static string NodeHealth(JsonObject status, string name) => NodeOf(status, name)["health"]!.GetValue<string>();

    private static string Reasons(JsonObject status, string name) =>
        string.Join("; ", NodeOf(status, name)["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
}
