using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator rotates a secret from the Jobs tab: the plan of what is ticked first, then the job.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class ReconfigureFlowTests : IAsyncLifetime
{
    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromMilliseconds(300) });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task RotateFromTheJobsTab_PlanFollowsWhatIsTicked_ThenTheJobRuns()
    {
        var clusterId = await _session.CreateClusterAsync("browser-reconfigure", "3.8.0", ["observability", "openviduMeet"], media: 1);
        await _session.InstallAsync(clusterId);
        var envBefore = _session.Lab.Nodes[0].ReadFile("/opt/openvidu/config/cluster/openvidu.env")!;

        var page = await _session.SignedInPageAsync();
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Jobs");
        await page.GetByTestId("job-reconfigure").ClickAsync();

        // Nothing ticked: nothing to plan. The dashboard password alone: only the masters restart. The LiveKit secret: a full stop, applications warned.
        await Expect(page.GetByTestId("reconfigure-refusal")).ToContainTextAsync("Nothing to change");
        await Expect(page.GetByTestId("reconfigure-yes")).ToBeDisabledAsync();
        await page.GetByTestId("rotate-dashboardAdminPassword").ClickAsync();
        await Expect(page.GetByTestId("reconfigure-steps")).ToContainTextAsync("Restart the masters one at a time");
        await Expect(page.GetByTestId("reconfigure-changes")).ToContainTextAsync("DASHBOARD_ADMIN_PASSWORD");
        await Expect(page.GetByTestId("reconfigure-apps")).ToHaveCountAsync(0);
        await page.GetByTestId("rotate-livekitApiSecret").ClickAsync();
        await Expect(page.GetByTestId("reconfigure-steps")).ToContainTextAsync("Stop every node");
        await Expect(page.GetByTestId("reconfigure-apps")).ToBeVisibleAsync();
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("reconfigure-yes").ClickAsync();

        var jobs = new JobsTab(page);
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", new() { Timeout = 90_000 });
        await Expect(jobs.Log).ToContainTextAsync("applications must use the new ones now", new() { Timeout = 30_000 });
        var envAfter = _session.Lab.Nodes[0].ReadFile("/opt/openvidu/config/cluster/openvidu.env")!;
        Assert.NotEqual(Line(envBefore, "LIVEKIT_API_SECRET"), Line(envAfter, "LIVEKIT_API_SECRET"));
        Assert.NotEqual(Line(envBefore, "DASHBOARD_ADMIN_PASSWORD"), Line(envAfter, "DASHBOARD_ADMIN_PASSWORD"));
        Assert.Equal(Line(envBefore, "MINIO_SECRET_KEY"), Line(envAfter, "MINIO_SECRET_KEY"));
    }

    private static string Line(string env, string key) => env.Split('\n').First(l => l.StartsWith(key + "=", StringComparison.Ordinal));

}
