using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>What a job may do to a cluster, decided before it is queued: pure rules over the stored rows.</summary>
public sealed class JobRulesTests
{
    private static readonly ClusterEntity Cluster = new()
    {
        Name = "prod", OpenviduVersion = "3.0.0", DomainName = "openvidu.example.io", InstallerBaseUrl = ClusterDefaults.InstallerBaseUrl, ProtectedSecrets = "",
    };

    /// <summary>4 masters and 2 media nodes, listed media first and out of order, so that ordering rules show.</summary>
    private static List<NodeEntity> Nodes(bool installed = false, bool pinned = true)
    {
        NodeEntity Node(int id, string name, NodeRole role, int ordinal) => new()
        {
            Id = id, Name = name, Role = role, Ordinal = ordinal, PrivateIp = $"10.5.0.{id}", SshHost = $"10.5.0.{id}", SshUsername = "root",
            ProtectedCredentials = "", HostKeyFingerprint = pinned ? $"SHA256:{id}" : null, InstalledAt = installed ? DateTimeOffset.UtcNow : null,
        };
        return
        [
            Node(16, "media-2", NodeRole.Media, 5),
            Node(15, "media-1", NodeRole.Media, 4),
            Node(12, "master-2", NodeRole.Master, 1),
            Node(11, "master-1", NodeRole.Master, 0),
            Node(14, "master-4", NodeRole.Master, 3),
            Node(13, "master-3", NodeRole.Master, 2),
        ];
    }

    private static NodeEntity Named(List<NodeEntity> nodes, string name) => nodes.Single(n => n.Name == name);

    [Fact]
    public void Check_Preflight_AlwaysAllowedEvenUnpinned()
    {
        // Arrange
        var nodes = Nodes(installed: true, pinned: false);

        // Act
        var refusal = JobRules.Check(JobKind.Preflight, Cluster, nodes, null);

        // Assert
        Assert.Null(refusal);
    }

    [Fact]
    public void Check_InstallOnAnInstalledCluster_RefusedNamingTheInstalledNodes()
    {
        // Arrange
        var nodes = Nodes();
        Named(nodes, "master-1").InstalledAt = DateTimeOffset.UtcNow;
        Named(nodes, "media-2").InstalledAt = DateTimeOffset.UtcNow;

        // Act
        var refusal = JobRules.Check(JobKind.Install, Cluster, nodes, null);

        // Assert
        Assert.Equal("media-2, master-1 are installed already: a second install would take every master down at once. " +
                     "Use reinstall-node (one master at a time, while the others are healthy) or add-node.", refusal);
    }

    [Fact]
    public void Check_InstallWithOneNodeInstalled_SaysIs()
    {
        // Arrange
        var nodes = Nodes();
        Named(nodes, "master-3").InstalledAt = DateTimeOffset.UtcNow;

        // Act
        var refusal = JobRules.Check(JobKind.Install, Cluster, nodes, null);

        // Assert
        Assert.StartsWith("master-3 is installed already: ", refusal, StringComparison.Ordinal);
    }

    [Fact]
    public void Check_RetryOfAnInstall_AllowedThoughSomeNodesInstalled()
    {
        // Arrange
        var nodes = Nodes();
        Named(nodes, "master-1").InstalledAt = DateTimeOffset.UtcNow;

        // Act
        var refusal = JobRules.Check(JobKind.Install, Cluster, nodes, null, retry: true);

        // Assert
        Assert.Null(refusal);
    }

    [Fact]
    public void Check_FreshInstall_Allowed()
    {
        // Act
        var refusal = JobRules.Check(JobKind.Install, Cluster, Nodes(), null);

        // Assert
        Assert.Null(refusal);
    }

    [Fact]
    public void Check_UnpinnedHostKeys_RefusedNamingThem()
    {
        // Arrange
        var nodes = Nodes();
        Named(nodes, "master-2").HostKeyFingerprint = null;
        Named(nodes, "media-1").HostKeyFingerprint = null;

        // Act
        var refusal = JobRules.Check(JobKind.Install, Cluster, nodes, null);

        // Assert
        Assert.Equal("The host keys of master-2, media-1 are not confirmed: run a preflight to record them, check and confirm each one, then try again.", refusal);
    }

    [Fact]
    public void Check_UnpinnedNodeOutsideTheJob_DoesNotMatter()
    {
        // Arrange
        var nodes = Nodes(installed: true);
        Named(nodes, "media-1").HostKeyFingerprint = null;

        // Act
        var refusal = JobRules.Check(JobKind.Restart, Cluster, nodes, Named(nodes, "media-2"));

        // Assert
        Assert.Null(refusal);
    }

    [Fact]
    public void Check_AddMaster_Refused()
    {
        // Arrange
        var nodes = Nodes(installed: true);
        var target = Named(nodes, "master-1");
        target.InstalledAt = null;

        // Act
        var refusal = JobRules.Check(JobKind.AddNode, Cluster, nodes, target);

        // Assert
        Assert.Equal("Only media nodes are added to an installed cluster: the list of the 4 master IPs is written into every node at install and never changes.", refusal);
    }

    [Fact]
    public void Check_AddInstalledMediaNode_RefusedPointingToReinstall()
    {
        // Arrange
        var nodes = Nodes(installed: true);

        // Act
        var refusal = JobRules.Check(JobKind.AddNode, Cluster, nodes, Named(nodes, "media-1"));

        // Assert
        Assert.Equal("media-1 is installed already: use reinstall-node.", refusal);
    }

    [Fact]
    public void Check_AddNewMediaNode_Allowed()
    {
        // Arrange
        var nodes = Nodes(installed: true);
        var target = Named(nodes, "media-2");
        target.InstalledAt = null;

        // Act
        var refusal = JobRules.Check(JobKind.AddNode, Cluster, nodes, target);

        // Assert
        Assert.Null(refusal);
    }

    [Theory]
    [InlineData(JobKind.ReinstallNode)]
    [InlineData(JobKind.Restart)]
    [InlineData(JobKind.Stop)]
    [InlineData(JobKind.Start)]
    [InlineData(JobKind.RollingRestart)]
    [InlineData(JobKind.CheckCredentials)]
    [InlineData(JobKind.DistributeCredentials)]
    public void Check_JobOfAnInstalledClusterBeforeInstall_Refused(JobKind kind)
    {
        // Arrange: every node installed but one master.
        var nodes = Nodes(installed: true);
        Named(nodes, "master-4").InstalledAt = null;

        // Act
        var refusal = JobRules.Check(kind, Cluster, nodes, Named(nodes, "media-1"));

        // Assert
        Assert.Equal("Cluster 'prod' is not installed yet: run install first.", refusal);
    }

    [Theory]
    [InlineData(JobKind.ReinstallNode)]
    [InlineData(JobKind.Stop)]
    [InlineData(JobKind.RollingRestart)]
    [InlineData(JobKind.DistributeCredentials)]
    public void Check_JobOfAnInstalledClusterAfterInstall_Allowed(JobKind kind)
    {
        // Arrange: media nodes need not be installed, the masters must.
        var nodes = Nodes(installed: true);
        Named(nodes, "media-2").InstalledAt = null;

        // Act
        var refusal = JobRules.Check(kind, Cluster, nodes, Named(nodes, "master-2"));

        // Assert
        Assert.Null(refusal);
    }

    [Fact]
    public void Check_FetchInstallerDigestsBeforeInstall_Allowed()
    {
        // Act
        var refusal = JobRules.Check(JobKind.FetchInstallerDigests, Cluster, Nodes(), null);

        // Assert
        Assert.Null(refusal);
    }

    [Theory]
    [InlineData(JobKind.AddNode)]
    [InlineData(JobKind.ReinstallNode)]
    [InlineData(JobKind.Restart)]
    [InlineData(JobKind.Start)]
    [InlineData(JobKind.Stop)]
    [InlineData(JobKind.RemoveNode)]
    public void NodesFor_SingleNodeJob_IsTheTarget(JobKind kind)
    {
        // Arrange
        var nodes = Nodes();
        var target = Named(nodes, "media-1");

        // Act
        var scope = JobRules.NodesFor(kind, nodes, target);

        // Assert
        Assert.Same(target, Assert.Single(scope));
    }

    [Theory]
    [InlineData(JobKind.Install)]
    [InlineData(JobKind.Preflight)]
    [InlineData(JobKind.RollingRestart)]
    [InlineData(JobKind.CheckCredentials)]
    [InlineData(JobKind.DistributeCredentials)]
    public void NodesFor_ClusterJob_IsEveryNodeMastersFirstInOrder(JobKind kind)
    {
        // Act
        var scope = JobRules.NodesFor(kind, Nodes(), null);

        // Assert
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"], scope.Select(n => n.Name));
    }

    [Theory]
    [InlineData(JobKind.Preflight)]
    [InlineData(JobKind.CheckCredentials)]
    public void NodesFor_CheckGivenANode_IsThatNodeOnly(JobKind kind)
    {
        // Arrange
        var nodes = Nodes();

        // Act
        var scope = JobRules.NodesFor(kind, nodes, Named(nodes, "master-3"));

        // Assert
        Assert.Equal("master-3", Assert.Single(scope).Name);
    }

    [Fact]
    public void NodesFor_FetchDigestsWithoutNode_IsTheFirstMaster()
    {
        // Act
        var scope = JobRules.NodesFor(JobKind.FetchInstallerDigests, Nodes(), null);

        // Assert
        Assert.Equal("master-1", Assert.Single(scope).Name);
    }

    [Fact]
    public void NodesFor_FetchDigestsThroughANode_IsThatNode()
    {
        // Arrange
        var nodes = Nodes();

        // Act
        var scope = JobRules.NodesFor(JobKind.FetchInstallerDigests, nodes, Named(nodes, "media-2"));

        // Assert
        Assert.Equal("media-2", Assert.Single(scope).Name);
    }

    [Theory]
    [InlineData(InstallerGeneration.Current, new[] { "media-2", "master-1", "master-2", "master-3", "master-4" })]
    [InlineData(InstallerGeneration.V30, new[] { "media-2" })]
    public void NodesFor_SetPublicIp_TheMediaNodeThenTheMastersInOrderOnTheCurrentGenerationOnly(InstallerGeneration generation, string[] expected)
    {
        // Arrange
        var nodes = Nodes();

        // Act
        var scope = JobRules.NodesFor(JobKind.SetPublicIp, nodes, Named(nodes, "media-2"), generation);

        // Assert
        Assert.Equal(expected, scope.Select(n => n.Name));
    }

    [Theory]
    [InlineData("198.51.100.7", null)]
    [InlineData("198.51.100.07", "'198.51.100.07' is not an IPv4 address (four numbers 0-255, dot separated).")]
    [InlineData("12345", "'12345' is not an IPv4 address (four numbers 0-255, dot separated).")]
    [InlineData(" ", "Give the media node's public IP (IPv4), the address clients send media to.")]
    public void PublicIpRefusal_OnlyAPlainIpv4(string ip, string? refusal) => Assert.Equal(refusal, JobRules.PublicIpRefusal(ip));
}
