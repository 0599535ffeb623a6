using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>The cluster page's Jobs tab: start a job, watch its nodes and its live log.</summary>
public sealed class JobsTab(IPage page)
{
    public ILocator Log => page.GetByTestId("job-log");
    public ILocator LogLines => page.Locator("[data-testid=job-log] .job-log-line");
    public ILocator SelectedState => page.GetByTestId("selected-job-state");

    public Task StartAsync(string kind) => page.GetByTestId($"job-{kind}").ClickAsync();

    public ILocator NodeState(string node) => page.GetByTestId($"node-state-{node}");

    /// <summary>The seq numbers of the log lines on screen, in order.</summary>
    public async Task<IReadOnlyList<int>> SeqsAsync() =>
        (await LogLines.EvaluateAllAsync<string[]>("lines => lines.map(l => l.dataset.seq)")).Select(int.Parse).ToList();
}
