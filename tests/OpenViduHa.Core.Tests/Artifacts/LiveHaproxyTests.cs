using System.Net;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

/// <summary>
/// The generated haproxy.cfg run by the real HAProxy in front of four stand-in masters on 127.0.2.1-4:7880 whose
/// <c>/health/caddy</c> can be switched to 503. Changed for the test: certificate paths, bind addresses, and the check
/// timing numbers (10 s / 4 / 3 would make the test take a minute).
/// </summary>
public sealed class LiveHaproxyTests : IDisposable
{
    private const string FastChecks = "inter 200ms fall 2 rise 1";
    private static readonly string[] _masterIps = ["127.0.2.1", "127.0.2.2", "127.0.2.3", "127.0.2.4"];
    private static readonly string[] _mediaIps = ["127.0.2.11", "127.0.2.12"];

    private readonly List<HttpBackend> _backends = [];
    private LiveLoadBalancer? _haproxy;

    [Fact]
    public async Task Haproxy_MasterFailsHealthCheck_GetsNoMoreTrafficWhileTheOtherThreeServe()
    {
        // Arrange
        var port = await StartAsync("3.8.0");
        var masters = _backends.Take(4).ToList();
        var failing = masters[2];
        using var client = new LoadBalancerClient(port, TestCertificates.Shared.OpenViduThumbprint);
        var before = await SendAsync(client, TestClusters.Domain, 8);
        Assert.All(masters, m => Assert.True(before[m] > 0, $"{m.Address} was not in rotation to begin with. {_haproxy!.Output}"));

        // Act
        failing.Healthy = false;
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(10);
        while ((await SendAsync(client, TestClusters.Domain, 8))[failing] > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, $"HAProxy kept sending traffic to {failing.Address} for 10 s. {_haproxy!.Output}");
            await Task.Delay(200);
        }
        var after = await SendAsync(client, TestClusters.Domain, 30);

        // Assert
        Assert.Equal(0, after[failing]);
        Assert.All(masters.Where(m => m != failing), m => Assert.True(after[m] > 0, $"{m.Address} got none of 30 requests."));
        Assert.Equal(30, after.Values.Sum());
        Assert.True(failing.HealthChecks > 0, "The failing master never saw a /health/caddy check.");
    }

    [Fact]
    public async Task Haproxy_TurnDomainSni_ReachesMediaNodesWithTurnCertificate()
    {
        // Arrange
        var port = await StartAsync("3.0.0");
        var masters = _backends.Take(4).ToList();
        var turnServers = _backends.Skip(4).ToList();
        using var turnClient = new LoadBalancerClient(port, TestCertificates.Shared.TurnThumbprint);

        // Act
        var counts = await SendAsync(turnClient, TestClusters.TurnDomain, 4);

        // Assert
        Assert.All(turnServers, t => Assert.True(counts[t] > 0, $"{t.Address} got no TURN request. {_haproxy!.Output}"));
        Assert.Equal(0, masters.Sum(m => counts[m]));
    }

    public void Dispose()
    {
        _haproxy?.Dispose();
        foreach (var backend in _backends) backend.Dispose();
    }

    /// <summary>Starts the stand-in nodes and HAProxy with the generated config; returns the HTTPS port.</summary>
    private async Task<int> StartAsync(string version)
    {
        _backends.AddRange(_masterIps.Select(ip => HttpBackend.Start(ip, 7880)));
        _backends.AddRange(_mediaIps.Select(ip => HttpBackend.Start(ip, 5349)));
        var cluster = TestClusters.OnLoopback(version, _masterIps, _mediaIps);
        var generated = ArtifactCatalog.Generate(cluster, HaproxyArtifact.Name).Content;
        _haproxy = await LiveLoadBalancer.StartAsync(LoadBalancerKind.Haproxy, generated, TestCertificates.Shared, fastChecks: FastChecks);
        return _haproxy.Listen.Https;
    }

    /// <summary>Sends <paramref name="count"/> requests (each must answer 200) and returns how many each backend got.</summary>
    private async Task<Dictionary<HttpBackend, int>> SendAsync(LoadBalancerClient client, string host, int count)
    {
        var start = _backends.ToDictionary(b => b, b => b.Requests);
        for (var i = 0; i < count; i++)
        {
            var (status, body) = await client.GetAsync(host);
            Assert.True(status == HttpStatusCode.OK, $"Request {i + 1} to {host} answered {(int)status}: {body}");
        }
        return _backends.ToDictionary(b => b, b => b.Requests - start[b]);
    }
}
