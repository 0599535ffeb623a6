using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// A browser test class with a panel of its own (an administrator and an API token made at start, no scheduled status
/// sweeps: what the tests publish or seed stays as they made it) and its own headless Chromium.
/// </summary>
public abstract class OwnPanelTest(string admin, string password, string token, IReadOnlyDictionary<string, string>? settings = null) : IAsyncLifetime
{
    protected string Admin { get; } = admin;
    protected string Password { get; } = password;
    protected string Token { get; } = token;

    protected PanelServer Server { get; } = new()
    {
        Bootstrap = (admin, password, token),
        Settings = new Dictionary<string, string>(settings ?? new Dictionary<string, string>()) { ["Status:Enabled"] = "false" },
    };

    protected IBrowser Browser { get; private set; } = null!;
    private IPlaywright _playwright = null!;

    public async Task InitializeAsync()
    {
        Server.Start();
        _playwright = await Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(_playwright);
    }

    public async Task DisposeAsync()
    {
        await Browser.DisposeAsync();
        _playwright.Dispose();
        await Server.DisposeAsync();
    }

    /// <summary>A client of the panel's API with the test's token.</summary>
    protected HttpClient Api()
    {
        var api = new HttpClient { BaseAddress = Server.BaseAddress };
        api.DefaultRequestHeaders.Authorization = new System.Net.Http.Headers.AuthenticationHeaderValue("Bearer", Token);
        return api;
    }
}
