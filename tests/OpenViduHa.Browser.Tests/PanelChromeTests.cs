using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// What surrounds every page: an unknown address gets the panel's own page (the API keeps its answers), the favicon, and
/// a banner in words when the live connection drops (the panel stops under an open page), instead of the framework's box.
/// </summary>
[Trait("Category", "Browser")]
public sealed class PanelChromeTests() : OwnPanelTest("chrome", "chrome-test-password-1", "ovha_browser_chrome_0123456789abcdef0123456789")
{
    [Fact]
    public async Task UnknownAddress_PanelsOwnNotFoundPage_ApiUnchanged()
    {
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);

        var response = await page.GotoAsync("clusters/42/no-such-tab");

        Assert.Equal(404, response!.Status);
        await Expect(page.GetByTestId("not-found")).ToContainTextAsync("The panel has no page at this address.");
        await Expect(page).ToHaveTitleAsync("Not found · OpenVidu HA panel");
        await page.GetByRole(AriaRole.Link, new() { Name = "Go to the clusters" }).ClickAsync();
        await page.WaitForURLAsync("**/clusters");

        using var api = Api();
        var apiAnswer = await api.GetAsync("api/clusters/42");
        Assert.Equal(404, (int)apiAnswer.StatusCode);
        Assert.Equal("application/problem+json", apiAnswer.Content.Headers.ContentType?.MediaType);
    }

    [Fact]
    public async Task EveryPage_LinksTheFavicon_WhichIsServed()
    {
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);

        var href = await page.Locator("link[rel=icon]").GetAttributeAsync("href");
        var icon = await page.APIRequest.GetAsync(href!);

        Assert.Equal("favicon.svg", href);
        Assert.Equal(200, icon.Status);
        Assert.StartsWith("image/svg+xml", icon.Headers["content-type"], StringComparison.Ordinal);
    }

    /// <summary>
    /// Every answer carries the security headers; the pages run under their content security policy without one
    /// violation (Blazor's connection, MudBlazor's scripts and styles, the panel's own), through Kestrel.
    /// </summary>
    [Fact]
    public async Task Pages_SecurityHeaders_AndNoContentSecurityPolicyViolation()
    {
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        var violations = new List<string>();
        page.Console += (_, message) => { if (message.Text.Contains("Content Security Policy", StringComparison.Ordinal)) violations.Add(message.Text); };
        await page.AddInitScriptAsync("document.addEventListener('securitypolicyviolation', e => console.error('Content Security Policy: ' + e.violatedDirective + ' ' + e.blockedURI))");

        foreach (var path in new[] { "clusters", "clusters/new", "tokens", "audit" })
        {
            var response = await page.GotoAsync(path);
            var headers = await response!.AllHeadersAsync();
            // The browser hides the attribute once the policy applied; the element's property keeps it.
            var nonce = await page.Locator("script[type=importmap]").EvaluateAsync<string>("e => e.nonce");
            Assert.False(string.IsNullOrEmpty(nonce));
            Assert.Equal(OpenViduHa.Web.Hosting.ProxyAndHeaders.ContentSecurityPolicy(nonce), headers["content-security-policy"]);
            Assert.Equal("nosniff", headers["x-content-type-options"]);
            Assert.Equal("DENY", headers["x-frame-options"]);
            Assert.Equal("same-origin", headers["referrer-policy"]);
            Assert.False(headers.ContainsKey("strict-transport-security")); // plain http: HSTS only over https
            await Expect(page.GetByRole(AriaRole.Heading, new() { Level = 1 })).ToBeVisibleAsync();
        }
        await page.GotoAsync("clusters/new");
        await new PageObjects.ClusterWizardPage(page).WaitUntilInteractiveAsync(); // the circuit connected under the policy
        await ChooseAsync(page, "Dark"); // JS interop and MudBlazor's popovers too

        // The tools served beside the pages (Hangfire's dashboard, the API reference) work under their own policy.
        foreach (var path in new[] { "hangfire", "api-docs" })
        {
            var response = await page.GotoAsync(path);
            Assert.Equal(OpenViduHa.Web.Hosting.ProxyAndHeaders.ToolsContentSecurityPolicy, (await response!.AllHeadersAsync())["content-security-policy"]);
            await page.WaitForLoadStateAsync(LoadState.NetworkIdle);
        }
        await Expect(page.GetByText("GET /api/clusters").First).ToBeVisibleAsync();
        // The reference probes for eval once and works without it: the policy keeps refusing eval there too.
        violations.Remove("Content Security Policy: script-src eval");

        Assert.Empty(violations);
        var api = await page.APIRequest.GetAsync("healthz");
        Assert.Equal("nosniff", api.Headers["x-content-type-options"]);
    }

    /// <summary>Dark chosen in a browser whose system is light: applied at once, kept across a reload, and back to the system on request.</summary>
    [Fact]
    public async Task ColourScheme_DarkChosen_KeptAcrossReload_ThenLikeTheSystemAgain()
    {
        var page = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await new PageObjects.ClusterListPage(page).WaitUntilInteractiveAsync();
        var html = page.Locator("html");
        await Expect(html).ToHaveAttributeAsync("data-theme", "light");

        await ChooseAsync(page, "Dark");
        await Expect(html).ToHaveAttributeAsync("data-theme", "dark");
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", "rgb(18, 20, 23)");

        await page.ReloadAsync();
        await Expect(html).ToHaveAttributeAsync("data-theme", "dark"); // from the first paint (theme.js), before the circuit
        await new PageObjects.ClusterListPage(page).WaitUntilInteractiveAsync();
        await Expect(page.Locator("body")).ToHaveCSSAsync("background-color", "rgb(18, 20, 23)");

        await ChooseAsync(page, "Like the system");
        await Expect(html).ToHaveAttributeAsync("data-theme", "light");
        Assert.Null(await page.EvaluateAsync<string?>("() => localStorage.getItem('ovha-theme')"));
    }

    private static async Task ChooseAsync(IPage page, string scheme)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Colour scheme" }).ClickAsync();
        await page.GetByRole(AriaRole.Menuitem, new() { Name = scheme }).ClickAsync();
    }

    /// <summary>A panel of its own, stopped under an open page: the banner says what happened and that jobs keep running.</summary>
    [Fact]
    public async Task PanelStops_ReconnectBannerSaysSoInWords()
    {
        // Arrange
        var server = new PanelServer { Bootstrap = (Admin, Password, Token), Settings = new Dictionary<string, string> { ["Status:Enabled"] = "false" } };
        server.Start();
        var page = await Chromium.SignedInPageAsync(Browser, server.BaseAddress, Admin, Password);
        await new PageObjects.ClusterListPage(page).WaitUntilInteractiveAsync();
        var banner = page.Locator("#components-reconnect-modal");
        await Expect(banner).ToBeHiddenAsync();

        // Act
        try
        {
            await server.DisposeAsync();
        }
        catch (OperationCanceledException)
        {
            // The open page's connection holds the stop until the host's shutdown timeout on a loaded machine; Hangfire then
            // reports the cut short wait. The panel is stopped all the same (CI on f9c1ff3).
        }

        // Assert: Blazor uses the panel's banner (its stock box would be another element).
        await Expect(banner).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(banner).ToContainTextAsync("Connection to the panel lost: reconnecting…");
        await Expect(banner).ToContainTextAsync("jobs keep running on the server");
        Assert.Equal(1, await page.Locator("[id^='components-reconnect']").CountAsync());
    }
}
