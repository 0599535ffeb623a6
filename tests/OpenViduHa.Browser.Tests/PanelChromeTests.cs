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
        await server.DisposeAsync();

        // Assert: Blazor uses the panel's banner (its stock box would be another element).
        await Expect(banner).ToBeVisibleAsync(new() { Timeout = 20_000 });
        await Expect(banner).ToContainTextAsync("Connection to the panel lost: reconnecting…");
        await Expect(banner).ToContainTextAsync("jobs keep running on the server");
        Assert.Equal(1, await page.Locator("[id^='components-reconnect']").CountAsync());
    }
}
