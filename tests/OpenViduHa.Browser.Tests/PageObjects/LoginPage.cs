using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>The <c>/login</c> page (static server rendering) and the layout's sign-out button.</summary>
public sealed class LoginPage(IPage page)
{
    public ILocator Error => page.Locator(".account-error");

    public Task GotoAsync() => page.GotoAsync("login");

    public async Task SignInAsync(string userName, string password)
    {
        await page.Locator("#username").FillAsync(userName);
        await page.Locator("#password").FillAsync(password);
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign in" }).ClickAsync();
    }

    /// <summary>The app bar's sign-out button posts the form to <c>/logout</c>, which lands on the sign-in page.</summary>
    public static async Task SignOutAsync(IPage page)
    {
        await page.GetByRole(AriaRole.Button, new() { Name = "Sign out" }).ClickAsync();
        await page.WaitForURLAsync("**/login");
    }
}
