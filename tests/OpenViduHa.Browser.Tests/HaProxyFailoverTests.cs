using System.Diagnostics;
using System.Text.RegularExpressions;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Tests.Support;
using Xunit.Abstractions;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// The <c>ha</c> deployment as the operator runs it, minus containers: real HAProxy with the shipped
/// <c>deploy/haproxy-ha.cfg</c> (only its addresses changed to this machine's loopback ports) in front of two panel
/// processes on one PostgreSQL. A browser stays on one instance (the <c>ovha_instance</c> cookie, the Blazor circuit's
/// WebSocket through the proxy); that instance killed, the same browser goes on on the other one, still signed in.
/// </summary>
[System.Runtime.Versioning.SupportedOSPlatform("linux")]
public sealed partial class HaProxyFailoverTests(ITestOutputHelper output)
{
    [Fact]
    public async Task InstanceBehindHaProxyKilled_TheBrowserGoesOnOnTheOther_StillSignedIn()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Panel"] = database,
            ["Status:Enabled"] = "false",
            // Behind the proxy: the panel trusts its X-Forwarded-* from loopback only (the default).
        };
        var panels = await Task.WhenAll(PanelProcess.StartAsync("a", settings), PanelProcess.StartAsync("b", settings));
        await using var a = panels[0];
        await using var b = panels[1];
        // Nothing listens on port 1: a preflight on these nodes fails at once, wherever it runs.
        var key = (await SshKeys.GenerateEd25519Async()).PrivateKey;
        var unreachable = Enumerable.Range(1, 5).Select(i => new ClusterApi.Node($"127.77.0.{i}", key, Port: 1)).ToList();
        var clusterId = await ClusterApi.CreateAsync(a.Api(), "behind-haproxy", "3.8.0", ["observability", "openviduMeet"], "https://installer.example.io",
            unreachable.Take(4).ToList(), [unreachable[4]]);

        using var proxy = await HaProxy.StartAsync(a.BaseAddress.Port, b.BaseAddress.Port);
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await Chromium.LaunchAsync(playwright);
        var page = await Chromium.SignedInPageAsync(browser, proxy.BaseAddress, PanelProcess.AdminUser, PanelProcess.AdminPassword);
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        var first = await InstanceCookieAsync(page);
        Assert.True(first is "a" or "b", $"no ovha_instance cookie: {first}");
        var (serving, survivor) = first == "a" ? (a, b) : (b, a);
        // The circuit's WebSocket went through the proxy to the instance of the cookie.
        Assert.Contains($"/_blazor?id=", proxy.Output, StringComparison.Ordinal);

        serving.Kill();
        var killed = Stopwatch.StartNew();
        // The live connection drops; the banner says so; reconnecting reaches the other instance, which does not know this
        // page's circuit: the banner offers a reload (or, if it gave up first, a retry that reloads).
        await Expect(page.Locator("#components-reconnect-modal")).ToHaveClassAsync(new Regex("components-reconnect-(show|failed|rejected)"), new() { Timeout = 30_000 });
        var reload = page.Locator("#reconnect-reload");
        var retry = page.Locator("#reconnect-retry");
        var deadline = DateTime.UtcNow.AddSeconds(90);
        while (!await reload.IsVisibleAsync())
        {
            if (await retry.IsVisibleAsync()) await retry.ClickAsync();
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"No reload offered 90 s after the kill: {await page.Locator("#components-reconnect-modal").GetAttributeAsync("class")}");
            await Task.Delay(250);
        }
        await reload.ClickAsync();

        // Same browser, same sign-in cookie (the key ring is in the database), now on the survivor: the cluster page, live.
        await cluster.WaitUntilInteractiveAsync();
        killed.Stop();
        output.WriteLine($"{serving.Name} killed; the page was live again on {survivor.Name} {killed.Elapsed.TotalSeconds:0.0} s later");
        await Expect(page).ToHaveURLAsync(new Regex($"/clusters/{clusterId}$"));
        await Expect(cluster.Name).ToHaveTextAsync("behind-haproxy");
        Assert.Equal(survivor.Name, await InstanceCookieAsync(page));

        // A job started from the page now runs on the survivor, and the page follows it live there.
        await page.GetByTestId("step-preflight-run").ClickAsync();
        await Expect(new JobsTab(page).SelectedState).ToHaveTextAsync("failed", new() { Timeout = 60_000 });
        await page.Context.CloseAsync();
    }

    private static async Task<string?> InstanceCookieAsync(IPage page) =>
        (await page.Context.CookiesAsync()).FirstOrDefault(c => c.Name == "ovha_instance")?.Value;

    /// <summary>HAProxy in the foreground on a free loopback port, with deploy/haproxy-ha.cfg pointed at two local panels.</summary>
    private sealed partial class HaProxy : IDisposable
    {
        private readonly ChildProcess _process;
        private readonly string _directory;

        private HaProxy(ChildProcess process, string directory, Uri baseAddress)
        {
            _process = process;
            _directory = directory;
            BaseAddress = baseAddress;
        }

        public Uri BaseAddress { get; }

        /// <summary>Its log (<c>option httplog</c> to stdout): a line per request.</summary>
        public string Output => _process.Output;

        public static async Task<HaProxy> StartAsync(int portA, int portB)
        {
            var shipped = await File.ReadAllTextAsync(Path.Combine(RepoRoot.Path, "deploy", "haproxy-ha.cfg"));
            var port = FreePort.Get();
            var config = Bind().Replace(shipped, $"bind 127.0.0.1:{port}");
            config = config.Replace("panel-a:8080", $"127.0.0.1:{portA}", StringComparison.Ordinal).Replace("panel-b:8080", $"127.0.0.1:{portB}", StringComparison.Ordinal);
            Assert.NotEqual(shipped, config);
            var directory = Directory.CreateTempSubdirectory("ovha-haproxy-").FullName;
            var file = Path.Combine(directory, "haproxy.cfg");
            await File.WriteAllTextAsync(file, config);

            var proxy = new HaProxy(ChildProcess.Start("haproxy", ["-db", "-f", file]), directory, new Uri($"http://127.0.0.1:{port}/"));
            using var probe = new HttpClient { BaseAddress = proxy.BaseAddress, Timeout = TimeSpan.FromSeconds(5) };
            var deadline = DateTime.UtcNow.AddSeconds(30);
            while (true)
            {
                if (proxy._process.HasExited) throw new InvalidOperationException($"haproxy stopped:\n{proxy.Output}");
                try
                {
                    if ((await probe.GetAsync("healthz")).IsSuccessStatusCode) return proxy;
                }
                catch (HttpRequestException)
                {
                    // Not listening yet.
                }
                if (DateTime.UtcNow > deadline) throw new TimeoutException($"haproxy did not pass /healthz through within 30 s:\n{proxy.Output}");
                await Task.Delay(200);
            }
        }

        public void Dispose()
        {
            _process.Dispose();
            Directory.Delete(_directory, recursive: true);
        }

        [GeneratedRegex(@"bind :8080")]
        private static partial Regex Bind();
    }
}
