using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Credentials;

namespace OpenViduHa.Install.Tests;

/// <summary>An installed cluster through its life: add a media node, reinstall a master, credential drift.</summary>
public sealed class LifecycleTests
{
    [Fact]
    public async Task InstalledCluster_AddMediaNode_ReinstallMaster_CredentialDriftFoundAndRestored()
    {
        // Arrange: 4 masters + 1 media installed, a 6th machine waiting.
        await using var lp = await LabPanel.StartAsync(6);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("life", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());

        // Add a media node: stored, then installed by an add-node job.
        var spare = nodes[5];
        var add = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/nodes", new
        {
            role = "media", privateIp = spare.Address,
            ssh = new { host = spare.Address, port = 22, username = "root", privateKey = lp.Lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = spare.HostKeyFingerprint },
        }, LabPanel.Json);
        Assert.True(add.StatusCode == HttpStatusCode.Created, await add.Content.ReadAsStringAsync());
        var newNodeId = (await add.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var addJob = await lp.RunJobAsync(id, "add-node", newNodeId);
        Assert.Equal("succeeded", addJob["state"]!.GetValue<string>());
        Assert.Equal(1, spare.InstallerRuns);
        Assert.True(spare.ServiceActive);
        var redis = nodes[0].ReadFile(CredentialLayout.MasterNodeEnv)!.Split('\n').Single(l => l.StartsWith("REDIS_PASSWORD=", StringComparison.Ordinal));
        Assert.Contains(redis, spare.ReadFile(CredentialLayout.MediaNodeEnv)!, StringComparison.Ordinal);
        Assert.All(nodes.Take(5), n => Assert.Equal(1, n.InstallerRuns));

        // A master cannot be added after install: the master list is fixed.
        var master = await lp.Api.PostAsJsonAsync($"/api/clusters/{id}/nodes", new
        {
            role = "master", privateIp = "127.250.0.1",
            ssh = new { host = "127.250.0.1", port = 22, username = "root", privateKey = lp.Lab.Keys.Ed25519.PrivateKey },
        }, LabPanel.Json);
        Assert.Equal(HttpStatusCode.BadRequest, master.StatusCode);
        Assert.Contains("cannot change", await master.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Reinstall one master while the other three are healthy.
        var master2 = await lp.NodeIdAsync(id, "master-2");
        var reinstall = await lp.RunJobAsync(id, "reinstall-node", master2);
        Assert.Equal("succeeded", reinstall["state"]!.GetValue<string>());
        Assert.Equal(2, nodes[1].InstallerRuns);
        Assert.Equal(1, nodes[0].InstallerRuns);

        // Credentials: equal everywhere, then a hand edit on one node is reported and restored.
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
        var file = nodes[2].ReadFile(CredentialLayout.ClusterEnv)!;
        var secretLine = file.Split('\n').Single(l => l.StartsWith("LIVEKIT_API_SECRET=", StringComparison.Ordinal));
        nodes[2].WriteFile(CredentialLayout.ClusterEnv, file.Replace(secretLine, "LIVEKIT_API_SECRET=EditedByHand123", StringComparison.Ordinal));

        var check = await lp.RunJobAsync(id, "check-credentials");
        Assert.Equal("failed", check["state"]!.GetValue<string>());
        Assert.Equal("failed", LabPanel.NodeState(check, "master-3"));
        Assert.Contains("LIVEKIT_API_SECRET", LabPanel.NodeMessage(check, "master-3"), StringComparison.Ordinal);
        Assert.Equal("succeeded", LabPanel.NodeState(check, "master-1"));
        var details = check["nodes"]!.AsArray().First(n => n!["nodeName"]!.GetValue<string>() == "master-3")!["details"]!.GetValue<string>();
        Assert.Contains("\"key\":\"LIVEKIT_API_SECRET\",\"status\":\"different\"", details.Replace(" ", ""), StringComparison.Ordinal);
        Assert.DoesNotContain("EditedByHand123", details, StringComparison.Ordinal);
        Assert.DoesNotContain("EditedByHand123", await lp.LogTextAsync(check["id"]!.GetValue<int>()), StringComparison.Ordinal);

        var distribute = await lp.RunJobAsync(id, "distribute-credentials");
        Assert.Equal("succeeded", distribute["state"]!.GetValue<string>());
        var restored = nodes[2].ReadFile(CredentialLayout.ClusterEnv)!;
        Assert.Contains(secretLine, restored, StringComparison.Ordinal);
        var mode = File.GetUnixFileMode(nodes[2].HostPath(CredentialLayout.ClusterEnv));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, mode);
        var backups = Directory.GetFiles(Path.GetDirectoryName(nodes[2].HostPath(CredentialLayout.ClusterEnv))!, "openvidu.env.bak-*");
        Assert.Single(backups);
        Assert.Contains("EditedByHand123", File.ReadAllText(backups[0]), StringComparison.Ordinal);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "check-credentials"))["state"]!.GetValue<string>());
        Assert.All(nodes, n => Assert.True(n.ServiceActive));
    }

    [Fact]
    public async Task ReinstallMaster_WhileAnotherMasterIsDown_IsRefused()
    {
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("guarded", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        await nodes[3].RunAsRootAsync("systemctl stop openvidu");

        var job = await lp.RunJobAsync(id, "reinstall-node", await lp.NodeIdAsync(id, "master-1"));

        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Contains("master-4", job["message"]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(1, nodes[0].InstallerRuns);
    }
}
