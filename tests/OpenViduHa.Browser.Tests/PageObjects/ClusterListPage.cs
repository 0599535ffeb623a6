using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary><c>/clusters</c>.</summary>
public sealed class ClusterListPage(IPage page)
{
    public ILocator EmptyState => page.GetByTestId("clusters-empty");
    public ILocator Link(string clusterName) => page.GetByTestId($"cluster-link-{clusterName}");

    /// <summary>The cluster's health chip (<c>data-health</c> healthy, degraded, down or unknown), live from the status sweeps.</summary>
    public ILocator Health(string clusterName) => page.GetByTestId($"cluster-health-{clusterName}");

    public async Task GotoAsync()
    {
        await page.GotoAsync("clusters");
        await WaitUntilInteractiveAsync();
    }

    /// <summary>The list renders on the server first; links clicked before the circuit is connected can be lost.</summary>
    public Task WaitUntilInteractiveAsync() =>
        Assertions.Expect(page.GetByTestId("clusters-page")).ToHaveAttributeAsync("data-interactive", "true");

    /// <summary>True when the page is no wider than the viewport: nothing makes the phone scroll sideways.</summary>
    /// <summary>
    /// True once nothing is wider than the window. MudBlazor lays some parts out again through JS after a resize (the tab
    /// bar gets its scroll buttons a moment later), so this waits up to 5 s for the page to settle before it says no.
    /// </summary>
    public static async Task<bool> FitsViewportAsync(IPage page)
    {
        try
        {
            await page.WaitForFunctionAsync("() => document.documentElement.scrollWidth <= window.innerWidth", null, new() { Timeout = 5_000 });
            return true;
        }
        catch (TimeoutException)
        {
            return false;
        }
    }
}
