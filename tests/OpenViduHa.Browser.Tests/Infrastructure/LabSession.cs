using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using System.Runtime.Versioning;
using Microsoft.Playwright;
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

    /// <param name="bootstrap">False: a panel as first started, with no administrator yet (its setup page comes first).</param>
    public static async Task<LabSession> StartAsync(LabOptions lab, IReadOnlyDictionary<string, string>? settings = null, bool bootstrap = true)
    {
        var labTask = OpenViduHa.Lab.Lab.StartAsync(lab);
        var server = new PanelServer { Bootstrap = bootstrap ? (Admin, Password, Token) : null, Settings = settings ?? new Dictionary<string, string>() };
        server.Start();
        var playwright = await Playwright.CreateAsync();
        return new LabSession(server, await labTask, playwright, await Chromium.LaunchAsync(playwright));
    }

    /// <summary>A new browser context, signed in, on the cluster list.</summary>
    public Task<IPage> SignedInPageAsync(int width = 1280, int height = 900) =>
        Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password, width, height);

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
    /// <summary>Runs the install job of <paramref name="clusterId"/> through the API to its success (its own tests are elsewhere).</summary>
    public async Task InstallAsync(int clusterId)
    {
        using var api = Api();
        var started = await (await api.PostAsJsonAsync($"api/clusters/{clusterId}/jobs", new { kind = "install" })).Content.ReadFromJsonAsync<JsonElement>();
        var jobId = started.GetProperty("id").GetInt32();
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (DateTime.UtcNow < deadline)
        {
            var job = await api.GetFromJsonAsync<JsonElement>($"api/jobs/{jobId}");
            var state = job.GetProperty("state").GetString();
            if (state is "succeeded") return;
            Assert.True(state is "queued" or "running", job.ToString());
            await Task.Delay(250);
        }
        throw new TimeoutException($"Job {jobId} did not end in 90 s.");
    }

    public async Task<int> CreateClusterAsync(string name, string version, IReadOnlyList<string> modules, int media)
    {
        ClusterApi.Node Node(LabNode n) => new(n.Address, Lab.Keys.Ed25519.PrivateKey, n.Port, n.HostKeyFingerprint);
        using var api = Api();
        return await ClusterApi.CreateAsync(api, name, version, modules, Lab.InstallerHttpsBaseUrl,
            Lab.Nodes.Take(4).Select(Node).ToList(), Lab.Nodes.Skip(4).Take(media).Select(Node).ToList());
    }

    public async ValueTask DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Server.DisposeAsync();
        await Lab.DisposeAsync();
    }
}
