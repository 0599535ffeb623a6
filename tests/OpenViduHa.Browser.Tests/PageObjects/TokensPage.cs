using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary><c>/tokens</c>: create a token (shown once) with a scope, revoke it through the confirmation dialog.</summary>
public sealed class TokensPage(IPage page)
{
    public ILocator NewTokenValue => page.Locator("#newTokenValue");
    public ILocator Table => page.GetByTestId("tokens-table");

    public async Task GotoAsync()
    {
        await page.GotoAsync("tokens");
        await Assertions.Expect(page.GetByTestId("create-token")).ToBeEnabledAsync();
    }

    /// <summary>A token of that name and scope (read by default), expiring as the form proposes (90 days).</summary>
    public async Task CreateAsync(string name, string scope = "read")
    {
        await page.Locator("#tokenName").FillAsync(name);
        if (scope != "read")
        {
            await page.GetByTestId("token-scope").ClickAsync();
            await page.GetByRole(AriaRole.Option, new() { Name = scope, Exact = true }).ClickAsync();
            // The choice reaches the server with the click; its help text below the field says it arrived.
            await Assertions.Expect(page.GetByText(scope == "operate" ? "Plus jobs, cancel, retry" : "Everything: cluster edits")).ToBeVisibleAsync();
        }
        await page.GetByTestId("create-token").ClickAsync();
    }

    public async Task RevokeAsync(string name)
    {
        await page.GetByTestId($"revoke-{name}").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
    }
}
