using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
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
    private const string Admin = "operator";
    private const string Password = "installer-pin-password-1";
    private const string Token = "ovha_browser_pins_0123456789abcdef0123456789ab";

    private readonly PanelServer _server = new() { Bootstrap = (Admin, Password, Token) };
    private Lab.Lab _lab = null!;
    private IPlaywright _playwright = null!;
    private IBrowser _browser = null!;

    public async Task InitializeAsync()
    {
        _lab = await Lab.Lab.StartAsync(new LabOptions { Nodes = 5 });
        _server.Start();
        _playwright = await Playwright.CreateAsync();
        _browser = await _playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions
        {
            ExecutablePath = BrowserFixture.ChromiumPath, Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
    }

    public async Task DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
        await _server.DisposeAsync();
        await _lab.DisposeAsync();
    }

    [Fact]
    public async Task FetchDigests_ThenPinThem_PanelShowsThePinnedDigests()
    {
        // Arrange
        var clusterId = await CreateClusterAsync();
        var context = await _browser.NewContextAsync(new() { BaseURL = _server.BaseAddress.ToString(), ViewportSize = new() { Width = 1280, Height = 900 } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("login");
        await new LoginPage(page).SignInAsync(Admin, Password);
        await page.WaitForURLAsync("**/clusters");
        await page.GotoAsync($"clusters/{clusterId}");
        await new ClusterPage(page).WaitUntilInteractiveAsync();
        var master = _lab.InstallerSha256("3.8.0", masterNode: true);
        var media = _lab.InstallerSha256("3.8.0", masterNode: false);
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

    private async Task<int> CreateClusterAsync()
    {
        using var api = new HttpClient { BaseAddress = _server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        object Node(string role, LabNode n) => new
        {
            role, privateIp = n.Address,
            ssh = new { host = n.Address, port = n.Port, username = "root", privateKey = _lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
        };
        var response = await api.PostAsJsonAsync("api/clusters", new
        {
            name = "browser-pins", openviduVersion = "3.8.0", domainName = "openvidu.example.io", licenseKey = "BROWSERLICENSE",
            modules = new[] { "openviduMeet" }, installerBaseUrl = _lab.InstallerHttpsBaseUrl,
            nodes = _lab.Nodes.Take(4).Select(n => Node("master", n)).Append(Node("media", _lab.Nodes[4])).ToArray(),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }
}
