using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>The one-time <c>/setup</c> page (static server rendering: a plain form).</summary>
public sealed class SetupPage(IPage page)
{
    public ILocator Heading => page.GetByRole(AriaRole.Heading, new() { Name = "Create the administrator" });

    public async Task CreateAdministratorAsync(string userName, string password)
    {
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.Locator("#confirm").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Create administrator" }).ClickAsync();
    }
}
