using System.Net.Http.Json;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>
/// An operator moves the panel to a new machine from the pages alone: a backup downloaded on the old panel, uploaded on
/// a fresh one (its own data directory and keys), the cluster there, and the old administrator's password with it.
/// </summary>
public sealed class BackupFlowTests() : OwnPanelTest("backups", "backups-old-password-1", "ovha_browser_backups_0123456789abcdef0123456")
{
    private const string Passphrase = "move the panel, keep the secrets";

    [Fact]
    public async Task BackupDownloaded_OnOnePanel_RestoredOnAFreshOne()
    {
        var clusterId = await ClusterApi.CreateAsync(Api(), "moving", "3.8.0", ["observability", "openviduMeet"], "https://get.openvidu.io",
            [.. Enumerable.Range(1, 4).Select(i => new ClusterApi.Node($"10.5.0.{i}", TestKeys.Ed25519, HostKeyFingerprint: "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0"))],
            [new ClusterApi.Node("10.5.0.11", TestKeys.Ed25519)]);
        var credentials = await Api().GetStringAsync($"api/clusters/{clusterId}/artifacts/credentials.env");

        // The old panel: the passphrase checked at its fields, then the file downloaded.
        var old = await Chromium.SignedInPageAsync(Browser, Server.BaseAddress, Admin, Password);
        await old.GotoAsync("backup");
        await Expect(old.GetByTestId("restore-not-empty")).ToContainTextAsync("This panel has 1 cluster");
        var download = old.GetByTestId("backup-download");
        await Expect(download).ToBeEnabledAsync();
        Assert.Empty(await Axe.RunAsync(old));

        await FillAsync(old, "backup-passphrase", "too short");
        await download.ClickAsync();
        await Expect(old.GetByText("Use at least 12 characters")).ToBeVisibleAsync();
        await FillAsync(old, "backup-passphrase", Passphrase);
        await FillAsync(old, "backup-repeat", Passphrase + "!");
        await download.ClickAsync();
        await Expect(old.GetByText("The two passphrases differ")).ToBeVisibleAsync();
        await FillAsync(old, "backup-repeat", Passphrase);
        var file = await old.RunAndWaitForDownloadAsync(() => download.ClickAsync());
        Assert.Matches(@"^openvidu-ha-panel-\d{8}-\d{6}Z\.ovhabak$", file.SuggestedFilename);
        var path = Path.Combine(Server.DataDirectory, file.SuggestedFilename);
        await file.SaveAsAsync(path);
        await Expect(old.GetByTestId("backup-made")).ToContainTextAsync("1 cluster with 5 nodes");
        Assert.Equal("OVHA-BAK", System.Text.Encoding.ASCII.GetString((await File.ReadAllBytesAsync(path))[..8]));

        // The new machine: a fresh panel whose administrator has another password.
        await using var fresh = new PanelServer { Bootstrap = (Admin, "backups-new-password-2", "ovha_browser_backups_fresh_0123456789abcdef01"), Settings = new Dictionary<string, string> { ["Status:Enabled"] = "false" } };
        fresh.Start();
        var page = await Chromium.SignedInPageAsync(Browser, fresh.BaseAddress, Admin, "backups-new-password-2");
        await new ClusterListPage(page).WaitUntilInteractiveAsync();
        await page.GetByTestId("nav-backup").ClickAsync();
        var restore = page.GetByTestId("restore-run");
        await Expect(restore).ToBeEnabledAsync();
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("restore-file").SetInputFilesAsync(path);

        await FillAsync(page, "restore-passphrase", "not the passphrase");
        await restore.ClickAsync();
        await Expect(page.GetByText("The passphrase does not open this backup")).ToBeVisibleAsync();

        await FillAsync(page, "restore-passphrase", Passphrase);
        await restore.ClickAsync();
        var done = page.GetByTestId("restore-done");
        await Expect(done).ToContainTextAsync("Restored 1 cluster with 5 nodes");
        await Expect(done).ToContainTextAsync("1 user of the same name took the backup's password");
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("restore-clusters").ClickAsync();
        await Expect(new ClusterListPage(page).Link("moving")).ToBeVisibleAsync();

        // The secrets came along, and the old password signs in on the new panel.
        using var freshApi = new HttpClient { BaseAddress = fresh.BaseAddress };
        freshApi.DefaultRequestHeaders.Authorization = new("Bearer", Token); // the old panel's token, restored
        Assert.Equal(credentials, await freshApi.GetStringAsync($"api/clusters/{clusterId}/artifacts/credentials.env"));
        var again = await Chromium.SignedInPageAsync(Browser, fresh.BaseAddress, Admin, Password);
        await Expect(new ClusterListPage(again).Link("moving")).ToBeVisibleAsync();

        // Their live connections closed before the fresh panel stops (an open circuit holds its shutdown).
        await page.Context.CloseAsync();
        await again.Context.CloseAsync();
    }

    private static async Task FillAsync(IPage page, string testId, string value)
    {
        var field = page.GetByTestId(testId);
        await field.FillAsync(value);
        await field.DispatchEventAsync("change");
    }
}
