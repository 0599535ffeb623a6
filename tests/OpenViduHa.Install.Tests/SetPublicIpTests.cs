using System.Text.Json.Nodes;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// set-public-ip on lab nodes: the media node installed again with --public-ip and its config read back, then (3.2+)
/// each master installed again with --force-media-node-public-ip, one at a time; and a failing master, a cancel and a
/// panel restart half-way, each finished by a retry. The addresses are only written into configs: nothing connects to them.
/// </summary>
public sealed class SetPublicIpTests
{
    private const string NewIp = "198.51.100.20";

    private static async Task<(LabPanel Lp, int Id)> InstalledAsync(string name, string version = "3.8.0", TimeSpan? installerDelay = null)
    {
        var lp = await LabPanel.StartAsync(6, installerDelay);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec(name, version, nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        return (lp, id);
    }

    private static async Task<int> SetAsync(LabPanel lp, int id, string node = "media-2") =>
        await lp.StartJobOkAsync(id, new { kind = "set-public-ip", nodeId = await lp.NodeIdAsync(id, node), publicIp = NewIp });

    private static string? PublicIpOf(JsonObject cluster, string node) =>
        cluster["nodes"]!.AsArray().First(n => n!["name"]!.GetValue<string>() == node)!["publicIp"]?.GetValue<string>();

    [Fact]
    public async Task Current_MediaThenMastersOneAtATime_ConfigNamesTheAddress_DefinitionFollows()
    {
        var (lp, id) = await InstalledAsync("public-ip");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;

        var job = await lp.WaitAsync(await SetAsync(lp, id));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(NewIp, job["publicIp"]!.GetValue<string>());
        Assert.Equal($"Announces {NewIp} (MEDIA_NODE_PUBLIC_IP in /opt/openvidu/config/node/media_node.env), healthy", LabPanel.NodeMessage(job, "media-2"));
        Assert.Contains($"MEDIA_NODE_PUBLIC_IP={NewIp}\n", nodes[5].ReadFile("/opt/openvidu/config/node/media_node.env"), StringComparison.Ordinal);
        Assert.Contains("--public-ip", nodes[5].LastInstallerFlags);
        Assert.Equal(1, nodes[4].InstallerRuns); // the other media node is not touched
        // Every master installed again with the flag, one after the other: never two masters down at once.
        var runs = nodes.Take(4).Select(n =>
        {
            Assert.Equal(2, n.InstallerRuns);
            Assert.Contains("--force-media-node-public-ip", n.LastInstallerFlags);
            return n.InstallerRunTimes[^1];
        }).OrderBy(r => r.Started).ToList();
        for (var i = 1; i < runs.Count; i++) Assert.True(runs[i].Started >= runs[i - 1].Ended, $"master installs overlap: {runs[i - 1]} and {runs[i]}");
        Assert.All(nodes, n => Assert.True(n.ServiceActive, n.Name));
        Assert.Equal(NewIp, PublicIpOf(await lp.ClusterAsync(id), "media-2"));
        Assert.Contains($"--public-ip='{NewIp}'", await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/install-commands.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task V30_OnlyTheMediaNode()
    {
        var (lp, id) = await InstalledAsync("public-ip-v30", "3.0.0");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;

        var job = await lp.WaitAsync(await SetAsync(lp, id, "media-1"));

        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Single(job["nodes"]!.AsArray());
        Assert.Contains($"MEDIA_NODE_PUBLIC_IP={NewIp}\n", nodes[4].ReadFile("/opt/openvidu/.env"), StringComparison.Ordinal);
        Assert.All(nodes.Take(4), n => Assert.Equal(1, n.InstallerRuns));
        Assert.Contains("(OpenVidu 3.0.x: the masters need nothing)", await lp.LogTextAsync(job["id"]!.GetValue<int>()), StringComparison.Ordinal);
    }

    /// <summary>A master's installer fails: the ones after it are left alone, the media node's address is kept; a retry finishes.</summary>
    [Fact]
    public async Task MasterFails_TheRestSkipped_RetryFinishes_MediaNotInstalledTwice()
    {
        var (lp, id) = await InstalledAsync("public-ip-fail");
        await using var _ = lp;
        var nodes = lp.Lab.Nodes;
        nodes[2].FailInstaller("Error: could not pull openvidu/openvidu-pro-master");

        var failed = await lp.WaitAsync(await SetAsync(lp, id));

        Assert.Equal("failed", failed["state"]!.GetValue<string>());
        Assert.Equal("succeeded", LabPanel.NodeState(failed, "master-2"));
        Assert.StartsWith("The installer failed (exit 1): Error: could not pull", LabPanel.NodeMessage(failed, "master-3"), StringComparison.Ordinal);
        Assert.Equal("skipped", LabPanel.NodeState(failed, "master-4"));
        Assert.Equal(1, nodes[3].InstallerRuns);
        Assert.Equal(NewIp, PublicIpOf(await lp.ClusterAsync(id), "media-2")); // the media node took it: recorded

        nodes[2].ClearFaults();
        var retried = await lp.RetryAsync(failed["id"]!.GetValue<int>());

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Equal(2, nodes[5].InstallerRuns); // already announcing the address: not installed a third time
        Assert.Contains($"Already announces {NewIp} and is healthy", await lp.LogTextAsync(retried["id"]!.GetValue<int>()), StringComparison.Ordinal);
        Assert.All(nodes.Take(4), n => Assert.Contains("--force-media-node-public-ip", n.LastInstallerFlags));
    }

    [Fact]
    public async Task CancelledBetweenMasters_SaysWhatIsLeft_RetryFinishes()
    {
        var (lp, id) = await InstalledAsync("public-ip-cancel", installerDelay: TimeSpan.FromSeconds(1));
        await using var _ = lp;
        var jobId = await SetAsync(lp, id);
        await lp.WaitAsync(jobId, j => LabPanel.NodeState(j, "master-1") == "running", seconds: 60);

        Assert.True((await lp.Api.PostAsync($"/api/jobs/{jobId}/cancel", null)).IsSuccessStatusCode);
        var job = await lp.WaitAsync(jobId, seconds: 60);

        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.Equal("cancelled", LabPanel.NodeState(job, "master-4"));
        Assert.Equal(1, lp.Lab.Nodes[3].InstallerRuns);
        var log = await lp.LogTextAsync(jobId);
        Assert.Contains($"Cancelled: media-2 announces {NewIp}", log, StringComparison.Ordinal);

        var retried = await lp.RetryAsync(jobId);

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.All(lp.Lab.Nodes.Take(4), n => Assert.Contains("--force-media-node-public-ip", n.LastInstallerFlags));
    }

    [Fact]
    public async Task PanelRestartedMidWay_Interrupted_RetryFinishes()
    {
        var (lp, id) = await InstalledAsync("public-ip-restart", installerDelay: TimeSpan.FromSeconds(2));
        await using var _ = lp;
        var jobId = await SetAsync(lp, id);
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "master-1") == "Running the installer", seconds: 60);

        lp.RestartPanel();

        var job = await lp.JobAsync(jobId);
        Assert.Equal("interrupted", job["state"]!.GetValue<string>());
        Assert.Equal("Interrupted while running: Running the installer", LabPanel.NodeMessage(job, "master-1"));

        var retried = await lp.RetryAsync(jobId);

        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.Equal(5, retried["nodes"]!.AsArray().Count);
        Assert.All(lp.Lab.Nodes, n => Assert.True(n.ServiceActive, n.Name));
        Assert.Contains($"MEDIA_NODE_PUBLIC_IP={NewIp}\n", lp.Lab.Nodes[5].ReadFile("/opt/openvidu/config/node/media_node.env"), StringComparison.Ordinal);
    }
}
