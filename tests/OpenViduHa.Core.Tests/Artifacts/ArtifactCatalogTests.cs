using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class ArtifactCatalogTests
{
    [Fact]
    public void Names_Always_ListsTheSevenArtifactsInOrder()
    {
        // Arrange
        string[] expected =
        [
            "install-commands.sh", "firewall-master.sh", "firewall-media.sh", "nginx.conf", "haproxy.cfg", "credentials.env", "credentials.json",
        ];

        // Act
        var names = ArtifactCatalog.Names;

        // Assert
        Assert.Equal(expected, names);
        Assert.All(names, name => Assert.True(ArtifactCatalog.IsKnown(name)));
    }

    [Theory]
    [InlineData("install-commands.sh", "text/x-shellscript")]
    [InlineData("firewall-master.sh", "text/x-shellscript")]
    [InlineData("firewall-media.sh", "text/x-shellscript")]
    [InlineData("nginx.conf", "text/plain")]
    [InlineData("haproxy.cfg", "text/plain")]
    [InlineData("credentials.env", "text/plain")]
    [InlineData("credentials.json", "application/json")]
    public void Generate_KnownName_CarriesClusterFileNameAndContentType(string name, string contentType)
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");

        // Act
        var artifact = ArtifactCatalog.Generate(cluster, name);

        // Assert
        Assert.Equal(name, artifact.Name);
        Assert.Equal($"prod-{name}", artifact.FileName);
        Assert.Equal(contentType, artifact.ContentType);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Generate_SameClusterTwice_GivesSameTextWithUnixLineEndingsAndHeader(string version)
    {
        // Arrange
        var cluster = TestClusters.Full(version);

        foreach (var name in ArtifactCatalog.Names)
        {
            // Act
            var first = ArtifactCatalog.Generate(cluster, name).Content;
            var second = ArtifactCatalog.Generate(TestClusters.Full(version), name).Content;

            // Assert
            Assert.Equal(first, second);
            Assert.DoesNotContain('\r', first);
            Assert.EndsWith("\n", first);
            Assert.Contains("prod", first);
            Assert.Contains(version, first);
            Assert.Contains("OpenVidu HA panel", first);
        }
    }

    [Fact]
    public void Generate_UnknownName_ThrowsArgumentExceptionWithoutSecrets()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");

        // Act
        var error = Assert.Throws<ArgumentException>(() => ArtifactCatalog.Generate(cluster, "docker-compose.yml"));

        // Assert
        Assert.False(ArtifactCatalog.IsKnown("docker-compose.yml"));
        Assert.Contains("docker-compose.yml", error.Message);
        Assert.All(cluster.Secrets.Values.Where(v => v.Length > 12), secret => Assert.DoesNotContain(secret, error.Message));
        Assert.DoesNotContain(cluster.LicenseKey, error.Message);
    }

    [Theory]
    [InlineData("openvidu.example.io;\n    include /etc/passwd")]
    [InlineData("openvidu example io")]
    [InlineData("")]
    public void Generate_DomainThatIsNotAHostName_ThrowsArgumentException(string domain)
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { DomainName = domain };

        // Act + Assert
        Assert.Throws<ArgumentException>(() => ArtifactCatalog.Generate(cluster, NginxArtifact.Name));
    }

    [Theory]
    [InlineData("10.5.0.1; rm -rf /")]
    [InlineData("10.5.0")]
    [InlineData("::1")]
    public void Generate_NodeIpThatIsNotIpv4_ThrowsArgumentException(string ip)
    {
        // Arrange
        var full = TestClusters.Full("3.8.0");
        var nodes = full.Nodes.Select(n => n.Name == "master-2" ? n with { PrivateIp = ip } : n).ToList();
        var cluster = full with { Nodes = nodes };

        // Act + Assert
        Assert.Throws<ArgumentException>(() => ArtifactCatalog.Generate(cluster, HaproxyArtifact.Name));
    }

    [Fact]
    public void Generate_SecretMissing_ThrowsArgumentExceptionNamingTheKeyOnly()
    {
        // Arrange
        var full = TestClusters.Full("3.8.0");
        var secrets = full.Secrets.Where(kv => kv.Key != OpenViduHa.Core.Secrets.SecretCatalog.MeetInitialApiKey).ToDictionary();
        var cluster = full with { Secrets = secrets };

        // Act
        var error = Assert.Throws<ArgumentException>(() => ArtifactCatalog.Generate(cluster, InstallCommandsArtifact.Name));

        // Assert
        Assert.Contains("meetInitialApiKey", error.Message);
        Assert.All(secrets.Values.Where(v => v.Length > 12), secret => Assert.DoesNotContain(secret, error.Message));
    }

    [Fact]
    public void Generate_ClusterNameWithPathCharacters_MakesSafeFileName()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { Name = "../prod cluster" };

        // Act
        var artifact = ArtifactCatalog.Generate(cluster, CredentialsArtifact.EnvName);

        // Assert
        Assert.Equal("-prod-cluster-credentials.env", artifact.FileName);
    }

    [Fact]
    public void ToString_Artifact_DoesNotPrintContent()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var artifact = ArtifactCatalog.Generate(cluster, CredentialsArtifact.EnvName);

        // Act
        var text = artifact.ToString();

        // Assert
        Assert.DoesNotContain(cluster.Secret(OpenViduHa.Core.Secrets.SecretCatalog.LivekitApiSecret), text);
    }

    [Fact]
    public void Modules_TestClusterGenerations_AreTheCanonicalOnes()
    {
        // Sanity check of the fixture the golden files rely on.
        Assert.Equal(["observability", "v2compatibility", "app"], TestClusters.Full("3.0.0").Modules);
        Assert.Equal(["observability", "v2compatibility", "openviduMeet"], TestClusters.Full("3.8.0").Modules);
        Assert.Equal(InstallerGeneration.V30, TestClusters.Full("3.0.0").Generation);
        Assert.Equal(InstallerGeneration.Current, TestClusters.Full("3.8.0").Generation);
    }
}

public sealed class ArtifactCatalogMetadataTests
{
    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void HoldsSecrets_EachArtifact_ExactlyTheFilesThatCarryTheLicenceOrASecretValue(string version)
    {
        // Arrange: what is secret is the cluster's own values, so look for them in each file.
        var cluster = TestClusters.Full(version);
        var values = cluster.Secrets.Values.Where(v => v.Length >= 8).Append(cluster.LicenseKey).ToList();

        // Act
        var carrying = ArtifactCatalog.Names.Where(name => values.Any(v => ArtifactCatalog.Generate(cluster, name).Content.Contains(v, StringComparison.Ordinal))).ToList();
        var flagged = ArtifactCatalog.Names.Where(ArtifactCatalog.HoldsSecrets).ToList();

        // Assert
        Assert.Equal(["install-commands.sh", "credentials.env", "credentials.json"], flagged);
        Assert.Equal(flagged, carrying);
    }

    [Fact]
    public void Describe_EachArtifact_ItsOwnSentence()
    {
        // Act
        var descriptions = ArtifactCatalog.Names.Select(ArtifactCatalog.Describe).ToList();

        // Assert
        Assert.All(descriptions, d => Assert.EndsWith(".", d, StringComparison.Ordinal));
        Assert.Equal(descriptions.Count, descriptions.Distinct().Count());
        Assert.StartsWith("NGINX as the load balancer", ArtifactCatalog.Describe("nginx.conf"), StringComparison.Ordinal);
        Assert.Contains("3.2 and later: only the masters", ArtifactCatalog.Describe("nginx.conf"), StringComparison.Ordinal);
        Assert.StartsWith("ufw rules for the media nodes", ArtifactCatalog.Describe("firewall-media.sh"), StringComparison.Ordinal);
    }

    [Fact]
    public void Describe_UnknownName_Refused()
    {
        // Act
        var failure = Assert.Throws<ArgumentException>(() => ArtifactCatalog.Describe("secrets.txt"));

        // Assert
        Assert.StartsWith("Unknown artifact 'secrets.txt'.", failure.Message, StringComparison.Ordinal);
    }
}
