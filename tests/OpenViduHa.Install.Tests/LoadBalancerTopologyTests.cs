using System.Net;
using System.Net.Http.Json;
using System.Net.WebSockets;
using System.Text;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// One lab cluster of 4 masters and 2 media nodes, installed and started through the panel's API (OpenVidu 3.8.0, TURN
/// domain, RTMP on), and the panel's load balancer configs for it: the 3.8.0 cluster's, and a 3.0.0 cluster's stored
/// for the same nodes (not installed: the listeners a 3.0 load balancer reaches, the media nodes' 1935 and 5349, are
/// the same lab services). The configs are downloaded as an operator would.
/// </summary>
public sealed class LoadBalancerLab : IAsyncLifetime
{
    public LabPanel Lp { get; private set; } = null!;

    public IReadOnlyList<LabNode> Masters => Lp.Lab.Nodes.Take(4).ToList();

    public IReadOnlyList<LabNode> Media => Lp.Lab.Nodes.Skip(4).Take(2).ToList();

    private readonly Dictionary<(LoadBalancerKind, string), string> _configs = [];

    public async Task InitializeAsync()
    {
        Lp = await LabPanel.StartAsync(6, logLevel: "Warning", settings: new Dictionary<string, string?> { ["Status:Enabled"] = "false" });
        var current = await Lp.CreateAsync(Spec("lb-current", "3.8.0"));
        var install = await Lp.RunJobAsync(current, "install");
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
        var v30 = await Lp.CreateAsync(Spec("lb-v30", "3.0.0"));
        foreach (var (version, id) in new[] { ("3.8.0", current), ("3.0.0", v30) })
        {
            _configs[(LoadBalancerKind.Nginx, version)] = await Lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");
            _configs[(LoadBalancerKind.Haproxy, version)] = await Lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/haproxy.cfg");
        }
    }

    public async Task DisposeAsync() => await Lp.DisposeAsync();

    /// <summary>The lab's cluster (TURN domain turn.example.io, RTMP on) as version <paramref name="version"/>.</summary>
    public ClusterSpec Spec(string name, string version)
    {
        var spec = Lp.Spec(name, version, Masters, Media);
        spec.Options = new ClusterOptionsSpec { Rtmp = true, WebrtcOverTcp = true };
        return spec;
    }

    public string Config(LoadBalancerKind kind, string version) => _configs[(kind, version)];

    /// <summary>Starts the load balancer on the config of that generation (HAProxy with fast checks when asked).</summary>
    internal Task<LiveLoadBalancer> StartAsync(LoadBalancerKind kind, string version, string? fastChecks = null) =>
        LiveLoadBalancer.StartAsync(kind, Config(kind, version), TestCertificates.Shared, fastChecks: kind == LoadBalancerKind.Haproxy ? fastChecks : null);
}

/// <summary>
/// The generated load balancer configs run by Debian's NGINX and HAProxy in front of the lab's nodes, checking where
/// each kind of traffic lands: 3.4+ everything on the masters (API as HTTP with forwarded headers, TURN on 5349, RTMPS
/// on 1945), 3.0.x RTMP and TURN on the media nodes. The lab's listeners name themselves: TCP ports with a banner
/// (<c>ovha-lab &lt;node&gt; &lt;port&gt;</c>) and an echo, 7880 with <c>X-Lab-*</c> headers. Changed in the configs for the
/// test: certificate paths, listen addresses and ports (all on loopback), and for the failover test HAProxy's check timing.
/// </summary>
public sealed class LoadBalancerTopologyTests(LoadBalancerLab lab) : IClassFixture<LoadBalancerLab>
{
    /// <summary>The client connects from here: not the load balancer's own address, so a forwarded address is the client's.</summary>
    private const string ClientAddress = "127.0.5.7";

    private const string FastChecks = "inter 200ms fall 2 rise 1";

    private static readonly string Domain = TestCertificates.Domain;
    private static readonly string TurnDomain = TestCertificates.TurnDomain;

    public static TheoryData<LoadBalancerKind, string> BothGenerations() => new()
    {
        { LoadBalancerKind.Nginx, "3.8.0" },
        { LoadBalancerKind.Haproxy, "3.8.0" },
        { LoadBalancerKind.Nginx, "3.0.0" },
        { LoadBalancerKind.Haproxy, "3.0.0" },
    };

    public static TheoryData<LoadBalancerKind> BothLoadBalancers() => [LoadBalancerKind.Nginx, LoadBalancerKind.Haproxy];

    [Theory]
    [MemberData(nameof(BothGenerations))]
    public async Task TurnOverTls_TurnDomainSni_ReachesEveryTargetOfTheGeneration(LoadBalancerKind kind, string version)
    {
        // Arrange: 3.4+ sends TURN to the masters' 5349, 3.0.x to the media nodes' 5349.
        var targets = Current(version) ? lab.Masters : lab.Media;
        using var lb = await lab.StartAsync(kind, version);

        // Act
        var banners = await TcpThroughAsync(lb, lb.Listen.Https, TurnDomain, TestCertificates.Shared.TurnThumbprint, 8);

        // Assert
        Assert.All(banners, b => Assert.Contains(b, targets.Select(n => $"ovha-lab {n.Name} 5349")));
        Assert.Equal(targets.Select(n => n.Name).Order(), banners.Select(NodeName).Distinct().Order());
    }

    [Theory]
    [MemberData(nameof(BothGenerations))]
    public async Task Rtmps_ThroughThePort1935_ReachesEveryTargetOfTheGeneration(LoadBalancerKind kind, string version)
    {
        // Arrange: 3.4+ sends RTMP to the masters' 1945, 3.0.x to the media nodes' 1935.
        var (targets, port) = Current(version) ? (lab.Masters, 1945) : (lab.Media, 1935);
        using var lb = await lab.StartAsync(kind, version);

        // Act
        var banners = await TcpThroughAsync(lb, lb.Listen.Rtmp!.Value, Domain, TestCertificates.Shared.OpenViduThumbprint, 8);

        // Assert
        Assert.All(banners, b => Assert.Contains(b, targets.Select(n => $"ovha-lab {n.Name} {port}")));
        Assert.Equal(targets.Select(n => n.Name).Order(), banners.Select(NodeName).Distinct().Order());
    }

    [Theory]
    [MemberData(nameof(BothGenerations))]
    public async Task ApiDomain_HttpsRequests_ReachEveryMasterAndOnlyCurrentForwardsClientAndProto(LoadBalancerKind kind, string version)
    {
        // Arrange
        using var lb = await lab.StartAsync(kind, version);
        using var client = new LoadBalancerClient(lb.Listen.Https, TestCertificates.Shared.OpenViduThumbprint, sourceAddress: ClientAddress);

        // Act
        var answers = new List<Dictionary<string, string>>();
        for (var i = 0; i < 12; i++)
        {
            using var response = await client.SendAsync(Domain, "/");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"{(int)response.StatusCode} {await response.Content.ReadAsStringAsync()}\n{lb.Output}");
            answers.Add(LabHeaders(response.Headers));
        }

        // Assert: every master answered. 3.4+: as HTTP with the forwarded headers; 3.0.x: TLS ended, bytes passed as they came.
        Assert.Equal(lab.Masters.Select(n => n.Name).Order(), answers.Select(a => a["X-Lab-Node"]).Distinct().Order());
        Assert.All(answers, a => Assert.Equal(Domain, a["X-Lab-Host"]));
        if (Current(version))
        {
            Assert.All(answers, a => Assert.Equal("https", a["X-Lab-Forwarded-Proto"]));
            Assert.All(answers, a => Assert.Equal(ClientAddress, a["X-Lab-Forwarded-For"]));
            Assert.All(answers, a => Assert.Equal(ClientAddress, a["X-Lab-Real-IP"]));
        }
        else
        {
            Assert.All(answers, a => Assert.False(a.ContainsKey("X-Lab-Forwarded-Proto") || a.ContainsKey("X-Lab-Forwarded-For")));
        }
    }

    [Theory]
    [MemberData(nameof(BothLoadBalancers))]
    public async Task ApiDomain_WebSocketUpgrade_SwitchesProtocolsOnAMasterAndEchoes(LoadBalancerKind kind)
    {
        // Arrange
        using var lb = await lab.StartAsync(kind, "3.8.0");
        using var client = new LoadBalancerClient(lb.Listen.Https, TestCertificates.Shared.OpenViduThumbprint, sourceAddress: ClientAddress);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));

        // Act: LiveKit's signalling path.
        using var socket = await client.ConnectWebSocketAsync(Domain, "/rtc?access_token=test");
        await socket.SendAsync("join room-1"u8.ToArray(), WebSocketMessageType.Text, endOfMessage: true, timeout.Token);
        var echo = await ReceiveTextAsync(socket, timeout.Token);
        await socket.CloseAsync(WebSocketCloseStatus.NormalClosure, "done", timeout.Token);

        // Assert
        var headers = LabHeaders(socket.HttpResponseHeaders!);
        Assert.Equal(HttpStatusCode.SwitchingProtocols, socket.HttpStatusCode);
        Assert.Contains(headers["X-Lab-Node"], lab.Masters.Select(n => n.Name));
        Assert.Equal("https", headers["X-Lab-Forwarded-Proto"]);
        Assert.Equal(ClientAddress, headers["X-Lab-Forwarded-For"]);
        Assert.Equal(Domain, headers["X-Lab-Host"]);
        Assert.Equal("join room-1", echo);
        Assert.Equal(WebSocketState.Closed, socket.State);
    }

    [Theory]
    [MemberData(nameof(BothLoadBalancers))]
    public async Task Port80_AnyRequest_RedirectsToTheSameUrlOverHttps(LoadBalancerKind kind)
    {
        // Arrange
        using var lb = await lab.StartAsync(kind, "3.8.0");

        // Act
        using var response = await LoadBalancerClient.GetPlainAsync(lb.Listen.Address, lb.Listen.Http!.Value, Domain, "/dashboard/?tab=rooms");

        // Assert
        Assert.Equal(HttpStatusCode.MovedPermanently, response.StatusCode);
        Assert.Equal($"https://{Domain}/dashboard/?tab=rooms", response.Headers.Location?.ToString());
    }

    [Theory]
    [MemberData(nameof(BothLoadBalancers))]
    public async Task OneMasterStopped_ApiTurnAndRtmps_AnsweredByTheOtherThree(LoadBalancerKind kind)
    {
        // Arrange: the load balancer first sees all four masters up.
        var stopped = lab.Masters[0];
        var others = lab.Masters.Skip(1).Select(n => n.Name).ToList();
        using var lb = await lab.StartAsync(kind, "3.8.0", FastChecks);
        using var client = new LoadBalancerClient(lb.Listen.Https, TestCertificates.Shared.OpenViduThumbprint);
        Assert.Contains(stopped.Name, (await ApiNodesAsync(client, lb, 8)).Distinct());
        var stop = await stopped.RunAsRootAsync("systemctl stop openvidu");
        Assert.True(stop.ExitCode == 0, stop.Error);
        try
        {
            // HAProxy leaves a master by its health checks: wait until every backend has taken master-1 out. NGINX has no
            // active checks: it tries the next master when one refuses (proxy_next_upstream).
            if (kind == LoadBalancerKind.Haproxy)
            {
                foreach (var backend in new[] { "openvidu_master_nodes", "openvidu_master_nodes_turn", "openvidu_master_nodes_rtmp" })
                    await WaitForAsync(() => lb.Output.Contains($"Server {backend}/master-1 is DOWN", StringComparison.Ordinal), lb);
            }

            // Act
            var api = await ApiNodesAsync(client, lb, 12);
            var turn = await TcpThroughAsync(lb, lb.Listen.Https, TurnDomain, TestCertificates.Shared.TurnThumbprint, 6);
            var rtmp = await TcpThroughAsync(lb, lb.Listen.Rtmp!.Value, Domain, TestCertificates.Shared.OpenViduThumbprint, 6);

            // Assert: every request and connection answered, none by the stopped master.
            Assert.All(api, node => Assert.Contains(node, others));
            Assert.All(turn.Select(NodeName), node => Assert.Contains(node, others));
            Assert.All(rtmp.Select(NodeName), node => Assert.Contains(node, others));
            Assert.True(api.Distinct().Count() >= 2, $"Only {string.Join(", ", api.Distinct())} answered.");
        }
        finally
        {
            var start = await stopped.RunAsRootAsync("systemctl start openvidu");
            Assert.True(start.ExitCode == 0, start.Error);
        }
    }

    [Theory]
    [InlineData("3.8.0", false)]
    [InlineData("3.0.0", true)]
    public async Task AddMediaNode_ThroughTheApi_LoadBalancerConfigsChangeOnlyFor30(string version, bool changes)
    {
        // Arrange: a cluster of the lab's nodes (stored, not installed) and a third media node's address.
        var id = await lab.Lp.CreateAsync(lab.Spec($"grow-{version.Replace('.', '-')}", version));
        const string newNode = "127.0.5.21";
        var before = await ConfigsAsync(id);

        // Act
        var added = await lab.Lp.Api.PostAsJsonAsync($"/api/clusters/{id}/nodes", new NodeSpec
        {
            Role = "media",
            PrivateIp = newNode,
            Ssh = new SshSpec { Host = newNode, Username = "root", PrivateKey = lab.Lp.Lab.Keys.Ed25519.PrivateKey },
        }, LabPanel.Json);
        var after = await ConfigsAsync(id);

        // Assert
        Assert.True(added.StatusCode == HttpStatusCode.Created, await added.Content.ReadAsStringAsync());
        foreach (var artifact in new[] { "nginx.conf", "haproxy.cfg" })
        {
            if (changes)
            {
                Assert.NotEqual(before[artifact], after[artifact]);
                Assert.Contains($"{newNode}:1935", after[artifact]);
                Assert.Contains($"{newNode}:5349", after[artifact]);
            }
            else
            {
                Assert.Equal(before[artifact], after[artifact]);
                Assert.DoesNotContain(newNode, after[artifact]);
            }
        }
    }

    private static bool Current(string version) =>
        OpenViduVersion.TryParse(version, out var parsed) && parsed.Generation == InstallerGeneration.Current;

    /// <summary>The node a banner names: <c>ovha-lab &lt;node&gt; &lt;port&gt;</c>.</summary>
    private static string NodeName(string banner) => banner.Split(' ')[1];

    /// <summary>
    /// Opens <paramref name="count"/> TLS connections through the load balancer with <paramref name="serverName"/> as SNI;
    /// from each, the banner of the node it reached, after a line sent through it has come back.
    /// </summary>
    private static async Task<List<string>> TcpThroughAsync(LiveLoadBalancer lb, int port, string serverName, string thumbprint, int count)
    {
        var banners = new List<string>();
        for (var i = 0; i < count; i++)
        {
            await using var tls = await LoadBalancerClient.OpenTlsAsync(lb.Listen.Address, port, serverName, thumbprint, ClientAddress);
            var banner = await LoadBalancerClient.ReadLineAsync(tls);
            Assert.True(banner is not null, $"Connection {i + 1} to {serverName} on {port} closed without a banner.\n{lb.Output}");
            await tls.WriteAsync(Encoding.ASCII.GetBytes($"through {i}\n"));
            Assert.Equal($"through {i}", await LoadBalancerClient.ReadLineAsync(tls));
            banners.Add(banner);
        }
        return banners;
    }

    /// <summary>Sends <paramref name="count"/> API requests (each must answer 200) and returns the masters that answered.</summary>
    private static async Task<List<string>> ApiNodesAsync(LoadBalancerClient client, LiveLoadBalancer lb, int count)
    {
        var nodes = new List<string>();
        for (var i = 0; i < count; i++)
        {
            using var response = await client.SendAsync(Domain, "/health/caddy");
            Assert.True(response.StatusCode == HttpStatusCode.OK, $"Request {i + 1}: {(int)response.StatusCode}\n{lb.Output}");
            nodes.Add(LabHeaders(response.Headers)["X-Lab-Node"]);
        }
        return nodes;
    }

    private static Dictionary<string, string> LabHeaders(IEnumerable<KeyValuePair<string, IEnumerable<string>>> headers) =>
        headers.Where(h => h.Key.StartsWith("X-Lab-", StringComparison.OrdinalIgnoreCase))
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);

    private async Task<Dictionary<string, string>> ConfigsAsync(int clusterId) => new()
    {
        ["nginx.conf"] = await lab.Lp.Api.GetStringAsync($"/api/clusters/{clusterId}/artifacts/nginx.conf"),
        ["haproxy.cfg"] = await lab.Lp.Api.GetStringAsync($"/api/clusters/{clusterId}/artifacts/haproxy.cfg"),
    };

    private static async Task<string> ReceiveTextAsync(ClientWebSocket socket, CancellationToken cancellationToken)
    {
        var buffer = new byte[4096];
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

    /// <summary>Waits for a condition the load balancer's log will show; fails with that log if it never does.</summary>
    private static async Task WaitForAsync(Func<bool> condition, LiveLoadBalancer lb)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"Not seen in the load balancer's log within 20 s.\n{lb.Output}");
            await Task.Delay(100);
        }
    }
}
