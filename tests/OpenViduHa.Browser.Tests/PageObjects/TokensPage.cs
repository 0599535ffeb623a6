using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary><c>/tokens</c>: create a token (shown once), revoke it through the confirmation dialog.</summary>
public sealed class TokensPage(IPage page)
{
    public ILocator NewTokenValue => page.Locator("#newTokenValue");
    public ILocator Table => page.GetByTestId("tokens-table");

    public async Task GotoAsync()
    {
        await page.GotoAsync("tokens");
        await Assertions.Expect(page.GetByTestId("create-token")).ToBeEnabledAsync();
    }

    public async Task CreateAsync(string name)
    {
        await page.Locator("#tokenName").FillAsync(name);
        await page.GetByTestId("create-token").ClickAsync();
    }

    public async Task RevokeAsync(string name)
    {
        await page.GetByTestId($"revoke-{name}").ClickAsync();
        await page.GetByRole(AriaRole.Dialog).GetByRole(AriaRole.Button, new() { Name = "Revoke" }).ClickAsync();
    }
}
