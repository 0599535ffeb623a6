using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary><c>/clusters/{id}</c>: header, node table and artifact downloads.</summary>
public sealed class ClusterPage(IPage page)
{
    public ILocator Name => page.GetByTestId("cluster-name");
    public ILocator Domain => page.GetByTestId("cluster-domain");
    public ILocator NodesTable => page.GetByTestId("nodes-table");

    public ILocator Facts => page.GetByTestId("cluster-facts");

    public Task WaitUntilInteractiveAsync() => Assertions.Expect(page.GetByTestId("delete-cluster")).ToBeEnabledAsync();

    public async Task OpenTabAsync(string title)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = title }).ClickAsync();
    }

    public Task EditAsync() => page.GetByTestId("edit-cluster").ClickAsync();

    /// <summary>Delete, then confirm in MudBlazor's message box; the page goes back to the list.</summary>
    public async Task DeleteAsync()
    {
        await page.GetByTestId("delete-cluster").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Delete" }).ClickAsync();
        await page.WaitForURLAsync("**/clusters");
    }

    /// <summary>Clicks the artifact's download link and returns the downloaded file's text.</summary>
    public async Task<(string FileName, string Content)> DownloadAsync(string artifact)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId($"download-{artifact}").ClickAsync());
        var path = await download.PathAsync();
        return (download.SuggestedFilename, await File.ReadAllTextAsync(path));
    }
}
