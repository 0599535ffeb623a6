using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator retires a media node from its menu: the dialog checks the drain timeout at its field, then the job drains it and it leaves the list.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class RemoveNodeFlowTests : IAsyncLifetime
{
    private static readonly LocatorAssertionsToHaveTextOptions Job = new() { Timeout = 90_000 };
    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 6, InstallerDelay = TimeSpan.FromMilliseconds(300) },
            new Dictionary<string, string> { ["Jobs:DrainPollInterval"] = "00:00:00.500" });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task RemoveAMediaNode_FromItsMenu_DrainTimeoutCheckedAtTheField_DrainedAndGone()
    {
        // Arrange: an installed 3.8.0 cluster with 2 media nodes; media-2 hosts a room that ends while it drains.
        var clusterId = await _session.CreateClusterAsync("browser-remove", "3.8.0", ["observability", "openviduMeet"], media: 2);
        await _session.InstallAsync(clusterId);
        var media2 = _session.Lab.Nodes[5];
        media2.Rooms = 1;

        var page = await _session.SignedInPageAsync();
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Nodes");

        // Act: the node's menu, the dialog; a duration that is not one stays in the dialog with the reason at the field.
        await page.GetByRole(AriaRole.Button, new() { Name = "Actions for media-2" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = "Remove from the cluster…" }).ClickAsync();
        await Expect(page.GetByTestId("node-change-impact")).ToContainTextAsync("media-2 takes no new rooms and waits for its rooms to end");
        var drain = page.GetByTestId("drain-timeout");
        await drain.FillAsync("soon");
        await page.GetByTestId("node-change-yes").ClickAsync();
        await Expect(page.GetByText("Write hh:mm:ss, e.g. 00:30:00.")).ToBeVisibleAsync();
        await drain.FillAsync("00:02:00");
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("node-change-yes").ClickAsync();

        // Assert: the job drains the node (its room counted), then it leaves the cluster and the list.
        var jobs = new JobsTab(page);
        await Expect(jobs.Log).ToContainTextAsync("Draining: 1 room still on media-2", new() { Timeout = 60_000 });
        media2.Rooms = 0;
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", Job);
        await Expect(jobs.Log).ToContainTextAsync("media-2 left the cluster's definition.", new() { Timeout = 30_000 });
        await cluster.OpenTabAsync("Nodes");
        await Expect(cluster.NodesTable).Not.ToContainTextAsync("media-2", new() { Timeout = 30_000 });
        Assert.False(media2.ServiceEnabled);
        Assert.Equal("drained", Assert.Single(media2.Drains).Outcome);
    }

}
