using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// The Status tab at scale and with every kind of trouble: 4 masters and 100 media nodes. The status is published into
/// the panel's real <see cref="StatusStore"/> (what a sweep does at its end) rather than swept from 104 installed lab
/// nodes: this is about the page — the picture's tiles, red cells, troubled containers, a live change among 104 nodes and
/// the phone width — and the lab flow (<see cref="StatusFlowTests"/>) covers the sweep. No node is installed, so the
/// panel's own sweeps leave this cluster alone.
/// </summary>
[Trait("Category", "Browser")]
public sealed class StatusLayoutTests() : OwnPanelTest("operator", "status-layout-password-1", "ovha_browser_layout_0123456789abcdef0123456789",
    new Dictionary<string, string> { ["Clusters:MaxNodes"] = "1000" }) // a cluster of 1,000 (the default allows 500)
{
    private const int MediaCount = 100;

    [Fact]
    public async Task StatusTab_HundredMediaNodesWithTrouble_RendersEveryNodeAndFitsAPhone()
    {
        // Arrange: 104 nodes, a mix of verdicts, published like a sweep's result.
        var cluster = await CreateClusterAsync();
        var store = Server.Services.GetRequiredService<StatusStore>();
        store.Update(Status(cluster, media57: NodeHealth.Red));
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        var list = new ClusterListPage(page);
        await list.WaitUntilInteractiveAsync();
        await Expect(list.Health("layout")).ToHaveAttributeAsync("data-health", "degraded");

        // Act
        await page.GotoAsync($"clusters/{cluster.Id}");
        var clusterPage = new ClusterPage(page);
        await clusterPage.WaitUntilInteractiveAsync();
        await clusterPage.OpenTabAsync("Status");
        var status = new StatusTab(page);

        // Assert: every node as a card and a tile; colours, reasons and tooltips where they belong.
        await Expect(status.NodeCards).ToHaveCountAsync(4 + MediaCount);
        await Expect(page.Locator("[data-testid^='topo-node-']")).ToHaveCountAsync(4 + MediaCount);
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "degraded");
        await Expect(status.LoadBalancer).ToHaveAttributeAsync("data-health", "red");
        await Expect(status.LoadBalancer.Locator("title")).ToContainTextAsync("connection refused");
        await Expect(status.TopologyNode("master-2")).ToHaveAttributeAsync("data-health", "amber");
        await Expect(status.TopologyNode("media-57")).ToHaveAttributeAsync("data-health", "red");
        await Expect(status.TopologyNode("media-100")).ToHaveAttributeAsync("data-health", "grey");
        await Expect(status.NodeCard("media-100")).ToHaveAttributeAsync("data-health", "grey");
        await Expect(status.NodeReasons("media-100")).ToContainTextAsync("Not watched: not installed yet.");
        await Expect(status.NodeReasons("media-57")).ToContainTextAsync("unreachable: connection refused");
        await Expect(status.Container("media-3", "ingress")).ToHaveAttributeAsync("data-trouble", "restarting"); // opened by itself
        await Expect(status.Container("master-2", "mongo")).ToHaveAttributeAsync("data-trouble", "restarted");
        var closed = status.Port("media-5", 7880, "masters");
        await Expect(closed).ToHaveAttributeAsync("data-open", "false");
        await Expect(closed).ToHaveTextAsync("3/4");
        await Expect(closed).ToHaveAttributeAsync("title", new System.Text.RegularExpressions.Regex("closed from master-3 \\(refused or unreachable\\)"));
        await Expect(status.Port("media-6", 7880, "masters")).ToHaveAttributeAsync("data-open", "true");

        // The picture stays a sensible size: 100 tiles in ten rows, none too small to see, none outside the drawing.
        var svg = (await page.GetByTestId("topology").BoundingBoxAsync())!;
        Assert.InRange(svg.Height, 300, 1000);
        var tile = (await status.TopologyNode("media-100").Locator("rect").BoundingBoxAsync())!;
        Assert.True(tile.Width >= 30 && tile.Y + tile.Height <= svg.Y + svg.Height, $"tile {tile.Width}x{tile.Height} at {tile.Y}, drawing {svg.Height} high at {svg.Y}");

        // A sweep's change among 104 nodes reaches the open page by itself.
        await page.EvaluateAsync("() => { window.__statusMarker = 'same page'; }");
        store.Update(Status(cluster, media57: NodeHealth.Green));
        await Expect(status.TopologyNode("media-57")).ToHaveAttributeAsync("data-health", "green");
        await Expect(status.NodeCard("media-57")).ToHaveAttributeAsync("data-health", "green");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__statusMarker"));

        // With 104 nodes, the cards can be narrowed to the ones that need a look: amber, red, grey.
        await page.GetByTestId("nodes-not-green-only").ClickAsync();
        await Expect(status.NodeCards).ToHaveCountAsync(4);
        await Expect(status.NodeCard("media-100")).ToBeVisibleAsync();

        // A phone: nothing wider than the screen; the picture's tiles give way to a readable list of every node.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "the status tab is wider than a 390 px screen");
        await Expect(page.GetByTestId("topology")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("topology-list").Locator("li")).ToHaveCountAsync(1 + 4 + MediaCount);
        await Expect(page.GetByTestId("topology-list-media-57")).ToContainTextAsync("media-57 media · healthy");
        await Expect(page.GetByTestId("topology-list-master-2")).ToContainTextAsync("master-2 master · warning");
        var row = (await page.GetByTestId("topology-list-media-100").BoundingBoxAsync())!;
        Assert.True(row.Height < 30, $"a node's line is {row.Height} px tall on a phone (its name wrapped?)");
    }

    [Fact]
    public async Task StatusTab_ThousandNodes_SummarizesTroubleAndCountsTheRest_AtDesktopAndPhoneWidth()
    {
        // Arrange: 4 masters and 996 media nodes, the same trouble as above, published like a sweep's result.
        var cluster = await CreateClusterAsync(media: 996, name: "thousand");
        var store = Server.Services.GetRequiredService<StatusStore>();
        store.Update(Status(cluster, media57: NodeHealth.Red));
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);

        // Act
        await page.GotoAsync($"clusters/{cluster.Id}");
        var clusterPage = new ClusterPage(page);
        await Expect(page.GetByTestId("delete-cluster")).ToBeEnabledAsync(new() { Timeout = 60_000 });
        // The Nodes tab pages the 1,000 nodes 50 at a time, and its filter finds one among them.
        var nodeRows = page.Locator("[data-testid='nodes-table'] tbody tr");
        await Expect(nodeRows).ToHaveCountAsync(50);
        await Expect(page.GetByTestId("nodes-pager")).ToContainTextAsync("1-50 of 1,000");
        await page.GetByTestId("nodes-filter").FillAsync("media-777");
        await Expect(nodeRows).ToHaveCountAsync(1);
        await Expect(nodeRows.First).ToContainTextAsync("media-777");
        await clusterPage.OpenTabAsync("Status");
        var status = new StatusTab(page);
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "degraded", new() { Timeout = 60_000 });

        // Assert: the picture draws the masters and the media nodes that are not green, and counts the 992 green ones.
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "degraded");
        await Expect(page.Locator("[data-testid^='topo-node-']")).ToHaveCountAsync(4 + 4);
        await Expect(status.TopologyNode("media-57")).ToHaveAttributeAsync("data-health", "red");
        await Expect(status.TopologyNode("media-100")).ToHaveAttributeAsync("data-health", "grey");
        await Expect(page.GetByTestId("topo-media-summary")).ToHaveAttributeAsync("data-green", "992");
        await Expect(page.GetByTestId("topology")).ToContainTextAsync("media nodes (996): 992 healthy, 1 failing, 2 warning, 1 not checked");
        // The cards start narrowed to the 5 nodes that need a look; the containers to the troubled ones.
        await Expect(status.NodeCards).ToHaveCountAsync(5);
        await Expect(page.GetByText("Only nodes that are not healthy (5 of 1000)")).ToBeVisibleAsync();
        await Expect(page.Locator("[data-testid^='containers-toggle-']")).ToHaveCountAsync(2); // master-2 (restarted), media-3 (restarting)
        // The media matrix draws media-5 (a closed check) and media-57 (no check: down), and adds up the other 993.
        await Expect(status.Port("media-5", 7880, "masters")).ToHaveTextAsync("3/4");
        await Expect(page.Locator("[data-testid='port-matrix-media'] tbody tr")).ToHaveCountAsync(3);
        var summary = page.GetByTestId("port-summary-media");
        await Expect(summary).ToHaveAttributeAsync("data-nodes", "993");
        await Expect(summary).ToContainTextAsync("3972/3972"); // 993 nodes × 4 masters' checks of 7880
        // What the browser holds stays small: the page is a summary, not 1,000 cards and 1,000 rows.
        var elements = await page.EvaluateAsync<int>("() => document.querySelectorAll('*').length");
        Assert.True(elements < 6000, $"{elements} elements on the page");

        // A sweep's change reaches the open page: media-57 is green again and joins the count.
        store.Update(Status(cluster, media57: NodeHealth.Green));
        await Expect(page.GetByTestId("topo-media-summary")).ToHaveAttributeAsync("data-green", "993");
        await Expect(page.Locator("[data-testid^='topo-node-media-57']")).ToHaveCountAsync(0);
        await Expect(status.NodeCards).ToHaveCountAsync(4);

        // A phone: nothing wider than the screen.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "the status tab of 1,000 nodes is wider than a 390 px screen");
        // On a phone the picture gives way to a list of the same nodes (the picture's labels would be unreadable).
        await Expect(page.GetByTestId("topology")).ToBeHiddenAsync();
        await Expect(page.GetByTestId("topology-list-summary")).ToContainTextAsync("993 healthy (not drawn one by one)");
        await Expect(page.GetByTestId("topology-list-media-100")).ToContainTextAsync("media-100 media · not checked");
        await Expect(page.GetByTestId("topology-list-media-57")).ToHaveCountAsync(0);
    }

    private async Task<ClusterView> CreateClusterAsync(int media = MediaCount, string name = "layout")
    {
        var key = (await SshKeys.GenerateEd25519Async()).PrivateKey;
        using var api = Api();
        ClusterApi.Node Node(int i) => new($"10.20.{i / 250}.{i % 250 + 1}", key);
        var id = await ClusterApi.CreateAsync(api, name, "3.8.0", ["observability"], "http://127.0.0.1:9/",
            Enumerable.Range(0, 4).Select(Node).ToList(), Enumerable.Range(4, media).Select(Node).ToList(), licenseKey: "LAYOUTLICENSE");
        return (await Server.Services.GetRequiredService<ClusterService>().GetAsync(id))!;
    }

    /// <summary>What a sweep could have found: master-2 amber (a restarted container), media-3 amber (one restarting),
    /// media-5 amber (7880 closed from master-3), media-57 as given, media-100 not installed; the rest green.</summary>
    private static ClusterStatus Status(ClusterView cluster, NodeHealth media57)
    {
        var at = DateTimeOffset.UtcNow;
        var masters = cluster.Nodes.Where(n => n.Role == NodeRole.Master).Select(n => n.Name).ToList();
        var nodes = cluster.Nodes.Select(n =>
        {
            var role = n.Role;
            if (n.Name == "media-100")
                return new NodeStatus { NodeId = n.Id, Name = n.Name, Role = role, PrivateIp = n.PrivateIp, NotWatched = "not installed yet" };
            var containers = role == NodeRole.Master
                ? new List<ContainerStatus> { new("caddy", "openvidu/caddy:3.8.0", "running", "Up 2 hours", 0), new("mongo", "mongo:8.0.19", "running", "Up 3 minutes", n.Name == "master-2" ? 3 : 0) }
                : [new("openvidu", "openvidu/openvidu-server-pro:3.8.0", "running", "Up 2 hours", 0), new("ingress", "openvidu/ingress:3.8.0", n.Name == "media-3" ? "restarting" : "running", n.Name == "media-3" ? "Restarting (1) 4 seconds ago" : "Up 2 hours", n.Name == "media-3" ? 7 : 0)];
            var ports = new List<PortCheck> { new(7880, "http", "panel", true, "HTTP 200") };
            if (role == NodeRole.Media) ports.AddRange(masters.Select(m => new PortCheck(7880, "tcp", m, !(n.Name == "media-5" && m == "master-3"), n.Name == "media-5" && m == "master-3" ? "refused or unreachable" : null)));
            else ports.AddRange(masters.Where(m => m != n.Name).Select(m => new PortCheck(7000, "tcp", m, true)));
            var (health, reasons) = n.Name switch
            {
                "master-2" => (NodeHealth.Amber, new[] { "container mongo restarted since the last check" }),
                "media-3" => (NodeHealth.Amber, ["container ingress is restarting"]),
                "media-5" => (NodeHealth.Amber, ["port 7880/tcp closed from master-3"]),
                "media-57" when media57 == NodeHealth.Red => (NodeHealth.Red, ["unreachable: connection refused; / on 7880: connection refused"]),
                _ => (NodeHealth.Green, Array.Empty<string>()),
            };
            var down = health == NodeHealth.Red;
            return new NodeStatus
            {
                NodeId = n.Id, Name = n.Name, Role = role, PrivateIp = n.PrivateIp, Reachable = !down, RttMs = down ? null : 42.5,
                Service = down ? "unknown" : "active", Health = health, Reasons = reasons, CheckedAt = at,
                Containers = down ? [] : containers, Ports = down ? [] : ports,
                Resources = down ? null : new NodeResources(0.5, 0.4, 0.3, 4, 8_000_000, 5_000_000, 100_000_000, 40_000_000, "/opt/openvidu"),
            };
        }).ToList();
        return new ClusterStatus
        {
            ClusterId = cluster.Id, ClusterName = cluster.Name, CheckedAt = at, SweepDuration = TimeSpan.FromMilliseconds(850),
            Health = ClusterHealth.Degraded, Reason = "warnings on master-2, media-3, media-5; load balancer: connection refused.",
            LoadBalancer = new LoadBalancerStatus("https://openvidu.example.io/health/caddy via 10.20.9.9", true, false, "connection refused"),
            Nodes = nodes,
        };
    }
}
