using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// reconfigure on lab nodes: the plan first (files and keys per node, no value), then new values on every node with
/// the cluster stopped and started again, checked, and the panel's credentials following; a node that cannot take its
/// files rolls every node back to its previous configuration, and the panel keeps its old values.
/// </summary>
public sealed class ReconfigureTests
{
    private static async Task<(LabPanel Lp, int Id)> InstalledAsync(string name, string version = "3.8.0")
    {
        var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec(name, version, nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        return (lp, id);
    }

    private static string Redis(LabNode node) =>
        node.ReadFile("/opt/openvidu/config/node/master_node.env")!.Split('\n').First(l => l.StartsWith("REDIS_PASSWORD=", StringComparison.Ordinal))["REDIS_PASSWORD=".Length..];

    private static string AllConfig(LabNode node) => node.RunAsRootAsync("cat /opt/openvidu/.env /opt/openvidu/config/*/*.env /opt/openvidu/config/*/*/*.env 2>/dev/null").Result.Output;

    [Fact]
    public async Task Rotate_PlanFirst_ThenEveryNodeTakesTheNewValues_ChecksPass_CredentialsFollow()
    {
        var (lp, id) = await InstalledAsync("rotate");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;
        var before = await lp.CredentialsAsync(id);
        var redisBefore = Redis(nodes[0]);
        var body = new { rotate = new[] { "livekitApiSecret", "redisPassword" } };

        var planned = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/reconfigure-plan", body);
        Assert.Equal(HttpStatusCode.OK, planned.StatusCode);
        var plan = (await planned.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("fullStop", plan["restart"]!.GetValue<string>());
        Assert.True(plan["applicationsAffected"]!.GetValue<bool>());
        var media = plan["nodes"]!.AsArray().First(n => n!["node"]!.GetValue<string>() == "media-1")!;
        Assert.Equal("""[{"file":"/opt/openvidu/config/node/media_node.env","keys":["REDIS_PASSWORD"]}]""", media["files"]!.ToJsonString());
        var planText = plan.ToJsonString();
        Assert.DoesNotContain(before["LIVEKIT_API_SECRET"], planText, StringComparison.Ordinal);

        var job = await lp.WaitAsync(await lp.StartJobOkAsync(id, new { kind = "reconfigure", rotate = body.rotate }));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal("""["livekitApiSecret","redisPassword"]""", job["rotate"]!.ToJsonString());
        var after = await lp.CredentialsAsync(id);
        var redisAfter = Redis(nodes[0]);
        Assert.NotEqual(before["LIVEKIT_API_SECRET"], after["LIVEKIT_API_SECRET"]);
        Assert.NotEqual(redisBefore, redisAfter);
        Assert.Equal(before["LIVEKIT_API_KEY"], after["LIVEKIT_API_KEY"]);
        foreach (var node in nodes.Take(5))
        {
            var config = AllConfig(node);
            Assert.Contains($"REDIS_PASSWORD={redisAfter}", config, StringComparison.Ordinal);
            Assert.DoesNotContain(redisBefore, config, StringComparison.Ordinal);
            Assert.True(node.ServiceActive, node.Name);
        }
        Assert.Contains($"LIVEKIT_API_SECRET={after["LIVEKIT_API_SECRET"]}", AllConfig(nodes[0]), StringComparison.Ordinal);
        var log = await lp.LogTextAsync(job["id"]!.GetValue<int>());
        Assert.Contains("Stop every node: media nodes, then masters", log, StringComparison.Ordinal);
        Assert.Contains("applications must use the new ones now (download credentials.env)", log, StringComparison.Ordinal);
        Assert.DoesNotContain(redisAfter, log, StringComparison.Ordinal);
        Assert.DoesNotContain(redisBefore, log, StringComparison.Ordinal);
        Assert.DoesNotContain(after["LIVEKIT_API_SECRET"], log, StringComparison.Ordinal);
        // The panel's own values are the nodes' new ones: the credentials check compares them key by key.
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
        await using var db = await lp.Panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        var audit = await db.AuditEntries.Where(a => a.Action == "job.reconfigure" || a.Action == "cluster.reconfigured").OrderBy(a => a.Id).Select(a => a.Actor + " " + a.Action + " " + a.Detail).ToListAsync();
        Assert.Equal(2, audit.Count);
        Assert.EndsWith("job.reconfigure 5 nodes: rotate livekitApiSecret, redisPassword", audit[0], StringComparison.Ordinal);
        Assert.EndsWith("cluster.reconfigured rotated livekitApiSecret, redisPassword", audit[1], StringComparison.Ordinal);
    }

    [Fact]
    public async Task SetRtcEngineAndModules_OnV30_EveryNodeFollows()
    {
        var (lp, id) = await InstalledAsync("settings", "3.0.0");
        await using var _ = lp;

        var job = await lp.WaitAsync(await lp.StartJobOkAsync(id, new { kind = "reconfigure", set = new { rtcEngine = "mediasoup", modules = new[] { "observability", "app" } } }));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        foreach (var node in lp.Lab.Nodes.Take(5))
        {
            var env = node.ReadFile("/opt/openvidu/.env")!;
            Assert.Contains("OPENVIDU_RTC_ENGINE=mediasoup\n", env, StringComparison.Ordinal);
            Assert.Contains("ENABLED_MODULES=observability,app\n", env, StringComparison.Ordinal);
        }
        var cluster = await lp.ClusterAsync(id);
        Assert.Equal("mediasoup", cluster["rtcEngine"]!.GetValue<string>());
        Assert.Equal("""["observability","app"]""", cluster["modules"]!.ToJsonString());
    }

    /// <summary>One node's config cannot be written (a read-only file system): every node goes back to its previous files and starts on them.</summary>
    [Fact]
    public async Task ANodeCannotTakeItsFiles_EveryNodeRolledBack_PanelKeepsItsValues()
    {
        var (lp, id) = await InstalledAsync("rollback");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;
        var before = await lp.CredentialsAsync(id);
        var configs = nodes.Take(5).Select(AllConfig).ToList();
        var readOnly = await nodes[4].RunAsRootAsync("mount --bind /opt/openvidu/config/node /opt/openvidu/config/node && mount -o remount,bind,ro /opt/openvidu/config/node");
        Assert.True(readOnly.ExitCode == 0, readOnly.Error);

        var job = await lp.WaitAsync(await lp.StartJobOkAsync(id, new { kind = "reconfigure", rotate = new[] { "redisPassword" } }));

        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Contains("Replacing the rotated values failed", LabPanel.NodeMessage(job, "media-1"), StringComparison.Ordinal);
        Assert.StartsWith("Rolled back (a node could not take its new files elsewhere)", LabPanel.NodeMessage(job, "master-1"), StringComparison.Ordinal);
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(configs[i], AllConfig(nodes[i]));
            Assert.True(nodes[i].ServiceActive, nodes[i].Name);
        }
        Assert.Equal(before, await lp.CredentialsAsync(id));
        Assert.Contains("Rolled back: every node runs its previous configuration", await lp.LogTextAsync(job["id"]!.GetValue<int>()), StringComparison.Ordinal);
        await nodes[4].RunAsRootAsync("umount /opt/openvidu/config/node");
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
    }

    /// <summary>
    /// The panel stops while the nodes already hold the new values (a media node slow to come back): the job is
    /// interrupted, the panel still has the new values (pending, encrypted), and the retry finishes with those same values.
    /// </summary>
    [Fact]
    public async Task PanelRestartedAfterTheWrite_RetryFinishesWithTheSameValues()
    {
        var (lp, id) = await InstalledAsync("restart");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;
        var redisBefore = Redis(nodes[0]);
        nodes[4].ClosePort(7880); // its health endpoint stays silent: the start waits
        var jobId = await lp.StartJobOkAsync(id, new { kind = "reconfigure", rotate = new[] { "redisPassword" } });
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "media-1") == "systemctl start openvidu, waiting for health", seconds: 60);
        var written = Redis(nodes[0]);
        Assert.NotEqual(redisBefore, written);

        lp.RestartPanel();

        Assert.Equal("interrupted", (await lp.JobAsync(jobId))["state"]!.GetValue<string>());
        nodes[4].OpenPort(7880);
        // Another rotation first would lose track of where the unfinished one's values are: refused, nothing changed.
        var other = await lp.WaitAsync(await lp.StartJobOkAsync(id, new { kind = "reconfigure", rotate = new[] { "livekitApiSecret" } }));
        Assert.Equal("failed", other["state"]!.GetValue<string>());
        Assert.StartsWith("An earlier reconfigure of redisPassword did not finish", other["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(written, Redis(nodes[0]));
        var retried = await lp.RetryAsync(jobId);

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Contains("its new values are used again", await lp.LogTextAsync(retried["id"]!.GetValue<int>()), StringComparison.Ordinal);
        foreach (var node in nodes.Take(5)) Assert.Contains($"REDIS_PASSWORD={written}", AllConfig(node), StringComparison.Ordinal);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task Refused_ARotationThatWouldLockTheClusterOut_NothingChanged()
    {
        var (lp, id) = await InstalledAsync("refused");
        await using var _ = lp;

        var plan = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/reconfigure-plan", new { rotate = new[] { "mongoAdminPassword" } });
        var job = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "reconfigure", rotate = new[] { "mongoAdminPassword" } });

        Assert.Equal(HttpStatusCode.BadRequest, plan.StatusCode);
        Assert.Contains("kept inside its service's own data", (await plan.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["rotate"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.BadRequest, job.StatusCode);
        Assert.Contains("kept inside its service's own data", await job.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }
}
