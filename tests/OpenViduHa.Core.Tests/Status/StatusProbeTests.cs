using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Core.Tests.Status;

public sealed class StatusProbeTests
{
    private const string Sample = """
        @hello
        @load 0.52 0.61 0.70 3/412 9981
        @cpus 8
        @mem MemTotal 16314020
        @mem MemAvailable 12000000
        @service active
        @df
        Filesystem     1024-blocks     Used Available Capacity Mounted on
        /dev/sda1        102400000 51200000  51200000      50% /
        @ps 0
        4f1c0e3d2b1a	caddy	docker.io/openvidu/openvidu-pro-caddy:3.8.0	running	Up 2 hours
        9a8b7c6d5e4f	grafana	docker.io/grafana/grafana:11.6.2	restarting	Restarting (1) 3 seconds ago
        0123456789ab	openvidu-init	docker.io/busybox:1.37.0	exited	Exited (0) 2 hours ago
        @inspect
        /caddy 0
        /grafana 7
        /openvidu-init 0
        @ports
        @port 10.0.0.2 7000 1
        @port 10.0.0.2 7001 0
        @ports-end 0
        @end
        """;

    [Fact]
    public void Parse_SampleOutput_ReadsEveryFact()
    {
        var result = StatusProbe.Parse(Sample);

        Assert.Equal("active", result.Service);
        var r = result.Resources!;
        Assert.Equal((0.52, 0.61, 0.70, 8), (r.Load1, r.Load5, r.Load15, r.Cpus));
        Assert.Equal((16314020L, 12000000L), (r.MemoryTotalKb, r.MemoryAvailableKb));
        Assert.Equal((102400000L, 51200000L, "/"), (r.DiskTotalKb, r.DiskUsedKb, r.DiskPath));
        Assert.Equal(50, r.DiskUsedPercent, 3);
        Assert.Equal(["caddy", "grafana", "openvidu-init"], result.Containers.Select(c => c.Name));
        var grafana = result.Containers.Single(c => c.Name == "grafana");
        Assert.True(grafana.IsRestarting);
        Assert.Equal(7, grafana.RestartCount);
        Assert.Equal("Restarting (1) 3 seconds ago", grafana.Status);
        Assert.Equal("docker.io/grafana/grafana:11.6.2", grafana.Image);
        Assert.True(result.Ports[("10.0.0.2", 7000)]);
        Assert.False(result.Ports[("10.0.0.2", 7001)]);
        Assert.True(result.PortsComplete);
        Assert.Null(result.DockerError);
    }

    [Fact]
    public void Parse_DockerFailed_KeepsItsMessage_AndNoContainers()
    {
        var result = StatusProbe.Parse("@hello\n@service active\n@ps 1\nCannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?\n@inspect\n@end\n");

        Assert.Empty(result.Containers);
        Assert.Equal("Cannot connect to the Docker daemon at unix:///var/run/docker.sock. Is the docker daemon running?", result.DockerError);
    }

    [Fact]
    public void Parse_PortChecksCutByTimeout_AreIncomplete()
    {
        var result = StatusProbe.Parse("@hello\n@ports\n@port 10.0.0.9 7000 1\n@ports-end 124\n@end\n");

        Assert.False(result.PortsComplete);
        Assert.Single(result.Ports);
    }

    /// <summary>The script itself, in the machine's real bash: builtins read /proc, /dev/tcp checks real sockets.</summary>
    [Fact]
    public async Task Script_InRealBash_ReportsOpenAndClosedPorts_AndAMissingDocker()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var open = ((IPEndPoint)listener.LocalEndpoint).Port;
        int closed;
        using (var probe = new TcpListener(IPAddress.Loopback, 0))
        {
            probe.Start();
            closed = ((IPEndPoint)probe.LocalEndpoint).Port;
        }
        var script = StatusProbe.Script([new ProbeTarget("127.0.0.1", [open, closed])], TimeSpan.FromSeconds(3));

        // A PATH with what the probe needs from coreutils but no docker and no systemctl: it must still end and say so.
        var bin = Directory.CreateTempSubdirectory("ovha-probe-");
        try
        {
            foreach (var tool in new[] { "bash", "df", "timeout" })
                File.CreateSymbolicLink(Path.Combine(bin.FullName, tool), File.Exists($"/usr/bin/{tool}") ? $"/usr/bin/{tool}" : $"/bin/{tool}");
            await AssertProbeAsync(script, bin.FullName, open, closed);
        }
        finally
        {
            bin.Delete(recursive: true);
        }
    }

    private static async Task AssertProbeAsync(string script, string path, int open, int closed)
    {
        var (exit, output) = await RunBashAsync(script, path);

        Assert.Equal(0, exit);
        var result = StatusProbe.Parse(output);
        Assert.True(result.Ports[("127.0.0.1", open)], output);
        Assert.False(result.Ports[("127.0.0.1", closed)], output);
        Assert.True(result.PortsComplete);
        Assert.Contains("@end", output, StringComparison.Ordinal);
        Assert.NotNull(result.Resources);
        Assert.Equal(Environment.ProcessorCount, result.Resources!.Cpus);
        Assert.True(result.Resources.MemoryTotalKb > 0);
        Assert.True(result.Resources.DiskTotalKb > 0);
        Assert.EndsWith("docker: command not found", result.DockerError, StringComparison.Ordinal);
        Assert.Empty(result.Containers);
    }

    [Fact]
    public void Script_IsValidBash()
    {
        var script = StatusProbe.Script([new ProbeTarget("10.0.0.1", [7000, 7001]), new ProbeTarget("10.0.0.2", [7880])], TimeSpan.FromSeconds(2));
        var psi = new ProcessStartInfo("bash", ["-n", "-c", script]) { RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        var err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, err);
    }

    private static async Task<(int Exit, string Output)> RunBashAsync(string script, string path)
    {
        var psi = new ProcessStartInfo("/bin/bash", ["--noprofile", "--norc", "-c", script]) { RedirectStandardOutput = true, RedirectStandardError = true };
        psi.Environment["PATH"] = path;
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEndAsync();
        await p.WaitForExitAsync();
        return (p.ExitCode, await stdout + await stderr);
    }
}
