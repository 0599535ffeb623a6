using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class ArtifactGoldenTests
{
    public static TheoryData<string, string> Cases() => GoldenCases.CasesWith();

    [Theory]
    [MemberData(nameof(Cases))]
    public void Generate_GoldenCluster_MatchesApprovedFile(string caseName, string artifact)
    {
        // Arrange
        var cluster = GoldenCases.Cluster(caseName);

        // Act
        var generated = ArtifactCatalog.Generate(cluster, artifact);

        // Assert
        Golden.Verify(caseName, artifact, generated.Content);
    }

    [Fact]
    public void Describe_LinesDiffer_NamesFirstDifferingLineWithBothVersions()
    {
        // Arrange
        const string expected = "a\nb\nc\n";
        const string actual = "a\nB\nc\n";

        // Act
        var message = Golden.Describe("x.conf", expected, actual);

        // Assert
        Assert.Contains("First difference at line 2", message);
        Assert.Contains("  -    2   b", message);
        Assert.Contains("  +    2   B", message);
    }
}
