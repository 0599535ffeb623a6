using System.Net;
using System.Runtime.Versioning;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator adopts a cluster installed by hand from the cluster list: host keys shown node by node and confirmed, then the cluster.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class AdoptFlowTests : IAsyncLifetime
{
    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromMilliseconds(300) });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task AdoptFromTheList_HostKeysConfirmedNodeByNode_ThenTheClusterPage()
    {
        // Arrange: a cluster installed by hand with the panel's own install-commands.sh, which the panel then forgets.
        var lab = _session.Lab.Nodes;
        using var api = _session.Api();
        var id = await _session.CreateClusterAsync("by-hand", "3.8.0", ["observability", "openviduMeet"], media: 1);
        var script = await api.GetStringAsync($"api/clusters/{id}/artifacts/install-commands.sh");
        Assert.Equal(HttpStatusCode.NoContent, (await api.DeleteAsync($"api/clusters/{id}")).StatusCode);
        string[] names = ["master-1", "master-2", "master-3", "master-4", "media-1"];
        for (var i = 0; i < 5; i++)
        {
            lab[i].WriteFile("/root/install-commands.sh", script);
            var run = await lab[i].RunAsRootAsync($"bash /root/install-commands.sh {names[i]} && systemctl start openvidu");
            Assert.True(run.ExitCode == 0, run.Error);
        }

        var page = await _session.SignedInPageAsync();
        await page.GotoAsync("clusters");
        await Expect(page.GetByTestId("clusters-page")).ToHaveAttributeAsync("data-interactive", "true");
        await page.GetByTestId("adopt-cluster").ClickAsync();
        await Expect(page.GetByTestId("adopt-read")).ToBeEnabledAsync(); // the form is live
        await FillAsync(page, "adopt-name", "adopted");
        await FillAsync(page, "adopt-base-url", _session.Lab.InstallerHttpsBaseUrl);
        await FillAsync(page, "adopt-nodes", string.Join('\n', lab.Take(4).Select(n => $"master {n.Address}").Append($"media {lab[4].Address}")));
        await FillAsync(page, "adopt-key", _session.Lab.Keys.Ed25519.PrivateKey);
        await page.GetByTestId("adopt-read").ClickAsync();

        // Each node's presented key, to check before anything is read.
        var findings = page.GetByTestId("adopt-findings");
        await Expect(findings).ToContainTextAsync("Confirm each node's host key", new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("finding-media-1")).ToContainTextAsync(lab[4].HostKeyFingerprint);
        Assert.Empty(await Axe.RunAsync(page));
        await page.GetByTestId("adopt-read").ClickAsync();

        // Adopted: the cluster's page, its nodes installed.
        await Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex("/clusters/[0-9]+$"), new() { Timeout = 30_000 });
        await Expect(page.GetByTestId("cluster-name")).ToHaveTextAsync("adopted");
        await Expect(page.GetByTestId("installed-media-1")).Not.ToHaveTextAsync("no");
    }

    /// <summary>The value reaches the circuit on change (blur), as a person moving to the next field does.</summary>
    private static async Task FillAsync(IPage page, string testId, string value)
    {
        var field = page.GetByTestId(testId);
        await field.FillAsync(value);
        await field.DispatchEventAsync("change");
    }
}
