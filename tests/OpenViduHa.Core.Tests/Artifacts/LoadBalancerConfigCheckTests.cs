using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

/// <summary>The generated load balancer configs pass the real programs' own checks (Debian's NGINX 1.22 and HAProxy 2.6).</summary>
public sealed class LoadBalancerConfigCheckTests
{
    public static TheoryData<string> Cases() => ["v3.0.0-full", "v3.0.0-no-turn", "v3.0.0-minimal", "v3.8.0-full", "v3.8.0-no-turn", "v3.8.0-minimal"];

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task NginxTest_GeneratedConf_IsValid(string caseName)
    {
        // Arrange
        var nginx = RequiredTools.Nginx;
        var generated = ArtifactCatalog.Generate(GoldenCases.Cluster(caseName), NginxArtifact.Name).Content;
        using var dir = new TempDirectory();
        var prefix = LoadBalancerFiles.NginxPrefix(dir);
        var conf = dir.Write("nginx.conf", LoadBalancerFiles.Nginx(generated, TestCertificates.Shared));

        // Act
        var result = await ProcessRunner.RunAsync(nginx, LoadBalancerFiles.NginxArguments(conf, prefix, testOnly: true));

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("test is successful", result.Output);
        Assert.DoesNotContain("[warn]", result.Output);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public async Task HaproxyCheck_GeneratedCfg_IsValidWithoutWarnings(string caseName)
    {
        // Arrange
        var haproxy = RequiredTools.Haproxy;
        var generated = ArtifactCatalog.Generate(GoldenCases.Cluster(caseName), HaproxyArtifact.Name).Content;
        using var dir = new TempDirectory();
        var cfg = dir.Write("haproxy.cfg", LoadBalancerFiles.Haproxy(generated, TestCertificates.Shared));

        // Act
        var result = await ProcessRunner.RunAsync(haproxy, ["-c", "-f", cfg]);

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains("Configuration file is valid", result.Output);
        Assert.DoesNotContain("[WARNING]", result.Output);
        Assert.DoesNotContain("[ALERT]", result.Output);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Nginx_RtmpOption_AddsRtmpUpstreamAndListenerOnlyWhenOn(string version)
    {
        // Arrange
        var on = TestClusters.Full(version);
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, NginxArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, NginxArtifact.Name).Content;

        // Assert
        Assert.Contains("upstream openvidu_media_nodes_rtmp {\n        server 10.5.0.11:1935;", withRtmp);
        Assert.Contains("listen 1935 ssl;", withRtmp);
        Assert.DoesNotContain("1935", withoutRtmp);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Nginx_TurnDomain_RoutesBySniOnlyWithTurnDomain(string version)
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full(version), NginxArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn(version), NginxArtifact.Name).Content;

        // Assert
        Assert.Contains("map $ssl_server_name $targetBackend {\n        openvidu.example.io openvidu_master_nodes;\n        turn.example.io turn_tls;", withTurn);
        Assert.Contains("turn.example.io /etc/nginx/ssl/turn-cert.pem;", withTurn);
        Assert.Contains("turn.example.io /etc/nginx/ssl/turn-key.pem;", withTurn);
        Assert.Contains("upstream turn_tls {\n        server 10.5.0.11:5349;  # media-1\n        server 10.5.0.12:5349;  # media-2\n    }", withTurn);
        Assert.DoesNotContain(Directives(withoutTurn), line => line.Contains("turn", StringComparison.OrdinalIgnoreCase));
        Assert.DoesNotContain(Directives(withoutTurn), line => line.Contains("5349", StringComparison.Ordinal));
        Assert.DoesNotContain("$ssl_server_name", withoutTurn);
        Assert.Contains("ssl_certificate     /etc/nginx/ssl/openvidu-cert.pem;", withoutTurn);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Haproxy_RtmpOption_AddsRtmpFrontendOnlyWhenOn(string version)
    {
        // Arrange
        var on = TestClusters.Full(version);
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, HaproxyArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("bind :1935 ssl crt /etc/haproxy/certs/openvidu.pem", withRtmp);
        Assert.Contains("server media-2 10.5.0.12:1935 check", withRtmp);
        Assert.DoesNotContain("1935", withoutRtmp);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Haproxy_TurnDomain_AddsSniRouteAndCertificateOnlyWithTurnDomain(string version)
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full(version), HaproxyArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn(version), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem crt /etc/haproxy/certs/turn.pem\n", withTurn);
        Assert.Contains("use_backend turn_tls if { ssl_fc_sni -i turn.example.io }", withTurn);
        Assert.Contains("server media-1 10.5.0.11:5349 check", withTurn);
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem\n", withoutTurn);
        Assert.DoesNotContain(Directives(withoutTurn), line => line.Contains("turn", StringComparison.OrdinalIgnoreCase));
    }

    [Fact]
    public void Haproxy_Masters_CheckedOnHealthCaddyWithAwsTemplateTiming()
    {
        // Act
        var cfg = ArtifactCatalog.Generate(TestClusters.Full("3.8.0"), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains(
            "backend openvidu_master_nodes\n    balance roundrobin\n    option httpchk GET /health/caddy\n    http-check expect status 200\n" +
            "    default-server inter 10s fall 4 rise 3\n" +
            "    server master-1 10.5.0.1:7880 check\n    server master-2 10.5.0.2:7880 check\n" +
            "    server master-3 10.5.0.3:7880 check\n    server master-4 10.5.0.4:7880 check\n", cfg);
    }

    /// <summary>The lines that are not comments.</summary>
    private static IEnumerable<string> Directives(string config) => config.Split('\n').Where(line => !line.TrimStart().StartsWith('#'));
}
