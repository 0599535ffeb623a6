using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// An operator watches an installed cluster's Status tab while a master's service stops and starts again on a lab of
/// real sshd nodes: the page follows by itself (status sweeps every second, pushed to the open page), without a reload.
/// </summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class StatusFlowTests : IAsyncLifetime
{
    private const string ClusterName = "browser-status";
    private static readonly string[] NodeNames = ["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"];

    /// <summary>The machine is shared and loaded (2 cores, load 5-14): a sweep can take seconds, a verdict two sweeps.</summary>
    private static readonly LocatorAssertionsToHaveAttributeOptions Sweeps = new() { Timeout = 30_000 };

    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 6, InstallerDelay = TimeSpan.FromMilliseconds(200) },
            new Dictionary<string, string> { ["Status:Interval"] = "00:00:01" });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task StatusTab_MasterServiceStopsAndStarts_SamePageTurnsRedThenGreen()
    {
        // Arrange: a cluster really installed on the lab's nodes (through the API: the install flow has its own test).
        var clusterId = await CreateAndInstallClusterAsync();
        var page = await _session.SignedInPageAsync();
        var list = new ClusterListPage(page);
        await list.WaitUntilInteractiveAsync();
        await Expect(list.Health(ClusterName)).ToHaveAttributeAsync("data-health", "healthy", Sweeps);
        await list.Link(ClusterName).ClickAsync();
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Status");
        var status = new StatusTab(page);
        foreach (var node in NodeNames)
        {
            await Expect(status.NodeCard(node)).ToHaveAttributeAsync("data-health", "green", Sweeps);
            await Expect(status.TopologyNode(node)).ToHaveAttributeAsync("data-health", "green");
        }
        await Expect(status.NodeCards).ToHaveCountAsync(NodeNames.Length);
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "healthy");
        await Expect(status.LoadBalancer).ToHaveAttributeAsync("data-health", "grey"); // the domain does not resolve here
        await Expect(status.Port("master-1", 7000, "masters")).ToHaveAttributeAsync("data-open", "true");
        await Expect(status.Port("master-1", 7000, "masters")).ToHaveTextAsync("3/3");
        await status.OpenContainersAsync("master-1");
        await Expect(status.Container("master-1", "redis-server")).ToHaveAttributeAsync("data-state", "running");
        var url = page.Url;
        await page.EvaluateAsync("() => { window.__statusMarker = 'same page'; }");

        // Act: master-1's service stops, on the node itself (not through the panel).
        var stop = await _session.Lab.Nodes[0].RunAsRootAsync("systemctl stop openvidu");
        Assert.True(stop.ExitCode == 0, stop.Error);

        // Assert: the open page turns master-1 red by itself, with the reason, and the cluster degraded.
        await Expect(status.NodeCard("master-1")).ToHaveAttributeAsync("data-health", "red", Sweeps);
        await Expect(status.NodeReasons("master-1")).ToContainTextAsync("openvidu service is inactive");
        await Expect(status.NodeService("master-1")).ToHaveTextAsync("inactive");
        await Expect(status.TopologyNode("master-1")).ToHaveAttributeAsync("data-health", "red");
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "degraded");
        await Expect(status.ClusterHealth).ToContainTextAsync("degraded");
        await Expect(status.ClusterReason).ToContainTextAsync("1 master down (master-1)");
        await Expect(status.Port("master-1", 7000, "masters")).ToHaveAttributeAsync("data-open", "false");
        await Expect(status.Port("master-1", 7880, "panel")).ToHaveAttributeAsync("data-open", "false");
        await Expect(status.Container("master-1", "redis-server")).ToHaveAttributeAsync("data-state", "exited");
        await Expect(status.NodeHistory("master-1")).ToContainTextAsync("openvidu service is inactive", new() { Timeout = 30_000 });
        await Expect(status.ClusterHistory).ToContainTextAsync("degraded");
        foreach (var node in NodeNames.Skip(1))
            await Expect(status.NodeCard(node)).ToHaveAttributeAsync("data-health", "green");
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__statusMarker"));
        Assert.Equal(url, page.Url);
        await SaveScreenshotAsync(page);

        // The tab fits a phone.
        await page.SetViewportSizeAsync(390, 844);
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "the status tab is wider than a 390 px screen");
        await page.SetViewportSizeAsync(1280, 900);

        // The service starts again: green, on the same page.
        var start = await _session.Lab.Nodes[0].RunAsRootAsync("systemctl start openvidu");
        Assert.True(start.ExitCode == 0, start.Error);
        await Expect(status.NodeCard("master-1")).ToHaveAttributeAsync("data-health", "green", Sweeps);
        await Expect(status.TopologyNode("master-1")).ToHaveAttributeAsync("data-health", "green");
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "healthy", Sweeps);
        await Expect(status.NodeReasons("master-1")).ToHaveTextAsync("All checks pass.");

        // "Refresh now" sweeps at once and gives the button back.
        var before = await status.CheckedAtAsync();
        await status.Refresh.ClickAsync();
        await Expect(status.Checked).Not.ToHaveAttributeAsync("data-checked-at", before.ToString(System.Globalization.CultureInfo.InvariantCulture));
        await Expect(status.Refresh).ToBeEnabledAsync(new() { Timeout = 30_000 });
        await Expect(page.Locator(".mud-snackbar")).ToHaveCountAsync(0);

        // The port matrix runs on its own tier: "Check ports now" runs all of it, and every cell says when it ran.
        var portsBefore = await status.PortsChecked.GetAttributeAsync("data-checked-at");
        Assert.Equal(portsBefore, await status.Port("master-2", 7000, "masters").GetAttributeAsync("data-checked-at"));
        await status.CheckPorts.ClickAsync();
        await Expect(status.PortsChecked).Not.ToHaveAttributeAsync("data-checked-at", portsBefore!, Sweeps);
        var portsAfter = await status.PortsChecked.GetAttributeAsync("data-checked-at");
        await Expect(status.Port("master-2", 7000, "masters")).ToHaveAttributeAsync("data-checked-at", portsAfter!);
        await Expect(status.CheckPorts).ToBeEnabledAsync(new() { Timeout = 30_000 });
        Assert.Equal("same page", await page.EvaluateAsync<string>("() => window.__statusMarker"));
    }

    /// <summary>
    /// OpenVidu 3.0.0 without modules: the lab's service stand-in listens on the ports such a master and media node open
    /// (7880, 7000-7001, 9100, 20000; media 7880), so every port check passes and every node can be green.
    /// </summary>
    private async Task<int> CreateAndInstallClusterAsync()
    {
        var clusterId = await _session.CreateClusterAsync(ClusterName, "3.0.0", [], media: 2);
        using var api = _session.Api();

        var job = await api.PostAsJsonAsync($"api/clusters/{clusterId}/jobs", new { kind = "install" });
        Assert.True(job.IsSuccessStatusCode, await job.Content.ReadAsStringAsync());
        var jobId = (await job.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var deadline = DateTime.UtcNow.AddSeconds(120);
        string state;
        while ((state = (await api.GetFromJsonAsync<JsonObject>($"api/jobs/{jobId}"))!["state"]!.GetValue<string>()) is "queued" or "running")
        {
            Assert.True(DateTime.UtcNow < deadline, $"the install job is still {state} after 120 s");
            await Task.Delay(250);
        }
        Assert.Equal("succeeded", state);
        Assert.All(_session.Lab.Nodes.Take(6), n => Assert.True(n.ServiceActive, $"{n.Name}: the service is not running after the install"));
        return clusterId;
    }

    /// <summary>With UPDATE_SCREENSHOT=1, docs/status.png: the Status tab at 1280 px with one master down.</summary>
    private static async Task SaveScreenshotAsync(IPage page)
    {
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOT") != "1") return;
        var path = Path.Combine(RepoRoot.Path, "docs", "status.png");
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        // From the top: a full-page shot of a scrolled page draws the fixed app bar where the view was.
        await page.EvaluateAsync("() => window.scrollTo(0, 0)");
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path, FullPage = true });
    }
}
