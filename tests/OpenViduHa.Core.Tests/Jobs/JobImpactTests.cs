using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>What the panel says before a job starts: which jobs ask first, and that they name the nodes and the impact.</summary>
public sealed class JobImpactTests
{
    private static readonly SshView Ssh = new("10.0.0.1", 22, "root", "key", false, null);

    private static List<NodeView> Cluster(int media) =>
    [
        .. Enumerable.Range(1, 4).Select(i => new NodeView(i, $"master-{i}", NodeRole.Master, $"10.0.0.{i}", null, Ssh)),
        .. Enumerable.Range(1, media).Select(i => new NodeView(10 + i, $"media-{i}", NodeRole.Media, $"10.0.1.{i}", null, Ssh)),
    ];

    [Theory]
    [InlineData(JobKind.Install, true)]
    [InlineData(JobKind.ReinstallNode, true)]
    [InlineData(JobKind.Restart, true)]
    [InlineData(JobKind.Stop, true)]
    [InlineData(JobKind.RollingRestart, true)]
    [InlineData(JobKind.DistributeCredentials, true)]
    [InlineData(JobKind.Start, false)]
    [InlineData(JobKind.AddNode, false)]
    [InlineData(JobKind.Preflight, false)]
    [InlineData(JobKind.CheckCredentials, false)]
    [InlineData(JobKind.FetchInstallerDigests, false)]
    public void Of_EveryKind_AsksFirstExactlyWhenItInterruptsService(JobKind kind, bool disruptive)
    {
        // Arrange
        var nodes = Cluster(media: 2);

        // Act
        var impact = JobImpacts.Of(kind, nodes, nodes[^1]);

        // Assert
        Assert.Equal(disruptive, impact.Disruptive);
        Assert.False(string.IsNullOrWhiteSpace(impact.Impact));
        Assert.False(string.IsNullOrWhiteSpace(impact.Action));
    }

    [Fact]
    public void Of_RollingRestart_NamesTheMastersInOrderAndTheMediaNodesThatDropRooms()
    {
        // Act
        var impact = JobImpacts.Of(JobKind.RollingRestart, Cluster(media: 2));

        // Assert
        Assert.Equal("Restarts master-1..4 one at a time, each healthy again before the next, then media-1 and media-2 one at a time: " +
                     "each media node's rooms end as it restarts and new rooms go to the others.", impact.Impact);
    }

    [Fact]
    public void Of_DistributeCredentials_SaysItRestartsAndThatApplicationsMustChange()
    {
        // Act
        var impact = JobImpacts.Of(JobKind.DistributeCredentials, Cluster(media: 996));

        // Assert
        Assert.Contains("restarts master-1..4 one at a time, then media-1..996 one at a time", impact.Impact, StringComparison.Ordinal);
        Assert.Contains("credentials.env", impact.Impact, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_StopOfAMasterAndOfAMediaNode_SayWhatEachMeans()
    {
        // Arrange
        var nodes = Cluster(media: 2);

        // Act
        var master = JobImpacts.Of(JobKind.Stop, nodes, nodes[1]);
        var media = JobImpacts.Of(JobKind.Stop, nodes, nodes[5]);

        // Assert
        Assert.Equal("Stop master-2?", master.Title);
        Assert.Contains("other 3 masters with no spare", master.Impact, StringComparison.Ordinal);
        Assert.Equal("Stop media-2", media.Action);
        Assert.Contains("The rooms on media-2 end", media.Impact, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(new string[0], "no node")]
    [InlineData(new[] { "media-1" }, "media-1")]
    [InlineData(new[] { "media-1", "media-2" }, "media-1 and media-2")]
    [InlineData(new[] { "master-1", "master-2", "master-3", "master-4" }, "master-1..4")]
    [InlineData(new[] { "media-1", "media-2", "media-3", "media-7", "media-9", "media-10" }, "media-1..3, media-7, media-9 and media-10")]
    [InlineData(new[] { "master-1", "master-2", "master-3", "media-1", "media-2", "media-3" }, "master-1..3 and media-1..3")]
    [InlineData(new[] { "edge", "media-4" }, "edge and media-4")]
    public void NodeList_FoldsConsecutiveNumbersOfOneRole(string[] names, string expected)
    {
        // Act
        var text = NodeList.Of(names);

        // Assert
        Assert.Equal(expected, text);
    }
}
