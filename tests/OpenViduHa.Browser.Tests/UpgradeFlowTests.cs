using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator upgrades an installed 3.0.0 cluster from the page: the plan first, then the job, then the new version and topology.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class UpgradeFlowTests : IAsyncLifetime
{
    private static readonly LocatorAssertionsToHaveTextOptions Job = new() { Timeout = 90_000 };
    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromMilliseconds(300) });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Upgrade300To340_FromThePage_PlanShownFirst_NewVersionAndLoadBalancerTopologyAfter()
    {
        // Arrange: an installed 3.0.0 cluster (install through the API: its own tests are elsewhere).
        var clusterId = await _session.CreateClusterAsync("browser-upgrade", "3.0.0", ["observability", "app"], media: 1);
        using var api = _session.Api();
        await _session.InstallAsync(clusterId);
        var nginxBefore = await api.GetStringAsync($"api/clusters/{clusterId}/artifacts/nginx.conf");
        Assert.DoesNotContain("upstream openvidu_api", nginxBefore, StringComparison.Ordinal); // 3.0: stream only, the guide's topology

        var page = await _session.SignedInPageAsync();
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Jobs");

        // Act: the dialog offers the releases the cluster can reach and shows the plan of the one chosen.
        await page.GetByTestId("job-upgrade").ClickAsync();
        await Expect(page.GetByTestId("upgrade-yes")).ToHaveTextAsync("Upgrade to 3.9.0"); // the newest by default
        await page.GetByTestId("upgrade-target").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = "3.4.0", Exact = true }).ClickAsync();
        await Expect(page.GetByTestId("upgrade-yes")).ToHaveTextAsync("Upgrade to 3.4.0");
        var steps = page.GetByTestId("upgrade-steps");
        await Expect(steps).ToContainTextAsync("Run OpenVidu's 3.1.0 updater on every node at once (3.0.0 → 3.1.0)");
        await Expect(steps).ToContainTextAsync("replace the load balancer's config");
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("upgrade-yes").ClickAsync();

        // Assert: the job runs to its end live; the page shows the new version; the load balancer's topology followed.
        var jobs = new JobsTab(page);
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", Job);
        await Expect(jobs.Log).ToContainTextAsync("The load balancer's topology changed with 3.4.0", new() { Timeout = 30_000 });
        await Expect(page.GetByText("OpenVidu 3.4.0")).ToBeVisibleAsync(new() { Timeout = 30_000 });
        var nginxAfter = await api.GetStringAsync($"api/clusters/{clusterId}/artifacts/nginx.conf");
        Assert.Contains("upstream openvidu_api", nginxAfter, StringComparison.Ordinal); // 3.4: the API proxied as HTTP to the masters
        Assert.All(_session.Lab.Nodes.Take(5), n => Assert.Contains("version: \"3.4.0\"", n.ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal));
    }

}
