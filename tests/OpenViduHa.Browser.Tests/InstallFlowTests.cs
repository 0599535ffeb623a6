using System.Runtime.Versioning;
using Microsoft.Playwright;
using OpenViduHa.Browser.Tests.Infrastructure;
using OpenViduHa.Browser.Tests.PageObjects;
using OpenViduHa.Lab;
using static Microsoft.Playwright.Assertions;

namespace OpenViduHa.Browser.Tests;

/// <summary>An operator starts an install from the cluster page and watches it live, against a lab of real sshd nodes.</summary>
[Trait("Category", "Browser")]
[SupportedOSPlatform("linux")]
public sealed class InstallFlowTests : IAsyncLifetime
{
    private LabSession _session = null!;

    public async Task InitializeAsync() =>
        _session = await LabSession.StartAsync(new LabOptions { Nodes = 7, InstallerDelay = TimeSpan.FromSeconds(2) });

    public async Task DisposeAsync() => await _session.DisposeAsync();

    [Fact]
    public async Task Install_StartedFromTheUi_LiveLogReachesTheBannersWithEveryLineOnce()
    {
        // Arrange: a cluster of lab nodes, made through the API (the wizard has its own test).
        var clusterId = await _session.CreateClusterAsync("browser-install", "3.8.0", ["observability", "openviduMeet"], media: 2);
        var page = await _session.SignedInPageAsync();
        var context = page.Context;
        await page.GotoAsync($"clusters/{clusterId}");
        var cluster = new ClusterPage(page);
        await cluster.WaitUntilInteractiveAsync();
        var watcherPage = await context.NewPageAsync();
        await watcherPage.GotoAsync($"clusters/{clusterId}");
        var watcher = new ClusterPage(watcherPage);
        await watcher.WaitUntilInteractiveAsync();
        await Expect(watcher.Installed("master-1")).ToHaveTextAsync("no");
        await cluster.OpenTabAsync("Jobs");
        var jobs = new JobsTab(page);

        // Act: one click.
        await jobs.StartAsync("install");

        // Assert: the log grows by itself (no reload) up to both banners and the job's success.
        await Expect(jobs.Log).ToContainTextAsync("Running the OpenVidu 3.8.0 master installer", new() { Timeout = 20_000 });
        await Expect(jobs.Log).ToContainTextAsync("OpenVidu HA 'Master Node' Installation Finished Successfully!", new() { Timeout = 40_000 });
        await Expect(jobs.Log).ToContainTextAsync("OpenVidu HA 'Media Node' Installation Finished Successfully!", new() { Timeout = 40_000 });
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", new() { Timeout = 40_000 });
        foreach (var node in new[] { "master-1", "master-2", "master-3", "master-4", "media-1", "media-2" })
            await Expect(jobs.NodeState(node)).ToHaveTextAsync("succeeded");
        await Expect(jobs.Log).ToContainTextAsync("install succeeded:", new() { Timeout = 10_000 }); // the job's last line
        // Every line once, in order: the rows drawn (the log draws those in view) are consecutive, the view follows the
        // end, and the count is the last line's number.
        var live = await jobs.SeqsAsync();
        Assert.Equal(Enumerable.Range(live[0], live.Count), live);
        var total = live[^1];
        await Expect(jobs.LogCount).ToHaveTextAsync($"{total:N0} lines");

        // A view opened afterwards shows the same lines, each once.
        var late = await context.NewPageAsync();
        await late.GotoAsync($"clusters/{clusterId}");
        await new ClusterPage(late).WaitUntilInteractiveAsync();
        await new ClusterPage(late).OpenTabAsync("Jobs");
        var lateJobs = new JobsTab(late);
        await Expect(lateJobs.SelectedState).ToHaveTextAsync("succeeded");
        await Expect(lateJobs.LogCount).ToHaveTextAsync($"{total:N0} lines");
        // The count comes with the lines; the rows in view are drawn a moment later (the log's own script).
        await Expect(lateJobs.LogLine(total)).ToBeVisibleAsync();
        var lateSeqs = await lateJobs.SeqsAsync();
        Assert.Equal(Enumerable.Range(lateSeqs[0], lateSeqs.Count), lateSeqs);
        Assert.Equal(total, lateSeqs[^1]);
        Assert.All(_session.Lab.Nodes.Take(6), n => Assert.Equal(1, n.InstallerRuns));

        // A second page left on the nodes tab (no Jobs tab mounted) learned by itself that the install ended.
        foreach (var node in new[] { "master-1", "media-2" })
            await Expect(watcher.Installed(node)).Not.ToHaveTextAsync("no", new() { Timeout = 10_000 });

        // One more media node, from the nodes tab, signing in like media-2 (no key pasted again): stored and installed in one go. OpenVidu 3.8.0 (3.4+): the load
        // balancer targets only the masters, and the page says so, without asking for a reload.
        var spare = _session.Lab.Nodes[6];
        var hint = await cluster.AddMediaNodeAsync(spare.Address, spare.HostKeyFingerprint);
        Assert.Equal("The load balancer's config does not change: it lists only the masters.", hint);
        await Expect(cluster.LoadBalancerNote).ToContainTextAsync("Nothing changes for the load balancer: from OpenVidu 3.2 on it sends everything to the four masters");
        await Expect(cluster.LoadBalancerNote.GetByRole(AriaRole.Link)).ToHaveCountAsync(0);
        await Expect(jobs.SelectedState).ToHaveTextAsync("succeeded", new() { Timeout = 40_000 });
        await Expect(jobs.NodeState("media-3")).ToHaveTextAsync("succeeded");
        Assert.Equal(1, spare.InstallerRuns);
        Assert.True(spare.ServiceActive);
    }
}
