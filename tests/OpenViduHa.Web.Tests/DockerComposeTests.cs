using System.Diagnostics;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>No Docker engine runs here: the compose file is checked with Debian's docker-compose, the image is not built.</summary>
public sealed class DockerComposeTests
{
    [Fact]
    public async Task ComposeFile_PassesDockerComposeConfig_WithVolumeAndBootstrapFromEnvironment()
    {
        var psi = new ProcessStartInfo("docker-compose", ["-f", Path.Combine(RepoRoot.Path, "docker-compose.yml"), "config"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot.Path,
        };
        psi.Environment["PANEL_ADMIN_PASSWORD"] = "from-the-environment-123";
        Process process;
        try { process = Process.Start(psi)!; }
        catch (System.ComponentModel.Win32Exception e) { throw new InvalidOperationException("docker-compose is missing: install Debian's docker-compose (test.sh does).", e); }

        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();

        Assert.True(process.ExitCode == 0, errors);
        Assert.Contains("panel-data:/data", output.Replace("source: panel-data\n        target: /data", "panel-data:/data"), StringComparison.Ordinal);
        Assert.Contains("Storage__DataDirectory: /data", output, StringComparison.Ordinal);
        Assert.Contains("Bootstrap__AdminPassword: from-the-environment-123", output, StringComparison.Ordinal);
        Assert.Contains("8080", output, StringComparison.Ordinal);
    }
}
