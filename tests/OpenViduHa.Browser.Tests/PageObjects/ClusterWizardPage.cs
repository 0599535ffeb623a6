using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>
/// <c>/clusters/new</c> and <c>/clusters/{id}/edit</c>. Fields are found by their validator path (<c>domainName</c>,
/// <c>nodes[4].privateIp</c>), which the page puts in each input's <c>data-testid</c>.
/// </summary>
public sealed class ClusterWizardPage(IPage page)
{
    public ILocator Next => page.GetByTestId("wizard-next");
    public ILocator Submit => page.GetByTestId("wizard-submit");
    public ILocator Summary => page.GetByTestId("validation-summary");

    public async Task GotoNewAsync()
    {
        await page.GotoAsync("clusters/new");
        await WaitUntilInteractiveAsync();
    }

    /// <summary>The page renders on the server first; its buttons and fields are enabled once the circuit is connected.</summary>
    public Task WaitUntilInteractiveAsync() =>
        Assertions.Expect(Next).ToBeEnabledAsync();

    /// <summary>The input or textarea of a field path.</summary>
    public ILocator Field(string path) => page.Locator($"input[data-testid=\"{path}\"], textarea[data-testid=\"{path}\"]");

    /// <summary>The error text MudBlazor shows under the field (inside the same input control).</summary>
    public ILocator FieldError(string path) =>
        page.Locator(".mud-input-control").Filter(new() { Has = Field(path) }).Locator(".mud-input-error").Last;

    public async Task FillAsync(string path, string value)
    {
        var field = Field(path);
        await field.FillAsync(value);
        // The value reaches the circuit on change (blur), as a person moving to the next field does.
        await field.DispatchEventAsync("change");
    }

    public async Task FillGeneralAsync(string name, string version, string domain, string licence)
    {
        await FillAsync("name", name);
        await FillAsync("openviduVersion", version);
        await FillAsync("domainName", domain);
        await FillAsync("licenseKey", licence);
    }

    public Task NextAsync() => Next.ClickAsync();

    public Task CopySshFromFirstAsync() => page.GetByTestId("copy-ssh").ClickAsync();

    public ILocator StepTitle(string title) => page.Locator(".mud-step-label-content, .mud-stepper-nav").GetByText(title, new() { Exact = true }).First;
}
