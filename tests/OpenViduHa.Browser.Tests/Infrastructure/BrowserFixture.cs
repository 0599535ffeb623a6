using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>One panel and one headless Chromium for the browser tests. Debian's Chromium, never a downloaded one.</summary>
public sealed class BrowserFixture : IAsyncLifetime
{
    public const string ChromiumPath = "/usr/bin/chromium";

    /// <summary>The machine has no internet: these flags keep Chromium from calling home and retrying refused connections.</summary>
    private static readonly string[] _chromiumArgs =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    private IPlaywright? _playwright;

    public PanelServer Server { get; } = new();
    public IBrowser Browser { get; private set; } = default!;
    public Uri BaseAddress => Server.BaseAddress;

    public async Task InitializeAsync()
    {
        Server.Start();
        _playwright = await Playwright.CreateAsync();
        Browser = await LaunchChromiumAsync(_playwright);
    }

    /// <summary>Debian's headless Chromium, the one way every browser test starts it.</summary>
    public static Task<IBrowser> LaunchChromiumAsync(IPlaywright playwright)
    {
        if (!File.Exists(ChromiumPath))
            throw new InvalidOperationException(
                $"Chromium is not installed at {ChromiumPath}. Install Debian's package 'chromium' (sudo apt-get install chromium): " +
                "the browser tests drive the system Chromium and never download a browser.");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = ChromiumPath, Headless = true, Args = _chromiumArgs });
    }

    /// <summary>A fresh browser context (own cookies) on the panel, desktop-sized unless told otherwise.</summary>
    public async Task<IBrowserContext> NewContextAsync(int width = 1280, int height = 800, string? storageState = null)
    {
        var context = await Browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = BaseAddress.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
            StorageState = storageState,
        });
        // Generous: the 2-core CI machine runs every test assembly (and their labs) at once.
        context.SetDefaultTimeout(30_000);
        return context;
    }

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
