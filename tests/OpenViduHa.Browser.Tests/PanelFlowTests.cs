using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Core.Clusters;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// One operator's first session, in order (each part needs the one before): first-run setup, sign-out and sign-in, a cluster
/// through the wizard meeting validation on the way, its page and an artifact download, an edit that keeps the stored
/// secrets, a media node added (the load balancer note of OpenVidu 3.0.x), the pages at phone width, an API token, and
/// deleting the cluster.
/// </summary>
[Collection(BrowserCollection.Name)]
[Trait("Category", "Browser")]
public sealed partial class PanelFlowTests(BrowserFixture fixture, ITestOutputHelper output)
{
    private const string AdminUser = "admin";
    private const string AdminPassword = "browser-test-password";
    private const string ClusterName = "browser-test";
    private const string Domain = "openvidu.example.io";
    private const string TurnDomain = "turn.example.io";
    private static readonly string[] MasterIps = ["10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4"];
    private static readonly string[] MediaIps = ["10.5.0.11", "10.5.0.12"];
    private static readonly string[] MediaPublicIps = ["203.0.113.11", "203.0.113.12"];

    [Fact]
    public async Task FirstSession_FromSetupToArtifactDownload_Works()
    {
        var clock = Stopwatch.StartNew();
        await using var context = await fixture.NewContextAsync();
        var page = await context.NewPageAsync();

        await StepAsync("setup and sign-in", () => SetUpAndSignInAsync(page));
        await StepAsync("wizard", () => CreateClusterThroughWizardAsync(page));
        await StepAsync("download", () => DownloadNginxConfAsync(page));
        await StepAsync("edit", () => EditKeepsStoredSecretsAsync(page));
        await StepAsync("add media node", () => AddMediaNodeSaysToReloadTheLoadBalancerAsync(page));
        await StepAsync("phone", async () => await PagesFitPhoneAsync(await context.StorageStateAsync()));
        await StepAsync("tokens", () => CreateAndRevokeTokenAsync(page));
        await StepAsync("delete", () => DeleteClusterAsync(page));

        output.WriteLine($"Browser flow took {clock.Elapsed.TotalSeconds:F1} s");
    }

    private async Task StepAsync(string name, Func<Task> step)
    {
        var clock = Stopwatch.StartNew();
        await step();
        output.WriteLine($"{name}: {clock.Elapsed.TotalSeconds:F1} s");
    }

    /// <summary>First run: every page leads to the one-time setup. Then sign out, a wrong password, the right one.</summary>
    private async Task SetUpAndSignInAsync(IPage page)
    {
        await page.GotoAsync("/");
        await Expect(page).ToHaveURLAsync(new Uri(fixture.BaseAddress, "setup").ToString());
        var setup = new SetupPage(page);
        await Expect(setup.Heading).ToBeVisibleAsync();
        await setup.CreateAdministratorAsync(AdminUser, AdminPassword);
        await page.WaitForURLAsync("**/clusters");
        await Expect(new ClusterListPage(page).EmptyState).ToBeVisibleAsync();

        await LoginPage.SignOutAsync(page);
        var login = new LoginPage(page);
        await login.SignInAsync(AdminUser, "not-the-password");
        await Expect(login.Error).ToHaveTextAsync("Wrong user name or password.");
        await login.SignInAsync(AdminUser, AdminPassword);
        await page.WaitForURLAsync("**/clusters");
    }

    private async Task CreateClusterThroughWizardAsync(IPage page)
    {
        var sshKey = await SshKeys.GenerateEd25519Async();
        var hostKey = await SshKeys.GenerateEd25519Async();
        var wizard = new ClusterWizardPage(page);
        await wizard.GotoNewAsync();

        // General: a domain that is not one is refused at its field, and Next stays on the step.
        await wizard.FillGeneralAsync(ClusterName, "3.0.0", "not a domain", "TRIAL-LICENSE-0123");
        await wizard.NextAsync();
        await Expect(wizard.FieldError("domainName")).ToContainTextAsync("fully qualified domain name");
        await Expect(wizard.Summary).ToContainTextAsync("Domain name");
        await Expect(wizard.Field("domainName")).ToBeVisibleAsync();
        await wizard.FillAsync("domainName", Domain);
        await Expect(wizard.FieldError("domainName")).ToHaveCountAsync(0);
        await wizard.NextAsync();

        // Nodes: the IPs pasted as a list; a list with one private IP twice is refused whole, naming the line and the node.
        await Expect(wizard.Field("nodes[0].privateIp")).ToBeVisibleAsync();
        string[] masters = MasterIps;
        await wizard.PasteIpsAsync([.. masters, $"{MediaIps[0]} {MediaPublicIps[0]}", $"{MediaIps[0]} {MediaPublicIps[1]}"]);
        await Expect(wizard.PasteErrors).ToContainTextAsync($"Line 6 (media-2): {MediaIps[0]} is already the private IP of media-1.");
        await Expect(wizard.Field("nodes[0].privateIp")).ToHaveValueAsync("");
        await wizard.PasteIpsAsync([.. masters, $"{MediaIps[0]} {MediaPublicIps[0]}", $"{MediaIps[1]} {MediaPublicIps[1]}"]);
        await Expect(wizard.Field("nodes[3].privateIp")).ToHaveValueAsync(MasterIps[3]);
        await Expect(wizard.Field("nodes[5].publicIp")).ToHaveValueAsync(MediaPublicIps[1]);

        // One key for every node, typed once and held by one text box; a node can have its own access instead.
        await wizard.FillAsync("nodes.ssh.privateKey", sshKey.PrivateKey);
        await wizard.ToggleOwnSshAsync(5);
        await Expect(wizard.Field("nodes[5].ssh.privateKey")).ToHaveValueAsync("");
        await wizard.ToggleOwnSshAsync(5);
        await Expect(wizard.Field("nodes[5].ssh.privateKey")).ToHaveCountAsync(0);
        Assert.Equal(1, await wizard.CountFieldsHoldingAsync(sshKey.PrivateKey));
        var height = await page.EvaluateAsync<int>("document.documentElement.scrollHeight");
        output.WriteLine($"nodes step: {height} px tall at 1280 px");
        Assert.True(height <= 1500, $"The nodes step is {height} px tall at 1280 px (the card layout was 3,200 to 3,800).");
        await SaveScreenshotAsync(page, "wizard-nodes.png", height: height);

        // The same host key pinned on two nodes is warned about; a private IP typed twice is refused at both fields by name.
        await wizard.FillAsync("nodes[0].ssh.hostKeyFingerprint", hostKey.Fingerprint);
        await wizard.FillAsync("nodes[1].ssh.hostKeyFingerprint", hostKey.Fingerprint);
        await wizard.FillAsync("nodes[5].privateIp", MediaIps[0]);
        await wizard.NextAsync();
        await Expect(wizard.FieldError("nodes[5].privateIp")).ToContainTextAsync($"{MediaIps[0]} is already the private IP of media-1");
        await Expect(wizard.Summary).ToContainTextAsync("media-2 · Private IP");
        await Expect(wizard.HostKeyWarning).ToContainTextAsync("master-1 and master-2 are pinned to the same host key");
        Assert.Empty(await fixture.Server.Services.GetRequiredService<ClusterService>().ListAsync());

        await wizard.FillAsync("nodes[1].ssh.hostKeyFingerprint", "");
        await wizard.FillAsync("nodes[5].privateIp", MediaIps[1]);
        await Expect(wizard.FieldError("nodes[5].privateIp")).ToHaveCountAsync(0);
        await Expect(wizard.HostKeyWarning).ToHaveCountAsync(0);
        await wizard.NextAsync();

        // Secrets: all left to be generated. Review, then create.
        await Expect(page.GetByTestId("secrets-panel")).ToBeVisibleAsync();
        await wizard.NextAsync();
        await wizard.SubmitAsync();
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await Expect(cluster.Name).ToHaveTextAsync(ClusterName);
        await Expect(cluster.Domain).ToContainTextAsync(Domain);
        await Expect(cluster.NodesTable.GetByText("media-2")).ToBeVisibleAsync();
        await Expect(cluster.NodesTable.GetByText(MediaPublicIps[1])).ToBeVisibleAsync();
        await Expect(cluster.NodesTable.GetByText("pinned", new() { Exact = true })).ToHaveCountAsync(1);
        await page.ReloadAsync(); // without the "created" notice
        await cluster.WaitUntilInteractiveAsync();
        await SaveScreenshotAsync(page, "screenshot.png");
    }

    private static async Task DownloadNginxConfAsync(IPage page)
    {
        var cluster = new ClusterPage(page);
        await cluster.OpenTabAsync("Artifacts");
        var (fileName, nginx) = await cluster.DownloadAsync("nginx.conf");
        Assert.Equal($"{ClusterName}-nginx.conf", fileName);
        foreach (var ip in MasterIps) Assert.Contains($"{ip}:7880", nginx);
        Assert.Contains(Domain, nginx);
    }

    /// <summary>Editing shows no secret and no key; left empty, the stored ones are kept and the cluster saves.</summary>
    private static async Task EditKeepsStoredSecretsAsync(IPage page)
    {
        var cluster = new ClusterPage(page);
        await cluster.EditAsync();
        var wizard = new ClusterWizardPage(page);
        await wizard.WaitUntilInteractiveAsync();
        await Expect(wizard.Field("licenseKey")).ToHaveValueAsync("");
        await wizard.FillAsync("turnDomainName", TurnDomain);
        await wizard.NextAsync();
        await Expect(wizard.Field("nodes.ssh.privateKey")).ToHaveValueAsync("");
        await wizard.NextAsync();
        await wizard.NextAsync();
        await wizard.SubmitAsync();
        await cluster.WaitUntilInteractiveAsync();
        await Expect(cluster.Facts).ToContainTextAsync(TurnDomain);
    }

    /// <summary>
    /// OpenVidu 3.0.0 with a TURN domain (set by the edit): the load balancer sends TURN to the media nodes, so adding one
    /// changes nginx.conf and haproxy.cfg. The page says to reload and links both, already holding the new node.
    /// </summary>
    private static async Task AddMediaNodeSaysToReloadTheLoadBalancerAsync(IPage page)
    {
        const string newNode = "10.5.0.13";
        var cluster = new ClusterPage(page);

        var hint = await cluster.AddMediaNodeAsync(newNode);

        Assert.StartsWith("The load balancer's config lists the media nodes", hint);
        await Expect(cluster.NodesTable.GetByText("media-3")).ToBeVisibleAsync();
        await Expect(cluster.LoadBalancerNote).ToContainTextAsync("The load balancer's config lists the media nodes");
        await Expect(cluster.LoadBalancerNote).ToContainTextAsync("systemctl reload nginx");
        var (nginxFile, nginx) = await cluster.DownloadFromLoadBalancerNoteAsync("nginx.conf");
        var (haproxyFile, haproxy) = await cluster.DownloadFromLoadBalancerNoteAsync("haproxy.cfg");
        Assert.Equal($"{ClusterName}-nginx.conf", nginxFile);
        Assert.Equal($"{ClusterName}-haproxy.cfg", haproxyFile);
        Assert.Contains($"server {newNode}:5349;  # media-3", nginx);
        Assert.Contains($"server media-3 {newNode}:5349 check", haproxy);
    }

    /// <summary>A phone: the list, the cluster page and the wizard fit the screen, no sideways scrolling.</summary>
    private async Task PagesFitPhoneAsync(string storageState)
    {
        await using var phone = await fixture.NewContextAsync(390, 844, storageState);
        var page = await phone.NewPageAsync();
        var list = new ClusterListPage(page);
        await list.GotoAsync();
        await Expect(list.Link(ClusterName)).ToBeVisibleAsync();
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "The cluster list scrolls sideways at 390 px.");

        await page.GotoAsync((await list.Link(ClusterName).GetAttributeAsync("href"))!);
        await new ClusterPage(page).WaitUntilInteractiveAsync();
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "The cluster page scrolls sideways at 390 px.");
        // Every tab in sight (no strip that shows one tab at a time), the active one marked, switching works.
        await new ClusterPage(page).OpenTabAsync("Status");
        foreach (var tab in new[] { "Nodes", "Artifacts", "Jobs", "Status" })
        {
            var box = await page.GetByRole(AriaRole.Tab, new() { Name = tab }).BoundingBoxAsync();
            Assert.True(box is { X: >= 0 } && box.X + box.Width <= 390, $"The {tab} tab is outside the 390 px screen: {box?.X}+{box?.Width}.");
        }
        await Expect(page.GetByRole(AriaRole.Tab, new() { Name = "Status" })).ToHaveAttributeAsync("aria-selected", "true");

        var wizard = new ClusterWizardPage(page);
        await wizard.GotoNewAsync();
        await wizard.NextAsync(); // the general step with its errors
        await Expect(wizard.Summary).ToBeVisibleAsync();
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "The wizard scrolls sideways at 390 px.");

        // The nodes step: rows stack, a node's own SSH access too.
        await wizard.FillGeneralAsync("phone-check", OpenViduVersion.KnownReleases[^1], Domain, "TRIAL-LICENSE-0123");
        await wizard.NextAsync();
        await Expect(wizard.Field("nodes[0].privateIp")).ToBeVisibleAsync();
        await wizard.ToggleOwnSshAsync(4);
        await Expect(wizard.Field("nodes[4].ssh.privateKey")).ToBeVisibleAsync();
        Assert.True(await ClusterListPage.FitsViewportAsync(page), "The wizard's nodes step scrolls sideways at 390 px.");
        await SaveScreenshotAsync(page, "wizard-nodes-phone.png");
    }

    private static async Task CreateAndRevokeTokenAsync(IPage page)
    {
        var tokens = new TokensPage(page);
        await tokens.GotoAsync();
        await tokens.CreateAsync("ci", scope: "operate");
        await Expect(tokens.NewTokenValue).ToHaveValueAsync(new Regex("^ovha_[0-9a-f]{48}$"));
        await Expect(page.GetByTestId("scope-ci")).ToHaveTextAsync("operate");
        await tokens.RevokeAsync("ci");
        await Expect(tokens.Table).ToContainTextAsync("revoked");
        await Expect(tokens.NewTokenValue).ToHaveCountAsync(0);
    }

    private async Task DeleteClusterAsync(IPage page)
    {
        var list = new ClusterListPage(page);
        await list.GotoAsync();
        await list.Link(ClusterName).ClickAsync();
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        await cluster.OpenDeleteAsync();
        var (fileName, credentials) = await cluster.DownloadCredentialsFromDeleteDialogAsync();
        Assert.Equal($"{ClusterName}-credentials.env", fileName);
        Assert.Contains("LIVEKIT_API_SECRET=", credentials, StringComparison.Ordinal);
        await cluster.ConfirmDeleteAsync(ClusterName);
        await Expect(list.EmptyState).ToBeVisibleAsync();
        Assert.Empty(await fixture.Server.Services.GetRequiredService<ClusterService>().ListAsync());
    }

    /// <summary>With UPDATE_SCREENSHOT=1, a README screenshot (docs/) of the page as it is, at 1280x800 or as tall as <paramref name="height"/>.</summary>
    private static async Task SaveScreenshotAsync(IPage page, string name, int? height = null)
    {
        if (Environment.GetEnvironmentVariable("UPDATE_SCREENSHOT") != "1") return;
        var path = Path.Combine(RepoRoot.Path, "docs", name);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        var viewport = page.ViewportSize!;
        // A whole page in a window as tall as the page (a full-page capture draws the fixed app bar in its middle).
        if (height is { } tall) await page.SetViewportSizeAsync(viewport.Width, tall);
        await page.ScreenshotAsync(new PageScreenshotOptions { Path = path });
        if (height is not null) await page.SetViewportSizeAsync(viewport.Width, viewport.Height);
    }

}
