using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// The cluster page around its jobs, on clusters whose nodes are example addresses (never contacted: no job here gets
/// past its rules to a node). The job log as an operator watches it: a running job with a 10,000-line log (seeded into
/// the panel's database), then lines arriving live through the job's own writer. And a new cluster's next steps: its
/// stage, the checklist, buttons that cannot run disabled with the reason, and a disruptive job that asks first.
/// </summary>
[Trait("Category", "Browser")]
public sealed class JobsPageTests() : OwnPanelTest("operator", "job-log-password-1", "ovha_browser_joblog_0123456789abcdef0123456789")
{
    private const int Lines = 10_000;

    private async Task<int> CreateClusterAsync(string name, bool pinned)
    {
        var key = (await SshKeys.GenerateEd25519Async()).PrivateKey;
        var hostKey = pinned ? (await SshKeys.GenerateEd25519Async()).Fingerprint : null;
        using var api = Api();
        ClusterApi.Node Node(int i) => new($"10.30.{(pinned ? 1 : 0)}.{i + 1}", key, HostKeyFingerprint: hostKey);
        return await ClusterApi.CreateAsync(api, name, "3.8.0", [], "http://127.0.0.1:9/",
            Enumerable.Range(0, 4).Select(Node).ToList(), Enumerable.Range(4, 2).Select(Node).ToList());
    }

    /// <summary>With UPDATE_SCREENSHOT=1, a README screenshot (docs/<paramref name="file"/>) of the page as it is.</summary>
    private static async Task ScreenshotAsync(IPage page, string file)
    {
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOT") != "1") return;
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(RepoRoot.Path, "docs", file) });
    }

    [Fact]
    public async Task NewCluster_ShowsItsStageAndNextSteps_DisablesWhatCannotRun_AndAsksBeforeADisruptiveJob()
    {
        // Arrange: one cluster as the wizard leaves it (no host key), one whose keys were given at creation.
        var fresh = await CreateClusterAsync("fresh", pinned: false);
        var pinned = await CreateClusterAsync("pinned", pinned: true);
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);

        // Assert: the list says "not installed", not "unknown".
        var list = new ClusterListPage(page);
        await Expect(list.Health("fresh")).ToHaveAttributeAsync("data-health", "not installed");

        // A fresh cluster: its stage, three steps, preflight first; install disabled until the keys are confirmed.
        await page.GotoAsync($"clusters/{fresh}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await Expect(page.GetByTestId("cluster-stage")).ToHaveTextAsync("not installed");
        await Expect(page.GetByTestId("cluster-checklist").Locator("li")).ToHaveCountAsync(3);
        await Expect(page.GetByTestId("step-preflight")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bcurrent\b"));
        await Expect(page.GetByTestId("step-preflight-run")).ToBeEnabledAsync();
        await Expect(page.GetByTestId("step-install-run")).ToBeDisabledAsync();
        await Expect(page.GetByTestId("step-install-run")).ToHaveAttributeAsync("data-why-not",
            new System.Text.RegularExpressions.Regex("^The host keys of master-1, master-2, master-3, master-4, media-1, media-2 are not confirmed"));
        await ScreenshotAsync(page, "checklist.png");
        await cluster.OpenTabAsync("Jobs");
        await Expect(page.GetByTestId("job-rolling-restart")).ToBeDisabledAsync();
        await Expect(page.GetByTestId("job-rolling-restart")).ToHaveAttributeAsync("data-why-not", new System.Text.RegularExpressions.Regex("not confirmed|not installed yet"));
        await Expect(page.GetByTestId("job-preflight")).ToBeEnabledAsync();

        // Keys given at creation: install may run, and asks first, naming the nodes; cancelling starts nothing.
        await page.GotoAsync($"clusters/{pinned}");
        await cluster.WaitUntilInteractiveAsync();
        await Expect(page.GetByTestId("step-keys")).ToHaveAttributeAsync("data-done", "true");
        await cluster.OpenTabAsync("Jobs");
        var jobs = new JobsTab(page);
        await page.GetByTestId("job-install").ClickAsync();
        await Expect(jobs.Confirm).ToBeVisibleAsync();
        await Expect(page.GetByTestId("confirm-job-impact")).ToContainTextAsync("Runs the OpenVidu installer on master-1..4 at once");
        await Expect(page.GetByTestId("confirm-job-impact")).ToContainTextAsync("media-1 and media-2");
        await page.GetByTestId("confirm-job-cancel").ClickAsync();
        await Expect(jobs.Confirm).ToBeHiddenAsync();
        var queued = await Server.Services.GetRequiredService<OpenViduHa.Core.Jobs.JobService>().ListAsync(pinned);
        Assert.Empty(queued);

        await Expect(page.GetByTestId("job-check-credentials")).ToHaveAttributeAsync("data-why-not", "Cluster 'pinned' is not installed yet: run install first.");
    }

    /// <summary>In the light scheme and, as a browser whose system prefers dark gets it, in the dark one.</summary>
    [Theory]
    [InlineData(ColorScheme.Light)]
    [InlineData(ColorScheme.Dark)]
    public async Task EveryPage_AxeCoreWcag21AA_NoViolation(ColorScheme scheme)
    {
        // Arrange: a cluster with a job and a short log, so the Jobs tab shows its list, nodes and log.
        var name = $"a11y-{scheme.ToString().ToLowerInvariant()}";
        var clusterId = await CreateClusterAsync(name, pinned: false);
        var theme = scheme == ColorScheme.Dark ? "dark" : "light";
        await JobSeed.CreateAsync(Server.Services, clusterId, 30);
        var found = new List<string>();
        async Task CheckAsync(IPage p, string where)
        {
            var violations = await Axe.RunAsync(p);
            found.AddRange(violations.Select(v => $"{where}: {v}"));
        }

        // Act: every page, signed out and in, each tab of the cluster page.
        await using (var anonymous = await Chromium.NewContextAsync(Browser, Server.BaseAddress, colorScheme: scheme))
        {
            var login = await anonymous.NewPageAsync();
            await login.GotoAsync("login");
            await Expect(login.Locator("html")).ToHaveAttributeAsync("data-theme", theme);
            await Expect(login.GetByRole(AriaRole.Button, new() { Name = "Sign in" })).ToBeVisibleAsync();
            await Expect(login).ToHaveTitleAsync("Sign in · OpenVidu HA panel");
            await CheckAsync(login, "sign-in");
        }
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password, colorScheme: scheme);
        var list = new ClusterListPage(page);
        await list.WaitUntilInteractiveAsync();
        // The palette follows the system once the page is live (MudBlazor's own colours come from the circuit).
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", scheme == ColorScheme.Dark ? "rgb(18, 20, 23)" : "rgb(255, 255, 255)");
        await CheckAsync(page, "clusters");
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await CheckAsync(page, "cluster: nodes");
        foreach (var tab in new[] { "Artifacts", "Jobs", "Status" })
        {
            await cluster.OpenTabAsync(tab);
            await page.WaitForTimeoutAsync(300);
            await CheckAsync(page, $"cluster: {tab.ToLowerInvariant()}");
        }
        await Expect(page).ToHaveTitleAsync($"{name} · OpenVidu HA panel");
        foreach (var (path, where, title) in new[] { ("clusters/new", "wizard", "New cluster"), ("tokens", "tokens", "API tokens"), ("audit", "audit log", "Audit log") })
        {
            await page.GotoAsync(path);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
            await Expect(page).ToHaveTitleAsync($"{title} · OpenVidu HA panel");
            await CheckAsync(page, where);
        }

        // Assert
        Assert.True(found.Count == 0, $"axe-core (WCAG 2.1 AA): {found.Count} violations\n{string.Join('\n', found)}");
    }

    [Fact]
    public async Task JobLog_TenThousandLines_OneRowEach_FollowsUntilScrolledUp_FiltersByNode_Downloads()
    {
        // Arrange: a cluster (example addresses, never contacted) and a running job with 10,000 lines.
        var clusterId = await CreateClusterAsync("joblog", pinned: false);
        var seed = await JobSeed.CreateAsync(Server.Services, clusterId, Lines);

        // Act: the cluster's Jobs tab (the running job is selected).
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenTabAsync("Jobs");
        var jobs = new JobsTab(page);

        // Assert: every line loaded, the end in view (following), only the rows in view rendered, one line per row.
        await Expect(jobs.LogCount).ToHaveTextAsync("10,000 lines");
        await jobs.Log.ScrollIntoViewIfNeededAsync();
        await Expect(jobs.Follow).ToHaveAttributeAsync("aria-pressed", "true");
        await Expect(jobs.LogLine(Lines)).ToBeInViewportAsync();
        var rendered = await jobs.LogLines.CountAsync();
        Assert.InRange(rendered, 10, 200);
        var last = jobs.LogLine(Lines);
        await Expect(last.Locator(".job-log-node")).ToHaveTextAsync(seed.NodeOf(Lines) ?? "panel");
        await Expect(last.Locator(".job-log-text")).ToHaveTextAsync(JobSeed.TextOf(Lines));
        await Expect(last.Locator(".job-log-time")).ToHaveTextAsync(new System.Text.RegularExpressions.Regex(@"^\d\d:\d\d:\d\d$"));
        var tops = await jobs.LogLines.EvaluateAllAsync<double[]>("rows => rows.map(r => r.getBoundingClientRect().top)");
        var heights = await jobs.LogLines.EvaluateAllAsync<double[]>("rows => rows.map(r => r.getBoundingClientRect().height)");
        Assert.All(heights, h => Assert.Equal(20, h, 0.5));
        Assert.All(tops.Zip(tops.Skip(1)), pair => Assert.Equal(20, pair.Second - pair.First, 0.5));

        // Live lines while following: the view stays at the end.
        await seed.AppendAsync(seed.Nodes[0], "a live line while following");
        await Expect(jobs.LogCount).ToHaveTextAsync("10,001 lines");
        await Expect(jobs.LogLine(Lines + 1)).ToBeInViewportAsync();

        // The reader scrolls up: following stops, and new lines do not pull the view down.
        await jobs.Log.HoverAsync();
        await page.Mouse.WheelAsync(0, -3000);
        await Expect(jobs.Follow).ToHaveAttributeAsync("aria-pressed", "false");
        var readingAt = await jobs.ScrollTopAsync();
        for (var i = 0; i < 5; i++) await seed.AppendAsync(seed.Nodes[1], $"live line {i} while reading");
        await Expect(jobs.LogCount).ToHaveTextAsync("10,006 lines");
        Assert.Equal(readingAt, await jobs.ScrollTopAsync(), 1.0);
        await Expect(jobs.LogLine(Lines + 6)).Not.ToBeInViewportAsync();

        // Follow brings the end back.
        await jobs.Follow.ClickAsync();
        await Expect(jobs.LogLine(Lines + 6)).ToBeInViewportAsync();
        await Expect(jobs.Follow).ToHaveAttributeAsync("aria-pressed", "true");

        await ScreenshotAsync(page, "joblog.png");

        // One node's lines only.
        var node = seed.Nodes[3];
        await jobs.FilterAsync(node);
        var expected = Enumerable.Range(1, Lines).Count(s => seed.NodeOf(s) == node);
        await Expect(jobs.LogCount).ToHaveTextAsync($"{expected:N0} of 10,006 lines");
        Assert.All(await jobs.NodesShownAsync(), n => Assert.Equal(node, n));

        // Copy takes the lines shown (that node's), as text.
        await page.Context.GrantPermissionsAsync(["clipboard-read", "clipboard-write"]);
        await page.GetByTestId("job-log-copy").ClickAsync();
        await Expect(page.GetByText($"Copied {expected:N0} lines.")).ToBeVisibleAsync();
        var copied = (await page.EvaluateAsync<string>("() => navigator.clipboard.readText()")).Split('\n');
        Assert.Equal(expected, copied.Length);
        Assert.All(copied, l => Assert.Contains($"[{node}]", l, StringComparison.Ordinal));

        // The download is that node's whole log as text.
        var (fileName, content) = await jobs.DownloadAsync();
        Assert.Equal($"job-{seed.JobId}-check-credentials-{node}.log", fileName);
        var downloaded = content.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(expected + 1, downloaded.Length);
        Assert.All(downloaded.Skip(1), l => Assert.Contains($"[{node}]", l, StringComparison.Ordinal));
    }
}
