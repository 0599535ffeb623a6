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

    /// <summary>
    /// Next, then wait until the page moved focus to the step's top (it does after every Next, taken or refused): until
    /// then the page may still scroll, and a click that follows at once could land beside its target.
    /// </summary>
    public async Task NextAsync()
    {
        await Next.ClickAsync();
        await Assertions.Expect(page.Locator(".wizard-top")).ToBeFocusedAsync();
    }

    /// <summary>
    /// Create (or save), then wait for the cluster's page. When it does not come, the failure says what the wizard shows
    /// instead (its error summary, the framework's error bar), not only that a navigation timed out.
    /// </summary>
    public async Task SubmitAsync()
    {
        await Submit.ClickAsync();
        try
        {
            // The page moves there by client-side routing (history.pushState): poll the address, do not wait for a
            // navigation event, which can pass between reading the frame's URL and listening (CI once saw the page
            // at /clusters/1 while the wait went on).
            await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/clusters/\d+$"), new() { Timeout = 60_000 });
        }
        catch (PlaywrightException e)
        {
            var shown = await page.EvaluateAsync<string>(
                "() => JSON.stringify({ url: location.href, summary: document.querySelector('[data-testid=validation-summary]')?.innerText, " +
                "errorBar: getComputedStyle(document.getElementById('blazor-error-ui') ?? document.body).display, " +
                "reconnect: document.getElementById('components-reconnect-modal')?.className, submit: document.querySelector('[data-testid=wizard-submit]')?.outerHTML?.slice(0, 300) })");
            throw new TimeoutException($"No cluster page 60 s after Create: {shown}", e);
        }
    }

    /// <summary>Opens "Paste a list of IPs", pastes <paramref name="lines"/> and fills the rows.</summary>
    public async Task PasteIpsAsync(params string[] lines)
    {
        if (!await page.GetByTestId("paste-panel").IsVisibleAsync()) await page.GetByTestId("paste-toggle").ClickAsync();
        await FillAsync("paste-ips", string.Join("\n", lines));
        await page.GetByTestId("paste-apply").ClickAsync();
    }

    public ILocator PasteErrors => page.GetByTestId("paste-errors");

    /// <summary>The "Own SSH access" box of a node row.</summary>
    public Task ToggleOwnSshAsync(int node) => page.GetByTestId($"node-{node}").GetByRole(AriaRole.Checkbox, new() { Name = "Own SSH access" }).ClickAsync();

    public ILocator HostKeyWarning => page.GetByTestId("host-key-warning");

    /// <summary>How many text boxes on the page hold <paramref name="value"/> (a private key must be in one at most).</summary>
    public Task<int> CountFieldsHoldingAsync(string value) =>
        page.EvaluateAsync<int>("v => [...document.querySelectorAll('input, textarea')].filter(e => e.value === v).length", value);

    public ILocator StepTitle(string title) => page.Locator(".mud-step-label-content, .mud-stepper-nav").GetByText(title, new() { Exact = true }).First;
}
