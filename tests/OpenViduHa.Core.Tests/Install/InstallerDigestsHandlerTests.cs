using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Install;

/// <summary>fetch-installer-digests through the real runner and handler on <see cref="LocalNode"/>s (the stand-in curl serves the stand-in installer).</summary>
public sealed class InstallerDigestsHandlerTests
{
    private const string MasterUrl = "https://get.openvidu.io/pro/ha/3.0.0/install_ov_master_node.sh";
    private const string MediaUrl = "https://get.openvidu.io/pro/ha/3.0.0/install_ov_media_node.sh";

    private static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task Fetch_ThroughTheFirstMaster_RecordedForTheOperatorNeverPinned()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var digest = Sha256Hex(cluster.Node("master-1").Read($"{LocalNode.StubDirectory}/installer.sh")!);
        var mediaDigest = Sha256Hex(cluster.Node("master-1").Read($"{LocalNode.StubDirectory}/installer-media.sh")!);
        Assert.NotEqual(digest, mediaDigest);

        // Act
        var result = await cluster.RunAsync(JobKind.FetchInstallerDigests);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal($"master {digest}, media {mediaDigest}: compare them with what you trust, then pin them on the cluster page", result.NodeMessage("master-1"));
        Assert.Equal([$"{MasterUrl}: SHA-256 {digest}", $"{MediaUrl}: SHA-256 {mediaDigest}"], result.Lines("master-1"));
        var view = await cluster.Db.Clusters.GetAsync(cluster.ClusterId);
        Assert.Equal((digest, mediaDigest, "master-1"), (view!.FetchedInstallerSha256!.Master, view.FetchedInstallerSha256.Media, view.FetchedInstallerSha256.Via));
        Assert.Equal(new Core.Clusters.InstallerSha256View(null, null), view.InstallerSha256);
        Assert.All(cluster.Nodes.Skip(1), n => Assert.Empty(n.Commands));
    }

    [Fact]
    public async Task Fetch_ThroughAChosenNode_ReadThere()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.FetchInstallerDigests, target: "media-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal("media-1", (await cluster.Db.Clusters.GetAsync(cluster.ClusterId))!.FetchedInstallerSha256!.Via);
        Assert.Empty(cluster.Node("master-1").Commands);
    }

    [Fact]
    public async Task Fetch_DownloadFails_FailedNamingEachUrlAndNothingRecorded()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        File.Delete(cluster.Node("master-1").HostPath($"{LocalNode.StubDirectory}/installer.sh"));
        File.Delete(cluster.Node("master-1").HostPath($"{LocalNode.StubDirectory}/installer-media.sh"));

        // Act
        var result = await cluster.RunAsync(JobKind.FetchInstallerDigests);

        // Assert
        const string error = "curl: (22) The requested URL returned error: 404";
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal($"Could not download {MasterUrl} ({error}) and {MediaUrl} ({error})", result.NodeMessage("master-1"));
        Assert.Equal([$"{MasterUrl}: {error}", $"{MediaUrl}: {error}"], result.Lines("master-1"));
        Assert.Contains("\"error\":\"curl: (22)", result.Node("master-1").Details, StringComparison.Ordinal);
        Assert.Null((await cluster.Db.Clusters.GetAsync(cluster.ClusterId))!.FetchedInstallerSha256);
    }

    [Fact]
    public async Task Fetch_OnlyTheMediaScriptFails_FailedAndNothingRecorded()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        File.Delete(cluster.Node("master-1").HostPath($"{LocalNode.StubDirectory}/installer-media.sh"));

        // Act
        var result = await cluster.RunAsync(JobKind.FetchInstallerDigests);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal($"Could not download {MediaUrl} (curl: (22) The requested URL returned error: 404)", result.NodeMessage("master-1"));
        Assert.Null((await cluster.Db.Clusters.GetAsync(cluster.ClusterId))!.FetchedInstallerSha256);
    }

    [Fact]
    public async Task Fetch_NodeUnreachable_FailedWithTheSshReason()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Fail("master-1", SshFailureKind.ConnectionRefused);

        // Act
        var result = await cluster.RunAsync(JobKind.FetchInstallerDigests);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("master-1"));
        Assert.StartsWith($"127.0.0.1:{cluster.Node("master-1").Port} refused the connection", result.NodeMessage("master-1"), StringComparison.Ordinal);
    }
}
