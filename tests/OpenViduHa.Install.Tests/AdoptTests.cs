using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// Adopting a cluster installed by hand: install-commands.sh run on each lab node as an operator would (no job), then
/// POST /api/clusters/adopt reads and checks every node; the adopted cluster then takes a new media node, a credentials
/// check and a rotation like one the panel installed. A node that drifted is named with its key, and nothing is stored.
/// </summary>
public sealed class AdoptTests
{
    /// <summary>4 masters and a media node installed by hand from the panel's own install-commands.sh; the panel forgets that cluster.</summary>
    private static async Task<(LabPanel Lp, List<NodeSpec> Nodes)> InstalledByHandAsync(string name)
    {
        var lp = await LabPanel.StartAsync(6);
        var lab = lp.Lab.Nodes;
        var spec = lp.Spec(name, "3.8.0", lab.Take(4).ToList(), [lab[4]]);
        var id = await lp.CreateAsync(spec);
        var script = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/install-commands.sh");
        Assert.Equal(HttpStatusCode.NoContent, (await lp.Api.DeleteAsync($"/api/clusters/{id}")).StatusCode);
        var names = new[] { "master-1", "master-2", "master-3", "master-4", "media-1" };
        for (var i = 0; i < 5; i++)
        {
            lab[i].WriteFile("/root/install-commands.sh", script);
            var run = await lab[i].RunAsRootAsync($"bash /root/install-commands.sh {names[i]} && systemctl start openvidu");
            Assert.True(run.ExitCode == 0, run.Error);
        }
        return (lp, spec.Nodes!);
    }

    /// <summary>The adopt body; the installer base URL is the lab's (later installs on the adopted cluster use it).</summary>
    private static JsonObject Body(LabPanel lp, string name, IEnumerable<NodeSpec> nodes) => new()
    {
        ["name"] = name,
        ["installerBaseUrl"] = lp.Lab.InstallerHttpsBaseUrl,
        ["nodes"] = System.Text.Json.JsonSerializer.SerializeToNode(nodes, LabPanel.Json),
    };

    [Fact]
    public async Task InstalledByHand_HostKeysConfirmedFirst_Adopted_ThenAddNodeCheckAndRotateWork()
    {
        var (lp, nodes) = await InstalledByHandAsync("by-hand");
        await using var _ = lp;
        var lab = lp.Lab.Nodes;
        var pinned = nodes.Select(n => n.Ssh!.HostKeyFingerprint).ToList();
        foreach (var node in nodes) node.Ssh!.HostKeyFingerprint = null;

        var first = await lp.Api.PostAsJsonAsync("/api/clusters/adopt", Body(lp, "adopted", nodes));

        Assert.Equal(HttpStatusCode.Conflict, first.StatusCode);
        var findings = (await first.Content.ReadFromJsonAsync<JsonObject>())!["findings"]!.AsArray();
        Assert.Equal(5, findings.Count);
        Assert.All(findings, f => Assert.Equal("ssh.hostKeyFingerprint", f!["key"]!.GetValue<string>()));
        Assert.Contains($"presents {pinned[4]}", findings.First(f => f!["node"]!.GetValue<string>() == "media-1")!["problem"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Empty((await lp.Api.GetFromJsonAsync<JsonArray>("/api/clusters"))!);

        for (var i = 0; i < nodes.Count; i++) nodes[i].Ssh!.HostKeyFingerprint = pinned[i];
        var adopted = await lp.Api.PostAsJsonAsync("/api/clusters/adopt", Body(lp, "adopted", nodes));

        Assert.True(adopted.StatusCode == HttpStatusCode.Created, await adopted.Content.ReadAsStringAsync());
        var id = (await adopted.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var cluster = await lp.ClusterAsync(id);
        Assert.Equal("3.8.0", cluster["openviduVersion"]!.GetValue<string>());
        Assert.Equal("openvidu.example.io", cluster["domainName"]!.GetValue<string>());
        Assert.Equal("""["observability","v2compatibility","openviduMeet"]""", cluster["modules"]!.ToJsonString());
        Assert.All(cluster["nodes"]!.AsArray(), n => Assert.NotNull(n!["installedAt"]));
        await using (var db = await lp.Panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync())
            Assert.Equal("OpenVidu 3.8.0, 5 nodes", (await db.AuditEntries.SingleAsync(a => a.Action == "cluster.adopted" && a.Target == "adopted")).Detail);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());

        // A media node added to it, as to any cluster the panel installed.
        var extra = new NodeSpec { Role = "media", PrivateIp = lab[5].Address, Ssh = new SshSpec { Host = lab[5].Address, Username = "root", PrivateKey = lp.Lab.Keys.Ed25519.PrivateKey, HostKeyFingerprint = lab[5].HostKeyFingerprint } };
        var added = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/nodes", extra, LabPanel.Json);
        Assert.Equal(HttpStatusCode.Created, added.StatusCode);
        var addJob = await lp.RunJobAsync(id, "add-node", (await added.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
        Assert.True(addJob["state"]!.GetValue<string>() == "succeeded", addJob.ToJsonString());
        Assert.Equal(
            lab[0].ReadFile("/opt/openvidu/config/node/master_node.env")!.Split('\n').First(l => l.StartsWith("REDIS_PASSWORD=", StringComparison.Ordinal)),
            lab[5].ReadFile("/opt/openvidu/config/node/media_node.env")!.Split('\n').First(l => l.StartsWith("REDIS_PASSWORD=", StringComparison.Ordinal)));

        var rotate = await lp.WaitAsync(await lp.StartJobOkAsync(id, new { kind = "reconfigure", rotate = new[] { "redisPassword" } }));
        Assert.True(rotate["state"]!.GetValue<string>() == "succeeded", rotate.ToJsonString());
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
    }

    [Fact]
    public async Task OneNodeDrifted_RefusedNamingTheNodeAndTheKey_NothingStored()
    {
        var (lp, nodes) = await InstalledByHandAsync("drifted");
        await using var _ = lp;
        var media = lp.Lab.Nodes[4];
        var env = media.ReadFile("/opt/openvidu/config/node/media_node.env")!;
        var line = env.Split('\n').First(l => l.StartsWith("REDIS_PASSWORD=", StringComparison.Ordinal));
        media.WriteFile("/opt/openvidu/config/node/media_node.env", env.Replace(line, "REDIS_PASSWORD=SomebodyChangedThisByHand123", StringComparison.Ordinal), UnixFileMode.UserRead | UnixFileMode.UserWrite);

        var response = await lp.Api.PostAsJsonAsync("/api/clusters/adopt", Body(lp, "drifted", nodes));

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        var finding = Assert.Single((await response.Content.ReadFromJsonAsync<JsonObject>())!["findings"]!.AsArray());
        Assert.Equal("media-1", finding!["node"]!.GetValue<string>());
        Assert.Equal("/opt/openvidu/config/node/media_node.env", finding["file"]!.GetValue<string>());
        Assert.Equal("REDIS_PASSWORD", finding["key"]!.GetValue<string>());
        Assert.Equal("differs from master-1's (REDIS_PASSWORD in /opt/openvidu/config/node/master_node.env)", finding["problem"]!.GetValue<string>());
        Assert.DoesNotContain("SomebodyChangedThisByHand123", text, StringComparison.Ordinal);
        Assert.DoesNotContain(line["REDIS_PASSWORD=".Length..], text, StringComparison.Ordinal);
        Assert.Empty((await lp.Api.GetFromJsonAsync<JsonArray>("/api/clusters"))!);
    }
}
