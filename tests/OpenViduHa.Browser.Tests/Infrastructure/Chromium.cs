using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.PageObjects;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// The one way the browser tests start Debian's headless Chromium (never a downloaded one), open a context on the
/// panel and sign in: same flags, same viewport defaults, same waits everywhere.
/// </summary>
public static class Chromium
{
    public const string Path = "/usr/bin/chromium";

    /// <summary>How long a locator or navigation waits: generous, the 2-core CI machine runs labs beside the browser.</summary>
    public const int DefaultTimeoutMs = 30_000;

    /// <summary>The machine has no internet: these flags keep Chromium from calling home and retrying refused connections.</summary>
    private static readonly string[] Args =
    [
        "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync",
    ];

    public static Task<IBrowser> LaunchAsync(IPlaywright playwright)
    {
        if (!File.Exists(Path))
            throw new InvalidOperationException(
                $"Chromium is not installed at {Path}. Install Debian's package 'chromium' (sudo apt-get install chromium): " +
                "the browser tests drive the system Chromium and never download a browser.");
        return playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = Path, Headless = true, Args = Args });
    }

    /// <summary>A fresh context (own cookies) on the panel, desktop-sized unless told otherwise.</summary>
    public static async Task<IBrowserContext> NewContextAsync(IBrowser browser, Uri panel, int width = 1280, int height = 900, string? storageState = null,
        ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await browser.NewContextAsync(new BrowserNewContextOptions
        {
            BaseURL = panel.ToString(),
            ViewportSize = new ViewportSize { Width = width, Height = height },
            AcceptDownloads = true,
            StorageState = storageState,
            ColorScheme = colorScheme,
        });
        context.SetDefaultTimeout(DefaultTimeoutMs);
        return context;
    }

    /// <summary>A new context, signed in as the given user, on the cluster list.</summary>
    public static async Task<IPage> SignedInPageAsync(IBrowser browser, Uri panel, string user, string password, int width = 1280, int height = 900,
        ColorScheme colorScheme = ColorScheme.Light)
    {
        var context = await NewContextAsync(browser, panel, width, height, colorScheme: colorScheme);
        var page = await context.NewPageAsync();
        await page.GotoAsync("login");
        await new LoginPage(page).SignInAsync(user, password);
        await page.WaitForURLAsync("**/clusters");
        return page;
    }
}
