using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>The cluster page's Jobs tab: start a job, watch its nodes and its live log.</summary>
public sealed class JobsTab(IPage page)
{
    public ILocator Log => page.GetByTestId("job-log");
    public ILocator LogLines => page.Locator("[data-testid=job-log] .job-log-line");
    public ILocator LogCount => page.GetByTestId("job-log-count");
    public ILocator Follow => page.GetByTestId("job-log-follow");
    public ILocator SelectedState => page.GetByTestId("selected-job-state");

    /// <summary>The dialog a job that interrupts service asks in before it starts.</summary>
    public ILocator Confirm => page.GetByTestId("confirm-job");

    /// <summary>Clicks the job's button; a job that asks first (install, distribute, rolling restart) is confirmed.</summary>
    public async Task StartAsync(string kind)
    {
        await page.GetByTestId($"job-{kind}").ClickAsync();
        if (kind is "install" or "distribute-credentials" or "rolling-restart") await page.GetByTestId("confirm-job-yes").ClickAsync();
    }

    public ILocator NodeState(string node) => page.GetByTestId($"node-state-{node}");

    /// <summary>The log row of line <paramref name="seq"/>, when it is rendered (the log renders only the rows in view).</summary>
    public ILocator LogLine(int seq) => page.Locator($"[data-testid=job-log] .job-log-line[data-seq='{seq}']");

    /// <summary>The seq numbers of the log rows drawn (those in view and a few around them), in order.</summary>
    public async Task<IReadOnlyList<int>> SeqsAsync() =>
        (await LogLines.EvaluateAllAsync<string[]>("lines => lines.map(l => l.dataset.seq)")).Select(int.Parse).ToList();

    /// <summary>The node tags of the log lines on screen.</summary>
    public Task<string[]> NodesShownAsync() => LogLines.EvaluateAllAsync<string[]>("lines => lines.map(l => l.dataset.node)");

    /// <summary>How far the log box is scrolled (px).</summary>
    public Task<double> ScrollTopAsync() => Log.EvaluateAsync<double>("box => box.scrollTop");

    /// <summary>Picks a node (or "all nodes", "panel (the job's own lines)") in the log's node filter.</summary>
    public async Task FilterAsync(string item)
    {
        await page.GetByTestId("job-log-filter").ClickAsync();
        await page.GetByRole(AriaRole.Option, new() { Name = item, Exact = true }).ClickAsync();
    }

    /// <summary>Clicks the log's Download and returns the file's name and text.</summary>
    public async Task<(string FileName, string Content)> DownloadAsync()
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId("job-log-download").ClickAsync());
        return (download.SuggestedFilename, await File.ReadAllTextAsync(await download.PathAsync()));
    }
}
