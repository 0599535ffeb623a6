using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class ShellScriptSyntaxTests
{
    public static TheoryData<string, string> Scripts() =>
        GoldenCases.CasesWith(InstallCommandsArtifact.Name, FirewallArtifact.MasterName, FirewallArtifact.MediaName);

    [Theory]
    [MemberData(nameof(Scripts))]
    public async Task BashNoExec_GeneratedScript_Passes(string caseName, string artifact)
    {
        // Arrange
        using var dir = new TempDirectory();
        var content = ArtifactCatalog.Generate(GoldenCases.Cluster(caseName), artifact).Content;
        var file = dir.Write(artifact, content);

        // Act
        var result = await ProcessRunner.RunAsync(RequiredTools.Bash, ["-n", file]);

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith("#!/usr/bin/env bash\n", content);
        Assert.Contains("\nset -euo pipefail\n", content);
    }
}
