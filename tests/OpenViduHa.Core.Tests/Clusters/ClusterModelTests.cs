using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>Versions, validation errors and the definition's own members.</summary>
public sealed class ClusterModelTests
{
    private static OpenViduVersion V(string text) => OpenViduVersion.TryParse(text, out var v) ? v : throw new ArgumentException(text);

    [Theory]
    [InlineData("3.0.0", "3.0.1", -1)]
    [InlineData("3.0.1", "3.0.0", 1)]
    [InlineData("3.1.0", "3.0.9", 1)]
    [InlineData("2.9.9", "3.0.0", -1)]
    [InlineData("3.4.0", "3.4.0", 0)]
    public void CompareTo_TwoVersions_MajorThenMinorThenPatch(string a, string b, int sign)
    {
        // Act
        var compared = V(a).CompareTo(V(b));

        // Assert
        Assert.Equal(sign, Math.Sign(compared));
        Assert.Equal(sign < 0, V(a) < V(b));
        Assert.Equal(sign > 0, V(a) > V(b));
        Assert.Equal(sign <= 0, V(a) <= V(b));
        Assert.Equal(sign >= 0, V(a) >= V(b));
    }

    [Fact]
    public void CompareTo_Null_IsGreater() => Assert.Equal(1, V("3.0.0").CompareTo(null));

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("10.20.30")]
    public void TryParse_Version_RoundTripsThroughToString(string text)
    {
        // Act
        var parsed = OpenViduVersion.TryParse(text, out var version);

        // Assert
        Assert.True(parsed);
        Assert.Equal(text, version!.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("3.0.0.1")]
    [InlineData("v3.0.0")]
    [InlineData("3.0.12345")]
    public void TryParse_NotXYZ_False(string? text)
    {
        // Act
        var parsed = OpenViduVersion.TryParse(text, out var version);

        // Assert
        Assert.False(parsed);
        Assert.Null(version);
    }

    [Fact]
    public void Unsupported_Current_Null() => Assert.Null(V("3.4.0").Unsupported());

    [Fact]
    public void KnownReleases_EverySupportedAndAscending_NewestLast()
    {
        var versions = OpenViduVersion.KnownReleases.Select(V).ToList();

        Assert.All(versions, v => Assert.Null(v.Unsupported()));
        Assert.Equal(versions.Order().ToList(), versions);
        Assert.Equal(versions.Count, versions.Distinct().Count());
        Assert.Equal(V("3.9.0"), versions[^1]);
    }

    [Fact]
    public void ToString_Errors_FieldByFieldEveryMessage()
    {
        // Arrange
        var errors = new ValidationErrors();
        errors.Add("name", "Give a name.");
        errors.Add("name", "Shorter.");
        errors.Add("name", "Give a name.");
        errors.Add("nodes", "Four masters.");

        // Act
        var text = errors.ToString();

        // Assert
        Assert.Equal("name: Give a name. Shorter.; nodes: Four masters.", text);
        Assert.Equal(["Give a name.", "Shorter."], errors.For("name"));
        Assert.Empty(errors.For("other"));
        Assert.Equal(new Dictionary<string, string[]> { ["name"] = ["Give a name.", "Shorter."], ["nodes"] = ["Four masters."] }, errors.ToDictionary());
        Assert.False(errors.IsEmpty);
    }

    [Fact]
    public void Definition_WebrtcOverTcpNotSet_IsOn()
    {
        // Act
        var definition = new ClusterDefinition
        {
            Name = "prod", Version = V("3.0.0"), DomainName = "openvidu.example.io", LicenseKey = "L", RtcEngine = RtcEngine.Pion,
            Modules = [], InstallerBaseUrl = ClusterDefaults.InstallerBaseUrl, Secrets = new Dictionary<string, string>(), Nodes = [],
        };

        // Assert
        Assert.True(definition.WebrtcOverTcp);
    }

    [Fact]
    public void Definition_ToString_NamesTheClusterWithoutLicenceOrSecrets()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");

        // Act
        var text = cluster.ToString();

        // Assert
        Assert.Equal("ClusterDefinition { prod, OpenVidu 3.8.0, openvidu.example.io, 6 nodes }", text);
        Assert.DoesNotContain(TestClusters.License, text, StringComparison.Ordinal);
    }

    [Fact]
    public void Definition_Members_DeriveFromTheNodesAndModules()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0") with { MasterInstallerSha256 = "m", MediaInstallerSha256 = "d" };

        // Act
        var masters = cluster.Masters.Select(n => n.Name).ToList();

        // Assert
        Assert.Equal(["master-1", "master-2", "master-3", "master-4"], masters);
        Assert.Equal(["media-1", "media-2"], cluster.MediaNodes.Select(n => n.Name));
        Assert.True(cluster.HasDefaultApp);
        Assert.False(TestClusters.WithoutModule(cluster, Modules.App).HasDefaultApp);
        Assert.Equal(("m", "d"), (cluster.InstallerSha256(NodeRole.Master), cluster.InstallerSha256(NodeRole.Media)));
        Assert.Equal(TestClusters.FakeSecret(SecretCatalog.RedisPassword), cluster.Secret(SecretCatalog.RedisPassword));
    }
}
