using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>The upgrade job and its rollback on lab nodes, through OpenVidu's updater stand-in (one hop per run).</summary>
public sealed class UpgradeTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Jobs:UpgradeMinFreeDiskGiB"] = "1" };

    /// <summary>
    /// 3.0.0 to 3.4.0: four hops on every node, each reporting the hop's version, the layout moved from .env to config/
    /// with the same values, the cluster's version and artifacts following, and credentials checked in the new layout.
    /// </summary>
    [Fact]
    public async Task From300To340_EveryHopOnEveryNode_LayoutMoved_ClusterFollows_CredentialsStillEqual()
    {
        await using var lp = await LabPanel.StartAsync(5, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("upgrade", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var nginxBefore = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");

        var job = await lp.RunUpgradeAsync(id, "3.4.0");

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal("3.4.0", job["targetVersion"]!.GetValue<string>());
        Assert.All(job["nodes"]!.AsArray(), n => Assert.Equal("Upgraded to 3.4.0, started and healthy", n!["message"]!.GetValue<string>()));
        foreach (var node in nodes.Take(5))
        {
            Assert.Equal(4, node.UpdaterRuns);
            Assert.Contains("version: \"3.4.0\"", node.ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal);
            Assert.Null(node.ReadFile("/opt/openvidu/.env"));
            Assert.True(node.ServiceActive, node.Name);
        }
        Assert.Contains("DOMAIN_NAME=openvidu.example.io", nodes[0].ReadFile("/opt/openvidu/config/cluster/openvidu.env"), StringComparison.Ordinal);
        var log = await lp.LogTextAsync(job["id"]!.GetValue<int>());
        Assert.Contains("Hop 3.0.0 → 3.1.0: OpenVidu's 3.1.0 updater on every node.", log, StringComparison.Ordinal);
        Assert.Contains("replace the load balancer's config", log, StringComparison.Ordinal);

        var cluster = await lp.ClusterAsync(id);
        Assert.Equal("3.4.0", cluster["openviduVersion"]!.GetValue<string>());
        Assert.NotEqual(nginxBefore, await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf"));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
    }

    /// <summary>
    /// A hop fails on one node: the job stops there with every node stopped and the cluster's version unchanged; the
    /// rollback puts each node's backup back and starts the old version; then a retry of the upgrade finishes it.
    /// </summary>
    [Fact]
    public async Task HopFailsOnANode_StopsThere_RollbackRestoresTheOldVersion_RetryFinishes()
    {
        await using var lp = await LabPanel.StartAsync(5, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("rollback", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        nodes[4].FailUpdater("Error: cannot pull openvidu/openvidu-updater:3.9.0");

        var failed = await lp.RunUpgradeAsync(id, "3.9.0");

        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Equal("The 3.9.0 updater failed (exit 1): Error: cannot pull openvidu/openvidu-updater:3.9.0", LabPanel.NodeMessage(failed, "media-1"));
        Assert.StartsWith("Stopped on 3.8.0 or 3.9.0", LabPanel.NodeMessage(failed, "master-1"), StringComparison.Ordinal);
        Assert.All(nodes.Take(5), n => Assert.False(n.ServiceActive, n.Name));
        Assert.Equal("3.8.0", (await lp.ClusterAsync(id))["openviduVersion"]!.GetValue<string>());
        Assert.Contains("version: \"3.9.0\"", nodes[0].ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal);

        var rollback = await lp.RunJobAsync(id, "rollback-upgrade");

        Assert.True(rollback["state"]!.GetValue<string>() == "succeeded", rollback.ToJsonString());
        foreach (var node in nodes.Take(5))
        {
            Assert.Contains("version: \"3.8.0\"", node.ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal);
            Assert.True(node.ServiceActive, node.Name);
        }

        // The cause fixed, a retry of the failed job runs the whole upgrade again.
        nodes[4].ClearFaults();
        var retry = await lp.Api.PostAsync($"/api/jobs/{failed["id"]}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var done = await lp.WaitAsync((await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
        Assert.True(done["state"]!.GetValue<string>() == "succeeded", done.ToJsonString());
        Assert.Equal(5, done["nodes"]!.AsArray().Count);
        Assert.Equal("3.9.0", (await lp.ClusterAsync(id))["openviduVersion"]!.GetValue<string>());
    }

    /// <summary>
    /// Cancelled while one node's updater still runs (the others finished the hop): the job says where the cluster stands,
    /// the version stays, and a rollback puts every node back on it, started.
    /// </summary>
    [Fact]
    public async Task CancelledMidHop_SaysWhereItStands_RollbackBringsEveryNodeBack()
    {
        await using var lp = await LabPanel.StartAsync(5, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("cancel-upgrade", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        nodes[4].SlowUpdater(TimeSpan.FromSeconds(30));
        var response = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "upgrade", targetVersion = "3.9.0" });
        var jobId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "master-1") == "On 3.9.0, stopped" && LabPanel.NodeMessage(j, "media-1") == "Updating 3.8.0 → 3.9.0", seconds: 60);

        Assert.True((await lp.Api.PostAsync($"/api/jobs/{jobId}/cancel", null)).IsSuccessStatusCode);
        var job = await lp.WaitAsync(jobId);

        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.Contains("Cancelled: the nodes may be stopped, and a hop may have finished on some of them only; the cluster's version stays 3.8.0.",
            await lp.LogTextAsync(jobId), StringComparison.Ordinal);
        Assert.Equal("3.8.0", (await lp.ClusterAsync(id))["openviduVersion"]!.GetValue<string>());
        Assert.All(nodes.Take(5), n => Assert.False(n.ServiceActive, n.Name));

        nodes[4].ClearFaults();
        var rollback = await lp.RunJobAsync(id, "rollback-upgrade");

        Assert.True(rollback["state"]!.GetValue<string>() == "succeeded", rollback.ToJsonString());
        foreach (var node in nodes.Take(5))
        {
            Assert.Contains("version: \"3.8.0\"", node.ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal);
            Assert.True(node.ServiceActive, node.Name);
        }
    }

    /// <summary>The panel stops mid-hop: the upgrade is interrupted, and a retry runs it to the end (finished hops skipped on each node).</summary>
    [Fact]
    public async Task PanelRestartedMidHop_Interrupted_RetryFinishes()
    {
        await using var lp = await LabPanel.StartAsync(5, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("restart-upgrade", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        nodes[4].SlowUpdater(TimeSpan.FromSeconds(3));
        var response = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "upgrade", targetVersion = "3.4.0" });
        var jobId = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-1") == "Updating 3.1.0 → 3.2.0", seconds: 90);

        lp.RestartPanel();

        var job = await lp.JobAsync(jobId);
        Assert.Equal("interrupted", job["state"]!.GetValue<string>());
        Assert.Equal("3.1.0", (await lp.ClusterAsync(id))["openviduVersion"]!.GetValue<string>()); // the first hop was done everywhere

        nodes[4].ClearFaults();
        var retried = await lp.RetryAsync(jobId);

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Equal("3.4.0", (await lp.ClusterAsync(id))["openviduVersion"]!.GetValue<string>());
        foreach (var node in nodes.Take(5))
        {
            Assert.Contains("version: \"3.4.0\"", node.ReadFile("/opt/openvidu/deployment-info.yaml"), StringComparison.Ordinal);
            Assert.True(node.ServiceActive, node.Name);
        }
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_BeforeAnythingRuns_WithTheReason()
    {
        await using var lp = await LabPanel.StartAsync(5, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("refused", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));

        var notInstalled = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "upgrade", targetVersion = "3.9.0" });
        Assert.Equal(HttpStatusCode.BadRequest, notInstalled.StatusCode);
        Assert.Contains("not installed", await notInstalled.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var downgrade = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "upgrade", targetVersion = "3.4.0" });
        Assert.Equal(HttpStatusCode.BadRequest, downgrade.StatusCode);
        Assert.Contains("older than the cluster's 3.8.0", await downgrade.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        var none = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "upgrade" });
        Assert.Equal(HttpStatusCode.BadRequest, none.StatusCode);
        Assert.All(nodes.Take(5), n => Assert.Equal(0, n.UpdaterRuns));
    }
}
