using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json.Nodes;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// For the browser tests that drive jobs: the real panel (an administrator and an API token bootstrapped), a lab of real
/// sshd nodes and Debian's Chromium, started together and ended together. Clusters are made through the API; the
/// wizard has tests of its own.
/// </summary>
[SupportedOSPlatform("linux")]
public sealed class LabSession : IAsyncDisposable
{
    public const string Admin = "operator";
    public const string Password = "lab-session-password-1";
    private const string Token = "ovha_browser_lab_session_0123456789abcdef0123";

    private readonly IPlaywright _playwright;

    private LabSession(PanelServer server, Lab.Lab lab, IPlaywright playwright, IBrowser browser)
    {
        Server = server;
        Lab = lab;
        _playwright = playwright;
        Browser = browser;
    }

    public PanelServer Server { get; }
    public Lab.Lab Lab { get; }
    public IBrowser Browser { get; }

    public static async Task<LabSession> StartAsync(LabOptions lab, IReadOnlyDictionary<string, string>? settings = null)
    {
        var labTask = OpenViduHa.Lab.Lab.StartAsync(lab);
        var server = new PanelServer { Bootstrap = (Admin, Password, Token), Settings = settings ?? new Dictionary<string, string>() };
        server.Start();
        var playwright = await Playwright.CreateAsync();
        return new LabSession(server, await labTask, playwright, await BrowserFixture.LaunchChromiumAsync(playwright));
    }

    /// <summary>A new browser context, signed in, on the cluster list.</summary>
    public async Task<IPage> SignedInPageAsync(int width = 1280, int height = 900)
    {
        var context = await Browser.NewContextAsync(new() { BaseURL = Server.BaseAddress.ToString(), ViewportSize = new() { Width = width, Height = height } });
        context.SetDefaultTimeout(30_000);
        var page = await context.NewPageAsync();
        await page.GotoAsync("login");
        await new LoginPage(page).SignInAsync(Admin, Password);
        await page.WaitForURLAsync("**/clusters");
        return page;
    }

    /// <summary>The API with the bootstrapped token.</summary>
    public HttpClient Api()
    {
        var api = new HttpClient { BaseAddress = Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", Token);
        return api;
    }

    /// <summary>
    /// A cluster of the lab's first 4 nodes as masters and the next <paramref name="media"/> as media nodes, root by key,
    /// host keys pinned, the installer from the lab's https server.
    /// </summary>
    public async Task<int> CreateClusterAsync(string name, string version, IReadOnlyList<string> modules, int media)
    {
        object Node(string role, LabNode n) => new
        {
            role, privateIp = n.Address,
            ssh = new { host = n.Address, port = n.Port, username = "root", privateKey = Lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
        };
        using var api = Api();
        var response = await api.PostAsJsonAsync("api/clusters", new
        {
            name, openviduVersion = version, domainName = "openvidu.example.io", licenseKey = "BROWSERLICENSE",
            modules, installerBaseUrl = Lab.InstallerHttpsBaseUrl,
            nodes = Lab.Nodes.Take(4).Select(n => Node("master", n)).Concat(Lab.Nodes.Skip(4).Take(media).Select(n => Node("media", n))).ToArray(),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Server.DisposeAsync();
        await Lab.DisposeAsync();
    }
}
