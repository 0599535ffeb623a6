using System.Net;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

/// <summary>
/// The generated nginx.conf run by the real NGINX in front of four stand-in masters on 127.0.1.1-4:7880 (and stand-in
/// TURN servers on the media addresses): only the certificate paths and the listen addresses and ports are changed.
/// </summary>
public sealed class LiveNginxTests : IDisposable
{
    private static readonly string[] _masterIps = ["127.0.1.1", "127.0.1.2", "127.0.1.3", "127.0.1.4"];
    private static readonly string[] _mediaIps = ["127.0.1.11", "127.0.1.12"];

    private readonly List<HttpBackend> _backends = [];
    private LiveLoadBalancer? _nginx;

    [Theory]
    [InlineData("3.0.0", false)]
    [InlineData("3.8.0", true)]
    public async Task Nginx_GeneratedConf_SpreadsRequestsOverAllFourMasters(string version, bool turnDomain)
    {
        // Arrange
        var certificates = TestCertificates.Shared;
        var masters = _masterIps.Select(ip => Start(ip, 7880)).ToList();
        var turnServers = _mediaIps.Select(ip => Start(ip, 5349)).ToList();
        var cluster = TestClusters.OnLoopback(version, _masterIps, _mediaIps);
        if (!turnDomain) cluster = cluster with { TurnDomainName = null };
        var generated = ArtifactCatalog.Generate(cluster, NginxArtifact.Name).Content;
        _nginx = await LiveLoadBalancer.StartAsync(LoadBalancerKind.Nginx, generated, certificates);
        using var client = new LoadBalancerClient(_nginx.Listen.Https, certificates.OpenViduThumbprint);

        // Act
        var responses = new List<(HttpStatusCode Status, string Body)>();
        for (var i = 0; i < 40; i++) responses.Add(await client.GetAsync(TestClusters.Domain));

        // Assert
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.All(masters, m => Assert.True(m.Requests > 0, $"{m.Address} got no request. {Diagnostics()}"));
        Assert.All(responses, r => Assert.Contains(r.Body, _masterIps));
        Assert.Equal(40, masters.Sum(m => m.Requests));
        Assert.All(turnServers, t => Assert.Equal(0, t.Requests));
        AssertNoErrorLogged();
    }

    [Fact]
    public async Task Nginx_TurnDomainSni_ReachesMediaNodesWithTurnCertificate()
    {
        // Arrange
        var certificates = TestCertificates.Shared;
        var masters = _masterIps.Select(ip => Start(ip, 7880)).ToList();
        var turnServers = _mediaIps.Select(ip => Start(ip, 5349)).ToList();
        var cluster = TestClusters.OnLoopback("3.0.0", _masterIps, _mediaIps);
        var generated = ArtifactCatalog.Generate(cluster, NginxArtifact.Name).Content;
        _nginx = await LiveLoadBalancer.StartAsync(LoadBalancerKind.Nginx, generated, certificates);
        using var turnClient = new LoadBalancerClient(_nginx.Listen.Https, certificates.TurnThumbprint);

        // Act
        var responses = new List<(HttpStatusCode Status, string Body)>();
        for (var i = 0; i < 4; i++) responses.Add(await turnClient.GetAsync(TestClusters.TurnDomain));

        // Assert: the TURN name got the TURN certificate (the client trusts no other) and a media node answered.
        Assert.All(responses, r => Assert.Equal(HttpStatusCode.OK, r.Status));
        Assert.All(responses, r => Assert.Contains(r.Body, _mediaIps));
        Assert.All(turnServers, t => Assert.True(t.Requests > 0, $"{t.Address} got no request. {Diagnostics()}"));
        Assert.Equal(0, masters.Sum(m => m.Requests));
        AssertNoErrorLogged();
    }

    public void Dispose()
    {
        _nginx?.Dispose();
        foreach (var backend in _backends) backend.Dispose();
    }

    private HttpBackend Start(string address, int port)
    {
        var backend = HttpBackend.Start(address, port);
        _backends.Add(backend);
        return backend;
    }

    /// <summary>NGINX logs failures it survives (a refused setrlimit, a lost upstream) at alert, crit, error or emerg.</summary>
    private void AssertNoErrorLogged() => Assert.DoesNotMatch(@"\[(emerg|alert|crit|error)\]", _nginx!.ErrorLog);

    private string Diagnostics() => _nginx?.Output ?? "(not started)";
}
