using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// remove-node on lab nodes: the media server drained by docker stop on the drain timeout while its rooms are counted
/// from its metrics, the unit stopped and disabled, the node out of the definition; and every way it can stop half-way
/// (a node that cannot be reached, a cancel, a panel restart) leaving the node in the cluster marked leaving, finished
/// by a retry.
/// </summary>
public sealed class RemoveNodeTests
{
    private static readonly Dictionary<string, string?> Settings = new() { ["Jobs:DrainPollInterval"] = "00:00:00.200" };

    /// <summary>4 masters and 2 media nodes of <paramref name="version"/>, installed.</summary>
    private static async Task<(LabPanel Lp, int Id)> InstalledAsync(string name, string version = "3.8.0")
    {
        var lp = await LabPanel.StartAsync(6, settings: Settings);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec(name, version, nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        return (lp, id);
    }

    private static async Task<int> RemoveAsync(LabPanel lp, int id, string node, object? extra = null)
    {
        var body = JsonSerializer(extra);
        body["kind"] = "remove-node";
        body["nodeId"] = await lp.NodeIdAsync(id, node);
        return await lp.StartJobOkAsync(id, body);
    }

    private static JsonObject JsonSerializer(object? extra) =>
        extra is null ? [] : System.Text.Json.JsonSerializer.SerializeToNode(extra, LabPanel.Json)!.AsObject();

    private static async Task<JsonObject> StatusAsync(LabPanel lp, int id)
    {
        var response = await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static JsonObject StatusNode(JsonObject status, string name) =>
        status["nodes"]!.AsArray().First(n => n!["name"]!.GetValue<string>() == name)!.AsObject();

    [Fact]
    public async Task Drains_CountsTheRooms_LeavingNotDown_ThenStopsDisablesAndLeavesTheDefinition()
    {
        var (lp, id) = await InstalledAsync("drain");
        await using var _ = lp;
        var media2 = lp.Lab.Nodes[5];
        media2.Rooms = 2;

        var jobId = await RemoveAsync(lp, id, "media-2", new { drainTimeout = "00:01:00" });
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-2") == "Draining: 2 rooms still on media-2", seconds: 30);

        // While it drains: the media server still serves its rooms (it takes no new one), the node is leaving, and the
        // cluster does not count it down.
        Assert.True(media2.OpenViduContainerRunning);
        var status = await StatusAsync(lp, id);
        Assert.True(StatusNode(status, "media-2")["leaving"]!.GetValue<bool>());
        Assert.Equal("amber", StatusNode(status, "media-2")["health"]!.GetValue<string>());
        Assert.Equal("healthy", status["health"]!.GetValue<string>());
        Assert.EndsWith("media-2 is leaving the cluster.", status["reason"]!.GetValue<string>(), StringComparison.Ordinal);

        media2.Rooms = 1;
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-2") == "Draining: 1 room still on media-2", seconds: 30);
        media2.Rooms = 0;
        var job = await lp.WaitAsync(jobId);

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal("Removed from the cluster", LabPanel.NodeMessage(job, "media-2"));
        Assert.Equal("00:01:00", job["drainTimeout"]!.GetValue<string>());
        var drain = Assert.Single(media2.Drains);
        Assert.Equal(("drained", 60, 0), (drain.Outcome, drain.TimeoutSeconds, drain.RoomsCut));
        Assert.False(media2.ServiceActive);
        Assert.False(media2.ServiceEnabled);
        Assert.NotNull(media2.ReadFile("/opt/openvidu/deployment-info.yaml")); // not wiped unless asked
        var log = await lp.LogTextAsync(jobId);
        Assert.Contains("Draining: 2 rooms still on media-2\nDraining: 1 room still on media-2\n", log, StringComparison.Ordinal);
        Assert.Contains("Drained in ", log, StringComparison.Ordinal);
        Assert.DoesNotContain("load balancer config changed", log, StringComparison.Ordinal); // 3.8.0: the LB lists the masters only

        var nodes = (await lp.ClusterAsync(id))["nodes"]!.AsArray();
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1"], nodes.Select(n => n!["name"]!.GetValue<string>()));
        var after = await StatusAsync(lp, id);
        Assert.Equal("healthy", after["health"]!.GetValue<string>());
        Assert.Equal(5, after["nodes"]!.AsArray().Count);
        Assert.True(lp.Lab.Nodes[4].ServiceActive);
    }

    /// <summary>3.0.x: the timeout cuts the room left, /opt/openvidu is wiped, the nodes after move up, the LB config changed.</summary>
    [Fact]
    public async Task TimeoutCutsTheRoomsLeft_Wipe_V30SaysTheLoadBalancerChanged()
    {
        var (lp, id) = await InstalledAsync("drain-v30", "3.0.0");
        await using var _ = lp;
        var media1 = lp.Lab.Nodes[4];
        media1.Rooms = 1;
        var nginxBefore = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");

        var job = await lp.WaitAsync(await RemoveAsync(lp, id, "media-1", new { drainTimeout = "00:00:01", wipe = true }));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal("Removed from the cluster, /opt/openvidu deleted", LabPanel.NodeMessage(job, "media-1"));
        var drain = Assert.Single(media1.Drains);
        Assert.Equal(("killed", 1), (drain.Outcome, drain.RoomsCut));
        Assert.Null(media1.ReadFile("/opt/openvidu/deployment-info.yaml"));
        Assert.False(media1.ServiceEnabled);
        var log = await lp.LogTextAsync(job["id"]!.GetValue<int>());
        Assert.Contains("The drain timeout (00:00:01) passed with rooms left: the media server was killed and those rooms ended.", log, StringComparison.Ordinal);
        Assert.Contains("The nodes after it moved up: media-2 is now media-1.", log, StringComparison.Ordinal);
        Assert.Contains("The load balancer config changed: OpenVidu 3.0.0 sends RTMP and TURN over TLS to the media nodes", log, StringComparison.Ordinal);
        var nginxAfter = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");
        Assert.Contains(media1.Address, nginxBefore, StringComparison.Ordinal);
        Assert.DoesNotContain(media1.Address, nginxAfter, StringComparison.Ordinal);
        Assert.Contains(lp.Lab.Nodes[5].Address, nginxAfter, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Force_NoDrain_RoomsEndAtOnce()
    {
        var (lp, id) = await InstalledAsync("force");
        await using var _ = lp;
        var media2 = lp.Lab.Nodes[5];
        media2.Rooms = 3;

        var job = await lp.WaitAsync(await RemoveAsync(lp, id, "media-2", new { force = true }));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.True(job["force"]!.GetValue<bool>());
        Assert.DoesNotContain(media2.Drains, d => d.Outcome is "drained" or "killed");
        Assert.Equal(3, media2.RoomsCut);
        Assert.False(media2.ServiceActive);
        Assert.Contains("stopped at once (force): its rooms end now", await lp.LogTextAsync(job["id"]!.GetValue<int>()), StringComparison.Ordinal);
    }

    /// <summary>An unreachable node: failed, still in the cluster and marked leaving, saying so; a retry finishes once it is back.</summary>
    [Fact]
    public async Task UnreachableNode_FailsLeftLeaving_RetryFinishes()
    {
        var (lp, id) = await InstalledAsync("unreachable");
        await using var _ = lp;
        var media2 = lp.Lab.Nodes[5];
        await media2.StopSshAsync();

        var failed = await lp.WaitAsync(await RemoveAsync(lp, id, "media-2"));

        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.EndsWith("media-2 is still part of the cluster, marked leaving: retry to finish removing it, or restart it (restart job) to take it back into service.",
            LabPanel.NodeMessage(failed, "media-2"), StringComparison.Ordinal);
        Assert.Equal(6, (await lp.ClusterAsync(id))["nodes"]!.AsArray().Count);
        Assert.True(media2.ServiceActive);

        await media2.StartSshAsync();
        var retried = await lp.RetryAsync(failed["id"]!.GetValue<int>());

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Equal(5, (await lp.ClusterAsync(id))["nodes"]!.AsArray().Count);
        Assert.False(media2.ServiceEnabled);
    }

    /// <summary>Cancelled mid-drain: the node stays, leaving, and says so; a restart job takes it back into service.</summary>
    [Fact]
    public async Task CancelledMidDrain_NodeStaysLeaving_RestartTakesItBack()
    {
        var (lp, id) = await InstalledAsync("cancel");
        await using var _ = lp;
        var media2 = lp.Lab.Nodes[5];
        media2.Rooms = 2;
        var jobId = await RemoveAsync(lp, id, "media-2", new { drainTimeout = "00:05:00" });
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-2") == "Draining: 2 rooms still on media-2", seconds: 30);

        Assert.True((await lp.Api.PostAsync($"/api/jobs/{jobId}/cancel", null)).IsSuccessStatusCode);
        var job = await lp.WaitAsync(jobId);

        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.Equal("cancelled", LabPanel.NodeState(job, "media-2"));
        Assert.Contains("marked leaving", LabPanel.NodeMessage(job, "media-2"), StringComparison.Ordinal);
        Assert.Equal(6, (await lp.ClusterAsync(id))["nodes"]!.AsArray().Count);
        Assert.True(StatusNode(await StatusAsync(lp, id), "media-2")["leaving"]!.GetValue<bool>());

        var restart = await lp.RunJobAsync(id, "restart", await lp.NodeIdAsync(id, "media-2"));

        Assert.Equal("succeeded", restart["state"]!.GetValue<string>());
        Assert.True(media2.OpenViduContainerRunning);
        var status = await StatusAsync(lp, id);
        Assert.False(StatusNode(status, "media-2")["leaving"]!.GetValue<bool>());
        Assert.Equal("healthy", status["health"]!.GetValue<string>());
    }

    /// <summary>The panel stops mid-drain: the job is interrupted, the node stays leaving; a retry finishes the removal.</summary>
    [Fact]
    public async Task PanelRestartedMidDrain_Interrupted_RetryFinishes()
    {
        var (lp, id) = await InstalledAsync("restart");
        await using var _ = lp;
        var media2 = lp.Lab.Nodes[5];
        media2.Rooms = 2;
        var jobId = await RemoveAsync(lp, id, "media-2", new { drainTimeout = "00:05:00" });
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-2") == "Draining: 2 rooms still on media-2", seconds: 30);

        lp.RestartPanel();

        var job = await lp.JobAsync(jobId);
        Assert.Equal("interrupted", job["state"]!.GetValue<string>());
        Assert.Equal("Interrupted while running: Draining: 2 rooms still on media-2", LabPanel.NodeMessage(job, "media-2"));
        Assert.True(StatusNode(await StatusAsync(lp, id), "media-2")["leaving"]!.GetValue<bool>());

        media2.Rooms = 0;
        var retried = await lp.RetryAsync(jobId);

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Equal(5, (await lp.ClusterAsync(id))["nodes"]!.AsArray().Count);
        Assert.False(media2.ServiceActive);
        Assert.False(media2.ServiceEnabled);
    }
}
