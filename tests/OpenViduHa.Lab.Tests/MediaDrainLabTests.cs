using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>
/// A media node's rooms, LiveKit's metrics on 6789, draining the media server with <c>docker stop</c>, the unit's
/// enablement and the installers' public IP flags. Each test works on its own node.
/// </summary>
public sealed class MediaDrainLabTests(SixNodeLab fixture) : IClassFixture<SixNodeLab>, IDisposable
{
    private const string Wants = "/etc/systemd/system/multi-user.target.wants/openvidu.service";

    private readonly HttpClient _http = new(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private Lab Lab => fixture.Lab;

    public void Dispose() => _http.Dispose();

    [Fact]
    public async Task Metrics_RunningMediaNode_ReportTheRoomsAtRequestTime_MasterAndStoppedRefuse()
    {
        var media = Lab.Nodes[0];
        var master = Lab.Nodes[1];
        await StartAsync(media, "media-1");
        await StartAsync(master, "master-1");
        try
        {
            media.Rooms = 3;
            var response = await _http.GetAsync($"http://{media.Address}:6789/metrics");
            var body = await response.Content.ReadAsStringAsync();

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.StartsWith("text/plain; version=0.0.4", response.Content.Headers.ContentType!.ToString(), StringComparison.Ordinal);
            Assert.Contains("# TYPE livekit_room_total gauge\n", body, StringComparison.Ordinal);
            Assert.Matches(RoomTotal(3), body);
            Assert.Contains("livekit_participant_total{", body, StringComparison.Ordinal);

            // As the panel counts them: on the node, curl and awk.
            media.Rooms = 1;
            var counted = await media.RunAsRootAsync(
                $"curl -s --max-time 2 http://{media.Address}:6789/metrics | awk '/^livekit_room_total/ {{ n += $NF }} END {{ print n }}'");
            Assert.Equal("1\n", counted.Output);

            Assert.False(await Tcp.ListensAsync(master.Address, 6789));
        }
        finally
        {
            media.Rooms = 0;
            await media.RunAsRootAsync("systemctl stop openvidu");
            await master.RunAsRootAsync("systemctl stop openvidu");
        }
        Assert.False(await Tcp.ListensAsync(media.Address, 6789));
    }

    [Fact]
    public async Task DockerStop_RoomsEndBeforeTheTimeout_Drained_ContainerExitedUntilRestart()
    {
        var node = Lab.Nodes[2];
        await StartAsync(node, "media-2");
        try
        {
            node.Rooms = 2;
            var stop = node.RunAsRootAsync("docker stop --time 5 openvidu");

            await WaitForAsync(() => node.Drains.Count == 1);
            await Task.Delay(300);
            Assert.False(stop.IsCompleted);
            Assert.Equal(MediaDrain.Draining, node.Drains[0].Outcome);
            Assert.True(node.OpenViduContainerRunning);  // draining: still running, still answering
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"http://{node.Address}:7880/")).StatusCode);
            var cleared = DateTimeOffset.UtcNow;
            node.Rooms = 0;
            var result = await stop.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal("openvidu\n", result.Output);
            var drain = Assert.Single(node.Drains);
            Assert.Equal((5, MediaDrain.Drained, 0), (drain.TimeoutSeconds, drain.Outcome, drain.RoomsCut));
            Assert.InRange(drain.Ended!.Value, cleared.AddMilliseconds(-50), drain.Started.AddSeconds(5));
            Assert.Equal(0, node.RoomsCut);
            Assert.False(node.OpenViduContainerRunning);
            await AssertExitedAsync(node, 0);

            // Stopping it again changes nothing; the service still runs (docker compose up goes on without it), so a
            // start of the active unit is a no-op, as with systemd: the container stays exited.
            var again = await node.RunAsRootAsync("docker stop openvidu; systemctl start openvidu; systemctl is-active openvidu");
            Assert.Equal("openvidu\nactive\n", again.Output);
            Assert.Single(node.Drains);
            Assert.False(node.OpenViduContainerRunning);

            Assert.Equal(0, (await node.RunAsRootAsync("systemctl restart openvidu")).ExitCode);

            Assert.True(node.OpenViduContainerRunning);
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"http://{node.Address}:7880/")).StatusCode);
            Assert.True(await Tcp.ListensAsync(node.Address, 6789));
            Assert.Equal("running\n", (await node.RunAsRootAsync("docker inspect --format '{{.State.Status}}' openvidu")).Output);
        }
        finally
        {
            node.Rooms = 0;
            await node.RunAsRootAsync("systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task DockerStop_RoomsOutlastTheTimeout_Killed137_RoomsCut_StopStartBringsItBack()
    {
        var node = Lab.Nodes[3];
        await StartAsync(node, "media-1");
        try
        {
            node.Rooms = 1;
            var clock = Stopwatch.StartNew();
            var result = await node.RunAsRootAsync("docker stop --time 1 openvidu");

            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Equal("openvidu\n", result.Output);
            Assert.True(clock.Elapsed >= TimeSpan.FromSeconds(1), $"returned after {clock.Elapsed}");
            var drain = Assert.Single(node.Drains);
            Assert.Equal((1, MediaDrain.Killed, 1), (drain.TimeoutSeconds, drain.Outcome, drain.RoomsCut));
            Assert.InRange(drain.Ended!.Value - drain.Started, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(4));
            Assert.Equal(0, node.Rooms);
            Assert.Equal(1, node.RoomsCut);
            await AssertExitedAsync(node, 137);
            Assert.Contains("openvidu exited with code 137", node.Journal, StringComparison.Ordinal);

            var restarted = await node.RunAsRootAsync("systemctl stop openvidu && systemctl start openvidu && systemctl is-active openvidu");

            Assert.Equal("active\n", restarted.Output);
            Assert.True(node.OpenViduContainerRunning);
            Assert.Equal(HttpStatusCode.OK, (await _http.GetAsync($"http://{node.Address}:7880/")).StatusCode);
            Assert.Equal("running false 0\n",
                (await node.RunAsRootAsync("docker inspect --format '{{.State.Status}} {{.State.Restarting}} {{.State.ExitCode}}' openvidu")).Output);
        }
        finally
        {
            node.Rooms = 0;
            await node.RunAsRootAsync("systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task DockerStop_SecondStopOrTheUnitsStopWhileDraining_ForceTheExit_RoomsCut()
    {
        var node = Lab.Nodes[4];
        await StartAsync(node, "media-2");
        try
        {
            // A second SIGTERM makes LiveKit exit at once, whatever it hosts.
            node.Rooms = 2;
            var first = node.RunAsRootAsync("docker stop --time 60 openvidu");
            await WaitForAsync(() => node.Drains.Count == 1);
            var second = await node.RunAsRootAsync("docker stop openvidu");
            var firstResult = await first.WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal(("openvidu\n", "openvidu\n"), (firstResult.Output, second.Output));
            var forced = Assert.Single(node.Drains);
            Assert.Equal((60, MediaDrain.Forced, 2), (forced.TimeoutSeconds, forced.Outcome, forced.RoomsCut));
            await AssertExitedAsync(node, 0);

            // The unit's stop (docker compose down) while one drains: the same, recorded by the service host.
            Assert.Equal(0, (await node.RunAsRootAsync("systemctl restart openvidu")).ExitCode);
            node.Rooms = 3;
            var draining = node.RunAsRootAsync("docker stop --time 60 openvidu");
            await WaitForAsync(() => node.Drains.Count == 2);
            Assert.Equal(0, (await node.RunAsRootAsync("systemctl stop openvidu")).ExitCode);

            Assert.Equal("openvidu\n", (await draining.WaitAsync(TimeSpan.FromSeconds(10))).Output);
            Assert.Equal((MediaDrain.Forced, 3), (node.Drains[1].Outcome, node.Drains[1].RoomsCut));
            Assert.Equal(0, node.Rooms);
            Assert.Equal(5, node.RoomsCut);
        }
        finally
        {
            node.Rooms = 0;
            await node.RunAsRootAsync("systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task DockerStop_UnknownContainerOrBadFlag_FailsLikeDocker()
    {
        var node = Lab.Nodes[5];
        await StartAsync(node, "media-1");
        try
        {
            var unknown = await node.RunAsRootAsync("docker stop nosuch");
            var badTime = await node.RunAsRootAsync("docker stop -t soon openvidu");
            var other = await node.RunAsRootAsync("docker stop caddy");

            Assert.Equal((1, "", "Error response from daemon: No such container: nosuch\n"), (unknown.ExitCode, unknown.Output, unknown.Error));
            Assert.Equal(125, badTime.ExitCode);
            Assert.StartsWith("invalid argument \"soon\" for \"-t, --timeout\" flag", badTime.Error, StringComparison.Ordinal);
            Assert.Equal(1, other.ExitCode);
            Assert.Contains("not simulated", other.Error, StringComparison.Ordinal);
            Assert.True(node.OpenViduContainerRunning);
            Assert.Empty(node.Drains);
        }
        finally
        {
            await node.RunAsRootAsync("systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task Disable_IsEnabledSaysDisabled_EnableAndReinstallEnableAgain()
    {
        var node = Lab.Nodes[5];
        await InstallAsync(node, "media-1");
        Assert.True(node.ServiceEnabled);

        var disable = await node.RunAsRootAsync("systemctl disable openvidu; systemctl is-enabled openvidu");

        Assert.Equal(1, disable.ExitCode);
        Assert.Equal("disabled\n", disable.Output);
        Assert.Equal($"Removed \"{Wants}\".\n", disable.Error);
        Assert.False(node.ServiceEnabled);
        Assert.Contains("; disabled; preset: enabled)", (await node.RunAsRootAsync("systemctl status openvidu")).Output, StringComparison.Ordinal);

        var enable = await node.RunAsRootAsync("systemctl enable openvidu && systemctl is-enabled openvidu");

        Assert.Equal(0, enable.ExitCode);
        Assert.Equal("enabled\n", enable.Output);
        Assert.Equal($"Created symlink {Wants} → /etc/systemd/system/openvidu.service.\n", enable.Error);
        Assert.True(node.ServiceEnabled);

        Assert.Equal(0, (await node.RunAsRootAsync("systemctl disable -q openvidu")).ExitCode);
        var reinstall = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "media-1", Lab.InstallerHttpsBaseUrl)));
        Assert.True(reinstall.ExitCode == 0, reinstall.Error);
        Assert.True(node.ServiceEnabled);
    }

    [Fact]
    public async Task Installers_PublicIpInMediaNodeEnv_ForceFlagRecordedByName()
    {
        var node = Lab.Nodes[1];
        var media = InstallCommands.For(InstallCommands.V380, "media-2", Lab.InstallerHttpsBaseUrl);

        var withIp = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(media));

        Assert.True(withIp.ExitCode == 0, withIp.Error);
        Assert.Equal(
            "MEDIA_NODE_PRIVATE_IP=10.5.0.12\nMEDIA_NODE_PUBLIC_IP=203.0.113.12\nMASTER_NODE_1_PRIVATE_IP=10.5.0.1\nMASTER_NODE_2_PRIVATE_IP=10.5.0.2\n" +
            "MASTER_NODE_3_PRIVATE_IP=10.5.0.3\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\nREDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n",
            node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        Assert.Equal(["--no-tty", "--install", "--deployment-type", "--node-role", "--master-node-private-ip-list", "--redis-password",
            "--private-ip", "--public-ip"], node.LastInstallerFlags);

        var withoutIp = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.Without(media, "--public-ip")));

        Assert.True(withoutIp.ExitCode == 0, withoutIp.Error);
        Assert.Contains("\nMEDIA_NODE_PUBLIC_IP=\n", node.ReadFile("/opt/openvidu/config/node/media_node.env"), StringComparison.Ordinal);
        Assert.DoesNotContain("--public-ip", node.LastInstallerFlags);

        var master = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "master-1", Lab.InstallerHttpsBaseUrl)));

        Assert.True(master.ExitCode == 0, master.Error);
        Assert.Contains("--force-media-node-public-ip", node.LastInstallerFlags);
        Assert.Contains("--redis-password", node.LastInstallerFlags);
        Assert.All(node.LastInstallerFlags, flag => Assert.DoesNotContain("=", flag, StringComparison.Ordinal));
        Assert.DoesNotContain("RedisPassword0123456789", node.ReadFile("/usr/local/lib/ovha-lab/installer-runs"), StringComparison.Ordinal);
    }

    /// <summary>The media server's container shows as exited with <paramref name="code"/>, its ports refuse, the unit runs on.</summary>
    private static async Task AssertExitedAsync(LabNode node, int code)
    {
        var ps = await node.RunAsRootAsync(
            "docker ps -a --format '{{.Names}} {{.State}} {{.Status}}'; echo --; docker ps --format '{{.Names}}'; echo --; " +
            "docker inspect --format '{{.State.Status}} {{.State.Running}} {{.State.ExitCode}}' openvidu; systemctl is-active openvidu");
        var parts = ps.Output.Split("--\n");
        Assert.Matches($"(?m)^openvidu exited Exited \\({code}\\) (Less than a second|\\d+ seconds?) ago$", parts[0]);
        Assert.DoesNotContain("openvidu\n", parts[1], StringComparison.Ordinal);
        Assert.Contains("caddy\n", parts[1], StringComparison.Ordinal);
        Assert.Equal($"exited false {code}\nactive\n", parts[2]);
        Assert.False(await Tcp.ListensAsync(node.Address, 7880));
        Assert.False(await Tcp.ListensAsync(node.Address, 6789));
        Assert.True(await Tcp.ListensAsync(node.Address, 8080));
    }

    private async Task InstallAsync(LabNode node, string golden)
    {
        var install = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, golden, Lab.InstallerHttpsBaseUrl)));
        Assert.True(install.ExitCode == 0, install.Error);
    }

    private async Task StartAsync(LabNode node, string golden)
    {
        await InstallAsync(node, golden);
        var start = await node.RunAsRootAsync("systemctl start openvidu");
        Assert.True(start.ExitCode == 0, start.Error);
    }

    private static async Task WaitForAsync(Func<bool> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "timed out waiting");
            await Task.Delay(20);
        }
    }

    private static Regex RoomTotal(int rooms) => new($"(?m)^livekit_room_total\\{{node_id=\"ND_[A-Za-z0-9]{{12}}\",node_type=\"MEDIA\"\\}} {rooms}$");
}
