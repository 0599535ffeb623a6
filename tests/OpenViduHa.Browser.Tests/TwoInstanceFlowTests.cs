using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// Two panel processes on one PostgreSQL: an operator's browser on instance B follows, live, an install that instance A
/// runs (its nodes' states and its log), carried from A to B by PostgreSQL's LISTEN/NOTIFY.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed class TwoInstanceFlowTests
{
    [Fact]
    public async Task JobRunningOnA_SeenLiveByABrowserOnB()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromSeconds(3) });
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Panel"] = database,
            ["Status:Enabled"] = "false",
            ["Jobs:HealthPollInterval"] = "00:00:00.200",
        };
        await using var a = await PanelProcess.StartAsync("a", settings);
        await using var b = await PanelProcess.StartAsync("b", new Dictionary<string, string?>(settings) { ["Jobs:Workers"] = "0" }); // runs no job: the install can only run on A
        var nodes = lab.Nodes;
        var clusterId = await ClusterApi.CreateAsync(a.Api(), "followed", "3.8.0", ["observability", "openviduMeet"], lab.InstallerHttpsBaseUrl,
            [.. nodes.Take(4).Select(Node)], [Node(nodes[4])]);

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.SignedInPageAsync(browser, b.BaseAddress, PanelProcess.AdminUser, PanelProcess.AdminPassword);
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Jobs");
        var jobs = new JobsTab(page);

        var started = await a.Api().PostAsJsonAsync($"api/clusters/{clusterId}/jobs", new { kind = "install" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);

        var jobId = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();

        // Nobody reloads B's page: the job appears; opened, its masters run, its log fills, and it ends, as A reports them.
        var row = page.GetByTestId($"job-{jobId}");
        await Expect(row).ToBeVisibleAsync(new() { Timeout = 30_000 });
        await row.ClickAsync();
        await Expect(jobs.NodeState("master-1")).ToContainTextAsync("running", new() { Timeout = 30_000 });
        await Expect(jobs.Log).ToContainTextAsync("OpenVidu installer", new() { Timeout = 30_000 });
        await Expect(jobs.SelectedState).ToContainTextAsync("succeeded", new() { Timeout = 60_000 });
        await Expect(jobs.NodeState("media-1")).ToContainTextAsync("succeeded");
        Assert.Contains("Listening for the other instances' changes", b.Output, StringComparison.Ordinal);
        await page.Context.CloseAsync();

        ClusterApi.Node Node(LabNode n) => new(n.Address, lab.Keys.Ed25519.PrivateKey, n.Port, n.HostKeyFingerprint);
    }
}
