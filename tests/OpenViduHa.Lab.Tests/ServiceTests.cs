using System.Net;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;
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
            var result = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, golden, Lab.InstallerHttpsBaseUrl)));
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
            Assert.Equal(Tcp.MasterPorts, await Tcp.ListeningAsync(Master.Address, Tcp.MasterPorts));
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
        Assert.Empty(await Tcp.ListeningAsync(Master.Address, Tcp.MasterPorts));
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
            Assert.Equal(Tcp.MediaPorts, await Tcp.ListeningAsync(Media.Address, Tcp.MediaPorts));
            Assert.False(await Tcp.ListensAsync(Media.Address, 9100));  // a master's port

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
    public async Task Listeners_OtherPorts_WriteABannerNamingNodeAndPortThenEcho()
    {
        await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu");
        try
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(Media.Address, 1935);
            using var stream = tcp.GetStream();
            using var reader = new StreamReader(stream, Encoding.ASCII);

            var banner = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));
            await stream.WriteAsync("ping 1\n"u8.ToArray());
            var echo = await reader.ReadLineAsync().WaitAsync(TimeSpan.FromSeconds(10));

            Assert.Equal($"ovha-lab {Media.Name} 1935", banner);
            Assert.Equal("ping 1", echo);
        }
        finally
        {
            await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task Http7880_Request_AnswersWithTheNodeAndEchoesForwardedHeaders()
    {
        await Ssh.RootAsync(Master, Lab.Keys, "systemctl start openvidu");
        try
        {
            using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{Master.Address}:7880/health/caddy");
            request.Headers.Host = "openvidu.example.io";
            request.Headers.Add("X-Forwarded-For", "192.0.2.7, 127.0.9.9");
            request.Headers.Add("X-Forwarded-Proto", "https");
            request.Headers.Add("X-Real-IP", "127.0.9.9");
            using var plain = new HttpRequestMessage(HttpMethod.Get, $"http://{Master.Address}:7880/");

            using var response = await _http.SendAsync(request);
            using var without = await _http.SendAsync(plain);

            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal("OK", await response.Content.ReadAsStringAsync());
            Assert.Equal(Master.Name, Header(response, "X-Lab-Node"));
            Assert.Equal("openvidu.example.io", Header(response, "X-Lab-Host"));
            Assert.Equal("192.0.2.7, 127.0.9.9", Header(response, "X-Lab-Forwarded-For"));
            Assert.Equal("https", Header(response, "X-Lab-Forwarded-Proto"));
            Assert.Equal("127.0.9.9", Header(response, "X-Lab-Real-IP"));
            Assert.False(without.Headers.Contains("X-Lab-Forwarded-Proto"));
            Assert.Equal(Master.Name, Header(without, "X-Lab-Node"));
        }
        finally
        {
            await Ssh.RootAsync(Master, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task WebSocket7880_Upgrade_SwitchesProtocolsNamesTheNodeAndEchoesMessages()
    {
        await Ssh.RootAsync(Master, Lab.Keys, "systemctl start openvidu");
        try
        {
            using var socket = new ClientWebSocket();
            socket.Options.CollectHttpResponseDetails = true;
            socket.Options.Proxy = null;
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            var large = new string('x', 70_000); // a 64-bit length frame

            await socket.ConnectAsync(new Uri($"ws://{Master.Address}:7880/rtc?access_token=t"), timeout.Token);
            var replies = new List<string>();
            foreach (var message in new[] { "hello", large })
            {
                await socket.SendAsync(Encoding.UTF8.GetBytes(message), WebSocketMessageType.Text, true, timeout.Token);
                replies.Add(await ReceiveTextAsync(socket, timeout.Token));
            }
            await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "bye", timeout.Token);

            Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
            Assert.Equal(Master.Name, socket.HttpResponseHeaders!["X-Lab-Node"].Single());
            Assert.Equal(["hello", large], replies);
            Assert.Equal(WebSocketState.Closed, socket.State);
            Assert.Equal("bye", socket.CloseStatusDescription);
        }
        finally
        {
            await Ssh.RootAsync(Master, Lab.Keys, "systemctl stop openvidu");
        }
    }

    private static string Header(HttpResponseMessage response, string name) => string.Join(", ", response.Headers.GetValues(name));

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        using var message = new MemoryStream();
        WebSocketReceiveResult result;
        do
        {
            result = await socket.ReceiveAsync(buffer, cancellationToken);
            message.Write(buffer, 0, result.Count);
        }
        while (!result.EndOfMessage);
        return Encoding.UTF8.GetString(message.ToArray());
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
    public async Task ServiceStartedAt_SetByStart_KeptByASecondStart_ChangedByRestart_NullWhenStopped_JournalRecordsEachStart()
    {
        var journal = Media.Journal;
        var first = await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu");
        try
        {
            var started = Media.ServiceStartedAt;
            var again = await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu");
            var kept = Media.ServiceStartedAt;
            var restart = await Ssh.RootAsync(Media, Lab.Keys, "systemctl restart openvidu");
            var restarted = Media.ServiceStartedAt;

            Assert.Equal(0, first.ExitCode + again.ExitCode + restart.ExitCode);
            Assert.NotNull(started);
            Assert.InRange(started.Value, DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
            Assert.Equal(started, kept);
            Assert.True(restarted > started, $"{restarted} after {started}");
            // The journal only grows: what is new since the test began is these two starts (a start of a running service is none).
            var added = Media.Journal[journal.Length..];
            Assert.Equal(2, added.Split('\n').Count(l => l.Contains("systemd[1]: Starting openvidu.service", StringComparison.Ordinal)));
        }
        finally
        {
            await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");
        }
        Assert.Null(Media.ServiceStartedAt);
    }

    [Fact]
    public async Task VerboseService_StartAndRestartPrintTheConfig_StopDoesNot_ClearFaultsEndsIt()
    {
        Media.VerboseService(true);
        try
        {
            var start = await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu");
            var restart = await Ssh.RootAsync(Media, Lab.Keys, "systemctl restart openvidu");
            var stop = await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");

            const string printed = "openvidu: REDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n";
            Assert.Equal(0, start.ExitCode);
            Assert.StartsWith("openvidu: MEDIA_NODE_PRIVATE_IP=10.5.0.11\nopenvidu: MEDIA_NODE_PUBLIC_IP=203.0.113.11\nopenvidu: MASTER_NODE_1_PRIVATE_IP=10.5.0.1\n", start.Output);
            Assert.EndsWith(printed, start.Output);
            Assert.EndsWith(printed, restart.Output);
            Assert.Equal("", stop.Output);
        }
        finally
        {
            Media.ClearFaults();
            await Ssh.RootAsync(Media, Lab.Keys, "systemctl stop openvidu");
        }
        var quiet = await Ssh.RootAsync(Media, Lab.Keys, "systemctl start openvidu; systemctl stop openvidu");
        Assert.Equal("", quiet.Output);
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

    // The status collector's two calls (see the lab README): every container, and restart counts by ID.
    private const string StatusPs = @"docker ps -a --no-trunc --format '{{.ID}}\t{{.Names}}\t{{.Image}}\t{{.State}}\t{{.Status}}'";
    private const string StatusInspect = "docker inspect --format '{{.Name}} {{.RestartCount}}'";

    [Fact]
    public async Task DockerStatusCalls_InEveryState_PrintWhatNodePyPrints()
    {
        var node = Lab.Nodes[2];
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));

        // Not installed: no containers.
        var none = await SameAsNodePyAsync(client, StatusPs);
        Assert.Equal(new SshResult(0, "", ""), none);
        var noObject = await SameAsNodePyAsync(client, StatusInspect + " caddy");
        Assert.Equal(new SshResult(1, "", "Error: No such object: caddy\n"), noObject);

        // Installed, never started: every container Created.
        var install = await client.RunAsync(InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "master-2", Lab.InstallerHttpsBaseUrl)));
        Assert.True(install.ExitCode == 0, install.Error);
        var created = Rows(await SameAsNodePyAsync(client, StatusPs));
        Assert.Equal(_masterContainers.Append("openvidu-init"), created.Select(r => r[1]));
        Assert.All(created, r => Assert.Equal(("created", "Created"), (r[3], r[4])));
        Assert.All(created, r => Assert.Matches("^[0-9a-f]{64}$", r[0]));
        Assert.Equal("docker.io/mongo:8.0.19", created.Single(r => r[1] == "mongo")[2]);
        Assert.Equal("docker.io/openvidu/openvidu-operator:3.8.0", created.Single(r => r[1] == "operator")[2]);

        try
        {
            // Running: Up, openvidu-init exited.
            Assert.Equal(0, (await client.RunAsync("systemctl start openvidu")).ExitCode);
            var running = Rows(await SameAsNodePyAsync(client, StatusPs));
            Assert.All(running.Where(r => r[1] != "openvidu-init"), r =>
            {
                Assert.Equal("running", r[3]);
                Assert.Matches(@"^Up (Less than a second|1 second|\d+ seconds)$", r[4]);
            });
            Assert.Equal("exited", running.Single(r => r[1] == "openvidu-init")[3]);
            Assert.Matches(@"^Exited \(0\) .+ ago$", running.Single(r => r[1] == "openvidu-init")[4]);
            var ids = string.Join(' ', running.Select(r => r[0]));
            var counts = await SameAsNodePyAsync(client, $"{StatusInspect} {ids}");
            Assert.Equal(0, counts.ExitCode);
            Assert.Equal(string.Concat(running.Select(r => $"/{r[1]} 0\n")), counts.Output);

            // Restarting for 11 s: its third restart, the last 1 to 3 s ago.
            node.WriteFile("/usr/local/lib/ovha-lab/restarting-container",
                $"mongo {(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() - 11_000) / 1000.0:0.000}\n");
            var restarting = Rows(await SameAsNodePyAsync(client, StatusPs)).Single(r => r[1] == "mongo");
            Assert.Equal("restarting", restarting[3]);
            Assert.Matches(@"^Restarting \(1\) (1 second|[23] seconds) ago$", restarting[4]);
            var mongo = await SameAsNodePyAsync(client, $"{StatusInspect} {restarting[0]} caddy");
            Assert.Equal("/mongo 3\n/caddy 0\n", mongo.Output);
        }
        finally
        {
            node.RestartingContainer(null);
            await client.RunAsync("systemctl stop openvidu");
        }

        // Stopped: every container exited.
        var stopped = Rows(await SameAsNodePyAsync(client, StatusPs));
        Assert.Equal(_masterContainers.Length + 1, stopped.Count);
        Assert.All(stopped, r => Assert.Equal("exited", r[3]));
        Assert.All(stopped, r => Assert.Matches(@"^Exited \(0\) (Less than a second|1 second|\d+ seconds) ago$", r[4]));
    }

    [Fact]
    public async Task DockerStatusCalls_StartNoPython_OtherCallsStillDo()
    {
        var nodePy = Path.Combine(Lab.Directory, "share", "node.py");
        await Ssh.RootAsync(Master, Lab.Keys, StatusPs);  // the service host loads node.py's code at its first docker call
        File.Move(nodePy, nodePy + ".away");
        try
        {
            var ps = await Ssh.RootAsync(Master, Lab.Keys, StatusPs);
            var inspect = await Ssh.RootAsync(Master, Lab.Keys, StatusInspect + " caddy");
            var table = await Ssh.RootAsync(Master, Lab.Keys, "docker ps");

            Assert.Equal(0, ps.ExitCode);
            Assert.Equal(_masterContainers.Length + 1, Rows(ps).Count);
            Assert.Equal(new SshResult(0, "/caddy 0\n", ""), inspect);
            Assert.Equal(2, table.ExitCode);  // python3: can't open file '.../node.py'
            Assert.Contains("node.py", table.Error);
        }
        finally
        {
            File.Move(nodePy + ".away", nodePy);
        }
    }

    [Fact]
    public async Task DockerIds_FullWithNoTrunc_ShortWithout_InspectTakesEitherAndNames()
    {
        var full = Rows(await Ssh.RootAsync(Master, Lab.Keys, StatusPs)).ToDictionary(r => r[1], r => r[0]);
        var shortIds = await Ssh.RootAsync(Master, Lab.Keys, "docker ps -a --format '{{.Names}} {{.ID}}'");
        var table = await Ssh.RootAsync(Master, Lab.Keys, "docker ps -a");
        var quiet = await Ssh.RootAsync(Master, Lab.Keys, "docker ps -a -q --no-trunc");

        Assert.All(full.Values, id => Assert.Matches("^[0-9a-f]{64}$", id));
        Assert.Equal(full.Count, full.Values.Distinct().Count());
        Assert.Equal(string.Concat(full.Select(c => $"{c.Key} {c.Value[..12]}\n")), shortIds.Output);
        Assert.StartsWith("CONTAINER ID   IMAGE", table.Output);
        Assert.Contains($"\n{full["caddy"][..12]}   docker.io/openvidu/openvidu-pro-caddy:3.8.0 ", table.Output);
        Assert.Equal(string.Concat(full.Values.Select(id => id + "\n")), quiet.Output);

        var inspect = await Ssh.RootAsync(Master, Lab.Keys,
            $"{StatusInspect} {full["caddy"]} {full["mongo"][..12]} /operator {new string('0', 64)} redis-server");

        Assert.Equal(1, inspect.ExitCode);
        Assert.Equal("/caddy 0\n/mongo 0\n/operator 0\n/redis-server 0\n", inspect.Output);
        Assert.Equal($"Error: No such object: {new string('0', 64)}\n", inspect.Error);
    }

    /// <summary>
    /// Runs a docker command as docker.sh does it and as node.py does it (the python stand-in, run directly): the two
    /// must agree. Times are in whole seconds, so a second may tick between the two: such a pair is tried again.
    /// </summary>
    private static async Task<SshResult> SameAsNodePyAsync(Renci.SshNet.SshClient client, string command)
    {
        var python = ". /usr/local/lib/ovha-lab/node.env && /usr/bin/python3 -IS \"$LAB_SHARE/node.py\" " + command;
        SshResult fast = null!, slow = null!;
        for (var attempt = 0; attempt < 5; attempt++)
        {
            fast = await client.RunAsync(command);
            slow = await client.RunAsync(python);
            if (fast == slow) return fast;
        }
        Assert.Equal(slow, fast);
        return fast;
    }

    private static List<string[]> Rows(SshResult ps)
    {
        Assert.True(ps.ExitCode == 0, ps.Error);
        var rows = ps.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.Split('\t')).ToList();
        Assert.All(rows, r => Assert.Equal(5, r.Length));
        return rows;
    }

    private async Task<List<JsonElement>> PsAsync(LabNode node)
    {
        var result = await Ssh.RootAsync(node, Lab.Keys, "docker ps --format '{{json .}}'");
        Assert.Equal(0, result.ExitCode);
        return result.Output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
    }
}
