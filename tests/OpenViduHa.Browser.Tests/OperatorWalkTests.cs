using System.Runtime.Versioning;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// A new operator's whole first day, through the pages only, on a desktop and on a phone: the one-time setup, a cluster
/// through the wizard (IPs pasted, one key for all), the checklist's preflight, each host key confirmed, the install,
/// the status turning healthy, one more media node, and the delete. Against a lab of real sshd nodes and a panel that
/// starts with no administrator. axe-core (WCAG 2.1 AA) checks every screen on the way.
/// </summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class OperatorWalkTests : IAsyncLifetime
{
    private const string Admin = "first-operator";
    private const string Password = "first-day-password-1";
    private const string ClusterName = "first-day";
    private static readonly string[] NodeNames = ["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"];

    /// <summary>The machine is shared and loaded: jobs and sweeps get time.</summary>
    private static readonly LocatorAssertionsToHaveTextOptions Job = new() { Timeout = 60_000 };
    private static readonly LocatorAssertionsToHaveAttributeOptions JobStep = new() { Timeout = 60_000 };

    private LabSession _session = null!;
    private readonly List<string> _violations = [];

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 7, InstallerDelay = TimeSpan.FromMilliseconds(200), Cpus = 4 },
            new Dictionary<string, string> { ["Status:Interval"] = "00:00:01" }, bootstrap: false);

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Theory]
    [InlineData(1280, 800)]
    [InlineData(390, 844)]
    public async Task FirstDay_SetupToDelete_ThroughThePages(int width, int height)
    {
        var lab = _session.Lab;
        await using var context = await Chromium.NewContextAsync(_session.Browser, _session.Server.BaseAddress, width, height);
        var page = await context.NewPageAsync();

        // Setup: every address leads to the one-time page.
        await page.GotoAsync("/");
        var setup = new SetupPage(page);
        await Expect(setup.Heading).ToBeVisibleAsync();
        await AxeAsync(page, "setup");
        await setup.CreateAdministratorAsync(Admin, Password);
        await page.WaitForURLAsync("**/clusters");
        var list = new ClusterListPage(page);
        await list.WaitUntilInteractiveAsync();
        await Expect(list.EmptyState).ToBeVisibleAsync();
        await AxeAsync(page, "clusters, empty");

        // Wizard: general, IPs pasted, one key for every node, the lab's installer server; no host key given.
        var wizard = new ClusterWizardPage(page);
        await wizard.GotoNewAsync();
        await Expect(wizard.Field("openviduVersion")).ToHaveValueAsync(OpenViduVersion.KnownReleases[^1]);
        await wizard.FillAsync("name", ClusterName);
        await wizard.FillAsync("domainName", "openvidu.example.io");
        await wizard.FillAsync("licenseKey", "TRIAL-LICENSE-0123");
        await wizard.FillAsync("installerBaseUrl", lab.InstallerHttpsBaseUrl);
        await AxeAsync(page, "wizard: general");
        await wizard.NextAsync();
        await wizard.PasteIpsAsync([.. lab.Nodes.Take(6).Select(n => n.Address)]);
        await Expect(wizard.Field("nodes[5].privateIp")).ToHaveValueAsync(lab.Nodes[5].Address);
        await wizard.FillAsync("nodes.ssh.privateKey", lab.Keys.Ed25519.PrivateKey);
        await AxeAsync(page, "wizard: nodes");
        await wizard.NextAsync();
        await Expect(page.GetByTestId("secrets-panel")).ToBeVisibleAsync();
        await wizard.NextAsync();
        await AxeAsync(page, "wizard: review");
        await wizard.SubmitAsync();
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await Expect(page.GetByTestId("cluster-stage")).ToHaveTextAsync("not installed");
        await AxeAsync(page, "cluster: checklist");

        // Preflight from the checklist. First contact: it records each host key and stops there (nothing ran on a host
        // nobody confirmed), and the checklist moves on to the keys.
        await page.GetByTestId("step-preflight-run").ClickAsync();
        var jobs = new JobsTab(page);
        await Expect(jobs.SelectedState).ToHaveTextAsync("failed", Job);
        await Expect(page.GetByTestId("cluster-stage")).ToHaveTextAsync("keys to confirm", Job);
        await Expect(page.GetByTestId("step-preflight")).ToHaveAttributeAsync("data-done", "true", JobStep);
        await Expect(page.GetByTestId("step-keys")).ToHaveClassAsync(new System.Text.RegularExpressions.Regex(@"\bcurrent\b"), new() { Timeout = 60_000 });
        await AxeAsync(page, "cluster: preflight log");

        // Each host key compared and confirmed on the nodes tab (the checklist's "Review keys" leads there).
        await page.GetByTestId("step-keys-review").ClickAsync();
        for (var i = 0; i < NodeNames.Length; i++)
        {
            var node = NodeNames[i];
            await Expect(page.GetByTestId($"presented-{node}")).ToContainTextAsync(lab.Nodes[i].HostKeyFingerprint);
            if (i == 0) await AxeAsync(page, "cluster: keys to confirm");
            await page.GetByTestId($"pin-{node}").ClickAsync();
            var dialog = page.GetByRole(AriaRole.Dialog);
            await Expect(dialog).ToContainTextAsync($"presented {lab.Nodes[i].HostKeyFingerprint}");
            await dialog.GetByRole(AriaRole.Button, new() { Name = "Confirm", Exact = true }).ClickAsync();
            await Expect(page.GetByTestId($"pin-{node}")).ToHaveCountAsync(0);
        }
        await Expect(page.GetByTestId("step-keys")).ToHaveAttributeAsync("data-done", "true", JobStep);

        // The preflight again, now through SSH on every machine: it passes (nodes of OpenVidu's size, Cpus = 4).
        await Expect(page.GetByTestId("step-preflight-detail")).ToContainTextAsync("ran before the host keys were confirmed", new() { Timeout = 60_000 });
        await page.GetByTestId("step-preflight-run").ClickAsync();
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", Job);
        await Expect(page.GetByTestId("step-preflight")).ToHaveAttributeAsync("data-done", "true", JobStep);
        Assert.All(lab.Nodes.Take(6), n => Assert.Equal(0, n.InstallerRuns));

        // Install from the checklist: it asks first, naming what it changes.
        await page.GetByTestId("step-install-run").ClickAsync();
        await Expect(jobs.Confirm).ToBeVisibleAsync();
        await AxeAsync(page, "install: confirmation");
        await page.GetByTestId("confirm-job-yes").ClickAsync();
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", Job);
        // The header follows the job's end by itself; on a loaded machine the page's circuit is busy drawing the log first.
        await Expect(page.GetByTestId("cluster-stage")).ToHaveTextAsync("installed", Job);
        await Expect(page.GetByTestId("cluster-checklist")).ToHaveCountAsync(0);
        Assert.All(lab.Nodes.Take(6), n => Assert.Equal(1, n.InstallerRuns));
        await AxeAsync(page, "cluster: install log");

        // Status: healthy by itself (sweeps every second), every node too.
        await cluster.OpenTabAsync("Status");
        var status = new StatusTab(page);
        await Expect(status.ClusterHealth).ToHaveAttributeAsync("data-health", "healthy", new() { Timeout = 60_000 });
        foreach (var node in NodeNames) await Expect(status.NodeCard(node)).ToHaveAttributeAsync("data-health", "green", new() { Timeout = 30_000 });
        await Expect(status.ClusterHealth).ToHaveTextAsync("healthy");
        await AxeAsync(page, "cluster: status");

        // One more media node, signing in like the others, installed at once with its host key given.
        var spare = lab.Nodes[6];
        await cluster.AddMediaNodeAsync(spare.Address, spare.HostKeyFingerprint);
        await Expect(jobs.NodeState("media-3")).ToHaveTextAsync("succeeded", Job);
        Assert.Equal(1, spare.InstallerRuns);

        // Delete: the name typed, the secrets offered first; back to an empty list.
        await cluster.OpenDeleteAsync();
        await AxeAsync(page, "delete dialog");
        await cluster.ConfirmDeleteAsync(ClusterName);
        await Expect(list.EmptyState).ToBeVisibleAsync();

        Assert.True(await ClusterListPage.FitsViewportAsync(page), $"The list scrolls sideways at {width} px.");
        Assert.True(_violations.Count == 0, $"axe-core (WCAG 2.1 AA) at {width} px: {_violations.Count} violations\n{string.Join('\n', _violations)}");
    }

    private async Task AxeAsync(IPage page, string where)
    {
        var violations = await Axe.RunAsync(page);
        _violations.AddRange(violations.Select(v => $"{where}: {v}"));
    }
}
