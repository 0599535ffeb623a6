using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>One panel and one headless Chromium for the browser tests. Debian's Chromium, never a downloaded one.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    private IPlaywright? _playwright;

    public PanelServer Server { get; } = new();
    public IBrowser Browser { get; private set; } = default!;
    public Uri BaseAddress => Server.BaseAddress;

    public async Task InitializeAsync()
    {
        Server.Start();
        _playwright = await Playwright.CreateAsync();
        Browser = await Chromium.LaunchAsync(_playwright);
    }

    /// <summary>A fresh browser context (own cookies) on the panel, desktop-sized unless told otherwise.</summary>
    public Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 800, string? storageState = null) =>
        Chromium.NewContextAsync(Browser, BaseAddress, width, height, storageState);

    public async Task DisposeAsync()
    {
        if (Browser is not null) await Browser.DisposeAsync();
        _playwright?.Dispose();
        await Server.DisposeAsync();
    }
}

[CollectionDefinition(Name)]
public sealed class BrowserCollection : ICollectionFixture<BrowserFixture>
{
    public const string Name = "Browser";
}
