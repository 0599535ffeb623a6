using System.Runtime.Versioning;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator fetches the installer scripts' digests through a node and pins them, against the lab's https server.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class InstallerPinFlowTests : IAsyncLifetime
{
    private LabSession _session = null!;

    public async Task InitializeAsync() => _session = await LabSession.StartAsync(new LabOptions { Nodes = 5 });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task FetchDigests_ThenPinThem_PanelShowsThePinnedDigests()
    {
        // Arrange
        var clusterId = await _session.CreateClusterAsync("browser-pins", "3.8.0", ["openviduMeet"], media: 1);
        var page = await _session.SignedInPageAsync();
        await page.GotoAsync($"clusters/{clusterId}");
        await new ClusterPage(page).WaitUntilInteractiveAsync();
        var master = _session.Lab.InstallerSha256("3.8.0", masterNode: true);
        var media = _session.Lab.InstallerSha256("3.8.0", masterNode: false);
        await Expect(page.GetByTestId("installer-transport")).ToHaveTextAsync("https only");
        await Expect(page.GetByTestId("installer-pinned")).ToHaveTextAsync("not pinned");

        // Act: fetch through a node (the Jobs tab shows the job), then pin what came back.
        await page.GetByTestId("installer-fetch").ClickAsync();
        await Expect(new JobsTab(page).SelectedState).ToHaveTextAsync("succeeded", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("installer-fetched")).ToContainTextAsync(master, new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("installer-fetched")).ToContainTextAsync(media);
        await page.GetByTestId("installer-pin-fetched").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Pin" }).ClickAsync();

        // Assert
        await Expect(page.GetByTestId("installer-pinned")).ToHaveTextAsync("SHA-256 pinned", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("pinned-master")).ToHaveTextAsync(master);
        await Expect(page.GetByTestId("pinned-media")).ToHaveTextAsync(media);
        await Expect(page.GetByTestId("installer-fetched")).ToHaveCountAsync(0);
    }
}
