using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Tests.Artifacts;

/// <summary>
/// The second line of defence: a value that would become a directive in a generated file is refused where the text is
/// made, with a message naming the field (never a secret).
/// </summary>
public sealed class ArtifactInputTests
{
    private static readonly ClusterDefinition Full = TestClusters.Full("3.8.0");

    public static TheoryData<string, Func<ClusterDefinition, ClusterDefinition>, string> Refusals => new()
    {
        { "turn", c => c with { TurnDomainName = "turn.example.io;\n" }, "The TURN domain name must be a host name (letters, digits, dashes and dots)." },
        { "domain too long", c => c with { DomainName = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)) }, "The domain name must be a host name (letters, digits, dashes and dots)." },
        { "lb ip", c => c with { LoadBalancerIp = "10.5.0.100 " }, "The load balancer IP must be an IPv4 address in dotted form." },
        { "lb ip with zeros", c => c with { LoadBalancerIp = "10.5.0.010" }, "The load balancer IP must be an IPv4 address in dotted form." },
        { "installer url", c => c with { InstallerBaseUrl = "ftp://mirror.example.io" }, "The installer base URL must be an absolute http or https URL." },
        { "relative url", c => c with { InstallerBaseUrl = "mirror.example.io" }, "The installer base URL must be an absolute http or https URL." },
        { "master digest", c => c with { MasterInstallerSha256 = new string('A', 64) }, "A pinned installer SHA-256 is 64 lowercase hexadecimal digits." },
        { "media digest", c => c with { MediaInstallerSha256 = new string('0', 63) }, "A pinned installer SHA-256 is 64 lowercase hexadecimal digits." },
        { "three masters", c => c with { Nodes = c.Nodes.Skip(1).ToList() }, "An HA cluster has exactly 4 master nodes." },
        { "no media", c => c with { Nodes = c.Masters.ToList() }, "An HA cluster needs at least one media node." },
        { "node name", c => c with { Nodes = c.Nodes.Select(n => n.Name == "media-1" ? n with { Name = "media 1" } : n).ToList() }, "Node names are lower-case letters, digits and dashes (master-1, media-1...)." },
        { "public ip", c => c with { Nodes = c.Nodes.Select(n => n.Name == "media-1" ? n with { PublicIp = "203.0.113.x" } : n).ToList() }, "The media-1 public IP must be an IPv4 address in dotted form." },
        { "private ip", c => c with { Nodes = c.Nodes.Select(n => n.Name == "master-3" ? n with { PrivateIp = "10.5.0.3\n" } : n).ToList() }, "The master-3 private IP must be an IPv4 address in dotted form." },
        { "same name", c => c with { Nodes = c.Nodes.Select(n => n.Name == "media-2" ? n with { Name = "media-1" } : n).ToList() }, "Node names must be unique." },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public void Generate_ValueThatCannotGoIntoAFile_RefusedNamingTheField(string what, Func<ClusterDefinition, ClusterDefinition> change, string message)
    {
        // Arrange
        var cluster = change(Full);

        // Act
        var error = Assert.Throws<ArgumentException>(() => ArtifactCatalog.Generate(cluster, NginxArtifact.Name));

        // Assert
        Assert.True(error.Message.StartsWith(message, StringComparison.Ordinal), $"{what}: {error.Message}");
        Assert.Equal("cluster", error.ParamName);
    }

    [Fact]
    public void Generate_NoTurnNoLoadBalancerIpNoDigests_Accepted()
    {
        // Arrange
        var cluster = Full with { TurnDomainName = null, LoadBalancerIp = null, MasterInstallerSha256 = null, MediaInstallerSha256 = null };

        // Act
        var artifact = ArtifactCatalog.Generate(cluster, NginxArtifact.Name);

        // Assert
        Assert.NotEmpty(artifact.Content);
    }

    [Theory]
    [InlineData("prod", "prod")]
    [InlineData("a/b c", "a-b-c")]
    [InlineData("...", "cluster")]
    [InlineData(".hidden.", "hidden")]
    public void FileNamePart_ClusterName_SafeForAFileName(string name, string expected) =>
        Assert.Equal(expected, ArtifactInput.FileNamePart(name));

    [Fact]
    public void NodeScript_NodeOfAnotherCluster_Refused()
    {
        // Arrange
        var stranger = new NodeDefinition("media-9", NodeRole.Media, "10.5.0.99", null);

        // Act
        var error = Assert.Throws<ArgumentException>(() => InstallCommandsArtifact.NodeScript(Full, stranger));

        // Assert
        Assert.Equal("Node media-9 is not a node of cluster prod. (Parameter 'node')", error.Message);
    }

    [Fact]
    public void NodeScript_Node_StartsWithBashStrictModeAndNamesTheNode()
    {
        // Act
        var script = InstallCommandsArtifact.NodeScript(Full, Full.Nodes[5]);

        // Assert
        Assert.StartsWith("#!/usr/bin/env bash\n# OpenVidu HA panel: installs media-2 of cluster 'prod' (OpenVidu 3.8.0).\n" +
                          "# Holds the cluster's secrets: the panel removes it once the installer has run.\nset -euo pipefail\n\n", script, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("https://get.openvidu.io", "# https only: curl refuses plain http, also through a redirect.")]
    [InlineData("http://mirror.example.io", "# The installer base URL is plain http: nothing protects the download in transit. Pin its SHA-256 in the panel.")]
    public void InstallerFunction_Scheme_SaysWhatProtectsTheDownload(string baseUrl, string comment) =>
        Assert.Contains(comment, InstallCommandsArtifact.InstallerFunction(Full with { InstallerBaseUrl = baseUrl }));

    [Fact]
    public void OneLine_ControlCharacters_BecomeQuestionMarks() =>
        Assert.Equal("a?b?c d", ArtifactText.OneLine("a\nb\u0007c d"));

    [Fact]
    public void Quote_Null_Throws() => Assert.Throws<ArgumentNullException>(() => ShellQuote.Quote(null!));

    [Fact]
    public void ToString_Artifact_NamesFileTypeAndLengthOnly() =>
        Assert.Equal("prod-x.sh (text/plain, 6 chars)", new GeneratedArtifact("x.sh", "prod-x.sh", "text/plain", "secret").ToString());

    [Theory]
    [InlineData("7000", new[] { 7000 })]
    [InlineData("7000:7007", new[] { 7000, 7001, 7002, 7003, 7004, 7005, 7006, 7007 })]
    [InlineData("7000:7008", new int[0])]
    [InlineData("50000:60000", new int[0])]
    public void SinglePorts_Rule_EachPortOfSmallRangesOnly(string ports, int[] expected) =>
        Assert.Equal(expected, new PortRule("tcp", ports, [], "").SinglePorts());
}
