using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// Sign-ins are sessions on the server: revoking one from another browser, or signing out in one tab, ends the live
/// pages of that session by themselves (the circuit checks its session every second here, every 30 s by default).
/// </summary>
public sealed class SessionTests() : OwnPanelTest("sessions", "sessions-test-password-1", "ovha_browser_sessions_0123456789abcdef012345678",
    new Dictionary<string, string> { ["Sessions:RevalidationInterval"] = "00:00:01" })
{
    private static readonly LocatorAssertionsToHaveCountOptions Gone = new() { Timeout = 15_000 };

    [Fact]
    public async Task RevokedFromAnotherBrowser_AndSignedOutInAnotherTab_OpenPagesEndWithinTheInterval()
    {
        // Two browsers of one administrator: a laptop left open on a cluster list, and the desk.
        var laptop = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await new ClusterListPage(laptop).WaitUntilInteractiveAsync();
        var desk = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await desk.GotoAsync("sessions");
        var table = desk.GetByTestId("sessions-table");
        await Expect(table).ToContainTextAsync("this browser");
        Assert.Empty(await Axe.RunAsync(desk));

        // The desk revokes the laptop's session (the one row that is not its own).
        var revoke = desk.Locator("[data-testid^=revoke-session-]");
        await Expect(revoke).ToHaveCountAsync(1);
        await revoke.ClickAsync();
        await desk.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
        await Expect(table).ToContainTextAsync("revoked");

        // The laptop's open page leaves by itself: nobody clicks there.
        await laptop.WaitForURLAsync("**/login**", new() { Timeout = 15_000 });

        // Sign out in one tab of the desk: its other tab follows.
        var deskTab = await desk.Context.NewPageAsync();
        await deskTab.GotoAsync("clusters");
        await new ClusterListPage(deskTab).WaitUntilInteractiveAsync();
        await LoginPage.SignOutAsync(desk);
        await deskTab.WaitForURLAsync("**/login**", new() { Timeout = 15_000 });
        await Expect(deskTab.GetByRole(AriaRole.Button, new() { Name = "Sign out" })).ToHaveCountAsync(0, Gone);
    }
}
