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

    /// <summary>
    /// The "ha" profile: PostgreSQL, two panel instances on it and HAProxy in front on the loopback port, whose config
    /// HAProxy itself accepts and which keeps a browser on one instance (an inserted cookie) while that one is healthy.
    /// </summary>
    [Fact]
    public async Task HaProfile_TwoInstancesOnPostgres_BehindAStickyHaproxy()
    {
        var psi = new ProcessStartInfo("docker-compose", ["-f", Path.Combine(RepoRoot.Path, "docker-compose.yml"), "--profile", "ha", "config"])
        {
            RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RepoRoot.Path,
        };
        psi.Environment["PANEL_DB_PASSWORD"] = "db-password-from-env";
        using var process = Process.Start(psi)!;
        var output = await process.StandardOutput.ReadToEndAsync();
        var errors = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        Assert.True(process.ExitCode == 0, errors);

        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(output, "ConnectionStrings__Panel: Host=postgres;Database=ovha;Username=ovha;Password=db-password-from-env"));
        Assert.Equal(2, System.Text.RegularExpressions.Regex.Count(output, "Storage__Provider: Postgres"));
        Assert.Contains("POSTGRES_PASSWORD: db-password-from-env", output, StringComparison.Ordinal);
        Assert.Contains("haproxy-ha.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro", output, StringComparison.Ordinal);

        var config = Path.Combine(RepoRoot.Path, "deploy", "haproxy-ha.cfg");
        var check = await OpenViduHa.Tests.Support.ProcessRunner.RunAsync("haproxy", ["-c", "-f", config]);
        Assert.True(check.ExitCode == 0, check.ToString());
        var text = await File.ReadAllTextAsync(config);
        Assert.Contains("cookie ovha_instance insert indirect nocache httponly", text, StringComparison.Ordinal);
        Assert.Contains("server panel-a panel-a:8080 check cookie a", text, StringComparison.Ordinal);
        Assert.Contains("server panel-b panel-b:8080 check cookie b", text, StringComparison.Ordinal);
        Assert.Contains("option httpchk GET /healthz", text, StringComparison.Ordinal);
    }

    /// <summary>
    /// The image (not built here) runs the panel as the aspnet image's unprivileged user, which owns the data directory;
    /// nothing after the switch needs root.
    /// </summary>
    [Fact]
    public void Dockerfile_FinalStage_RunsAsTheUnprivilegedUser_WhoOwnsTheDataDirectory()
    {
        var lines = File.ReadAllLines(Path.Combine(RepoRoot.Path, "Dockerfile")).Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#')).ToList();
        var final = lines.Skip(lines.FindLastIndex(l => l.StartsWith("FROM ", StringComparison.Ordinal))).ToList();

        Assert.StartsWith("FROM mcr.microsoft.com/dotnet/aspnet:", final[0], StringComparison.Ordinal);
        var user = final.FindLastIndex(l => l.StartsWith("USER ", StringComparison.Ordinal));
        Assert.True(user > 0, "The final stage has no USER: the panel would run as root.");
        Assert.Equal("USER $APP_UID", final[user]);
        Assert.DoesNotContain(final.Skip(user + 1), l => l.StartsWith("RUN ", StringComparison.Ordinal) || l.StartsWith("USER ", StringComparison.Ordinal));
        var data = final.FindIndex(l => l.Contains("chown \"$APP_UID:$APP_UID\" /data", StringComparison.Ordinal));
        Assert.InRange(data, 1, user - 1);
        Assert.True(final.IndexOf("VOLUME /data") > data, "The volume is declared before its directory is given to the user: a new volume would be root's.");
    }
}
