using System.Net;
using System.Net.Sockets;
using System.Text.Json;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>The systemctl, docker and journalctl stand-ins, and the service's listeners as the host sees them.</summary>
public sealed class ServiceTests(SixNodeLab fixture) : IClassFixture<SixNodeLab>, IAsyncLifetime
{
    private static readonly string[] _masterContainers =
        ["caddy", "dashboard", "redis-server", "redis-sentinel", "minio", "mongo", "operator", "openvidu-v2compatibility",
         "grafana", "loki", "mimir", "promtail", "openvidu-meet"];

    private static readonly string[] _mediaContainers = ["openvidu", "ingress", "egress", "caddy", "prometheus", "promtail"];

    private readonly HttpClient _http = new(new HttpClientHandler { UseProxy = false }) { Timeout = TimeSpan.FromSeconds(10) };

    private Lab Lab => fixture.Lab;

    private LabNode Master => Lab.Nodes[0];

    private LabNode Media => Lab.Nodes[1];

    public async Task InitializeAsync()
    {
        foreach (var (node, golden) in new[] { (Master, "master-1"), (Media, "media-1") })
        {
            if (node.ReadFile("/etc/systemd/system/openvidu.service") is not null) continue;
            var result = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, golden, Lab.InstallerBaseUrl)));
            Assert.True(result.ExitCode == 0, result.Error);
        }
    }

    public Task DisposeAsync()
    {
        _http.Dispose();
        return Task.CompletedTask;
    }

    [Fact]
    public async Task Start_BeforeInstall_FailsUnitNotFound()
    {
        var node = Lab.Nodes[5];

        var start = await Ssh.RootAsync(node, Lab.Keys, "systemctl start openvidu");
        var active = await Ssh.RootAsync(node, Lab.Keys, "systemctl is-active openvidu");
        var ps = await Ssh.RootAsync(node, Lab.Keys, "docker ps --format '{{json .}}'");

        Assert.Equal(5, start.ExitCode);
        Assert.Equal("Failed to start openvidu.service: Unit openvidu.service not found.\n", start.Error);
        Assert.Equal(3, active.ExitCode);
        Assert.Equal("inactive\n", active.Output);
        Assert.Equal("", ps.Output);
        Assert.False(node.ServiceActive);
    }

    [Fact]
    public async Task Master_StartThenStop_HealthAndPortsFollow()
    {
        var start = await Ssh.RootAsync(Master, Lab.Keys, "systemctl start openvidu && systemctl is-active openvidu");
        try
        {
            Assert.Equal(0, start.ExitCode);
            Assert.Equal("active\n", start.Output);
            Assert.True(Master.ServiceActive);
            var health = await _http.GetAsync($"http://{Master.Address}:7880/health/caddy");
            Assert.Equal(HttpStatusCode.OK, health.StatusCode);
            foreach (var port in new[] { 7000, 7001, 9100, 20000 })
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(Master.Address, port);
            }
        }
        finally
        {
            var stop = await Ssh.RootAsync(Master, Lab.Keys, "systemctl stop openvidu; systemctl is-active openvidu");
            Assert.Equal(3, stop.ExitCode);
            Assert.Equal("inactive\n", stop.Output);
        }
        Assert.False(Master.ServiceActive);
        var refused = await Assert.ThrowsAsync<HttpRequestException>(() => _http.GetAsync($"http://{Master.Address}:7880/health/caddy"));
        Assert.Equal(SocketError.ConnectionRefused, (refused.InnerException as SocketException)?.SocketErrorCode);
    }

    [Fact]
    public async Task Media_Started_RootAnswersOk_Or406WhenStatsAreStale()
    {
        var start = await Ssh.RootAsync(Media, Lab.Keys, "systemctl restart openvidu");
        try
        {
            Assert.Equal(0, start.ExitCode);
            var ok = await _http.GetAsync($"http://{Media.Address}:7880/");
            Assert.Equal(HttpStatusCode.OK, ok.StatusCode);
            Assert.Equal("OK", await ok.Content.ReadAsStringAsync());
            foreach (var port in new[] { 1935, 5349, 8080, 7881 })
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(Media.Address, port);
            }

            Media.MediaStatsStale(true);
            var stale = await _http.GetAsync($"http://{Media.Address}:7880/");
            Assert.Equal(HttpStatusCode.NotAcceptable, stale.StatusCode);
            Assert.Equal("Not Ready", await stale.Content.ReadAsStringAsync());
        }
        finally
        {
            Media.ClearFaults();
            await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task DockerPs_ListsTheRolesContainers_AndTheRestartingOne()
    {
        await Ssh.RootAsync(Master, Lab.Keys, "systemctl start openvidu");
        try
        {
            var running = await PsAsync(Master);
            Assert.Equal(_masterContainers.Order(), running.Select(c => c.GetProperty("Names").GetString()!).Order());
            Assert.All(running, c => Assert.Equal("running", c.GetProperty("State").GetString()));
            Assert.All(running, c => Assert.StartsWith("Up ", c.GetProperty("Status").GetString()));

            Master.RestartingContainer("openvidu-init");
            var withFault = await PsAsync(Master);
            var init = withFault.Single(c => c.GetProperty("Names").GetString() == "openvidu-init");
            Assert.Equal("restarting", init.GetProperty("State").GetString());
            Assert.Matches(@"^Restarting \(1\) (\d+ seconds?|Less than a second) ago$", init.GetProperty("Status").GetString());
            var inspect = await Ssh.RootAsync(Master, Lab.Keys, "docker inspect --format '{{.RestartCount}} {{.State.Status}}' openvidu-init caddy");
            Assert.Equal("1 restarting\n0 running\n", inspect.Output);

            var table = await Ssh.RootAsync(Master, Lab.Keys, "docker ps -a");
            Assert.StartsWith("CONTAINER ID   IMAGE", table.Output);
            Assert.Contains("Restarting (1)", table.Output);
        }
        finally
        {
            Master.RestartingContainer(null);
            await Ssh.RootAsync(Master, Lab.Keys, "systemctl stop openvidu");
        }
        var stopped = await Ssh.RootAsync(Master, Lab.Keys, "docker ps -q | wc -l; docker ps -a --format '{{.Names}} {{.State}}' | grep -c ' exited$'");
        Assert.Equal($"0\n{_masterContainers.Length + 1}\n", stopped.Output);
    }

    [Fact]
    public async Task MediaContainers_AndJournal()
    {
        await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu");
        try
        {
            var running = await PsAsync(Media);
            Assert.Equal(_mediaContainers.Order(), running.Select(c => c.GetProperty("Names").GetString()!).Order());

            var journal = await Ssh.RootAsync(Media, Lab.Keys, "journalctl -u openvidu --no-pager -n 20");
            Assert.Contains("Started openvidu.service - OpenVidu.", journal.Output);
            var status = await Ssh.RootAsync(Media, Lab.Keys, "systemctl status openvidu");
            Assert.Equal(0, status.ExitCode);
            Assert.Contains("Active: active (running)", status.Output);
        }
        finally
        {
            await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task Systemctl_NonRoot_IsRefused_ButMayAsk()
    {
        using var client = await Ssh.ConnectAsync(Master, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var start = await client.RunAsync("systemctl start openvidu");
        var active = await client.RunAsync("systemctl is-active openvidu");

        Assert.Equal(1, start.ExitCode);
        Assert.Contains("Interactive authentication required", start.Error);
        Assert.Equal("inactive\n", active.Output);
    }

    private async Task<List<JsonElement>> PsAsync(LabNode node)
    {
        var result = await Ssh.RootAsync(node, Lab.Keys, "docker ps --format '{{json .}}'");
        Assert.Equal(0, result.ExitCode);
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
    }
}
