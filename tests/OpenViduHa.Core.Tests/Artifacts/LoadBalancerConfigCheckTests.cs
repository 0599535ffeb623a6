using System.Text.RegularExpressions;
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

    [Fact]
    public void Nginx_V30RtmpOption_AddsMediaNodesRtmpUpstreamAndListenerOnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.0.0");
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, NginxArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, NginxArtifact.Name).Content;

        // Assert
        Assert.Contains("upstream openvidu_media_nodes_rtmp {\n        server 10.5.0.11:1935;", withRtmp);
        Assert.Contains("listen 1935 ssl;", withRtmp);
        Assert.DoesNotContain("1935", withoutRtmp);
    }

    [Fact]
    public void Nginx_V30TurnDomain_RoutesBySniToMediaNodesOnlyWithTurnDomain()
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full("3.0.0"), NginxArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn("3.0.0"), NginxArtifact.Name).Content;

        // Assert
        Assert.Contains("map $ssl_server_name $targetBackend {\n        openvidu.example.io openvidu_master_nodes;\n        turn.example.io turn_tls;", withTurn);
        Assert.Contains("turn.example.io /etc/nginx/ssl/turn-cert.pem;", withTurn);
        Assert.Contains("turn.example.io /etc/nginx/ssl/turn-key.pem;", withTurn);
        Assert.Contains("upstream turn_tls {\n        server 10.5.0.11:5349;  # media-1\n        server 10.5.0.12:5349;  # media-2\n    }", withTurn);
        Assert.DoesNotContain(Directives(withoutTurn), MentionsTurn);
        Assert.DoesNotContain(Directives(withoutTurn), line => line.Contains("5349", StringComparison.Ordinal));
        Assert.DoesNotContain("$ssl_server_name", withoutTurn);
        Assert.Contains("ssl_certificate     /etc/nginx/ssl/openvidu-cert.pem;", withoutTurn);
    }

    [Fact]
    public void Nginx_CurrentRtmpOption_RtmpsToTheMasters1945OnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.8.0");
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, NginxArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, NginxArtifact.Name).Content;

        // Assert
        Assert.Contains(
            "upstream openvidu_master_nodes_rtmp {\n        server 10.5.0.1:1945;  # master-1\n        server 10.5.0.2:1945;  # master-2\n" +
            "        server 10.5.0.3:1945;  # master-3\n        server 10.5.0.4:1945;  # master-4\n    }", withRtmp);
        Assert.Contains("        listen 1935 ssl;\n        ssl_protocols       TLSv1.2 TLSv1.3;\n" +
                        "        ssl_certificate     /etc/nginx/ssl/openvidu-cert.pem;\n", withRtmp);
        Assert.Contains("        proxy_pass openvidu_master_nodes_rtmp;\n", withRtmp);
        Assert.DoesNotContain(Directives(withoutRtmp), line => line.Contains("1935", StringComparison.Ordinal) || line.Contains("1945", StringComparison.Ordinal));
    }

    [Fact]
    public void Nginx_CurrentTurnDomain_SniSendsTurnThroughTheRelayToTheMasters5349()
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full("3.8.0"), NginxArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn("3.8.0"), NginxArtifact.Name).Content;

        // Assert
        Assert.Contains("map $ssl_server_name $upstream {\n        openvidu.example.io openvidu_api;\n        turn.example.io turn_relay;\n" +
                        "        default openvidu_api;\n    }", withTurn);
        Assert.Contains("map $ssl_server_name $certificate {\n        openvidu.example.io /etc/nginx/ssl/openvidu-cert.pem;\n" +
                        "        turn.example.io /etc/nginx/ssl/turn-cert.pem;", withTurn);
        Assert.Contains("upstream turn_relay {\n        server 127.0.0.1:5349;\n    }", withTurn);
        Assert.Contains("        listen 127.0.0.1:5349 proxy_protocol;\n\n        proxy_connect_timeout 10s;\n        proxy_timeout 30s;\n\n" +
                        "        proxy_pass openvidu_master_nodes_turn;\n", withTurn);
        Assert.Contains("upstream openvidu_master_nodes_turn {\n        server 10.5.0.1:5349;  # master-1\n", withTurn);
        Assert.DoesNotContain(Directives(withoutTurn), MentionsTurn);
        Assert.DoesNotContain(Directives(withoutTurn), line => line.Contains("5349", StringComparison.Ordinal));
        Assert.DoesNotContain("$ssl_server_name", withoutTurn);
        Assert.Contains("        ssl_certificate     /etc/nginx/ssl/openvidu-cert.pem;\n        ssl_certificate_key /etc/nginx/ssl/openvidu-key.pem;\n\n" +
                        "        proxy_connect_timeout 10s;\n        proxy_timeout 30s;\n        # The client's address, for the http block (and the TURN relay): see the top of the file.\n" +
                        "        proxy_protocol on;\n\n        proxy_pass openvidu_api;\n", withoutTurn);
    }

    [Fact]
    public void Nginx_CurrentApiDomain_ProxiedAsHttpToTheMastersWithUpgradeAndForwardedHeaders()
    {
        // Act
        var conf = ArtifactCatalog.Generate(TestClusters.Minimal("3.8.0"), NginxArtifact.Name).Content;

        // Assert: the stream block hands the API to the local http block, with the client's address in a PROXY header.
        Assert.Contains("upstream openvidu_api {\n        server 127.0.0.1:7880;\n    }", conf);
        Assert.Contains("        proxy_protocol on;\n", conf);
        Assert.Contains(
            "    upstream openvidu_master_nodes {\n        server 10.5.0.1:7880;  # master-1\n        server 10.5.0.2:7880;  # master-2\n" +
            "        server 10.5.0.3:7880;  # master-3\n        server 10.5.0.4:7880;  # master-4\n    }\n", conf);
        Assert.Contains("    map $http_upgrade $connection_upgrade {\n        default upgrade;\n        '' close;\n    }\n", conf);
        Assert.Contains("        listen 127.0.0.1:7880 proxy_protocol;\n", conf);
        Assert.Contains("        set_real_ip_from 127.0.0.1;\n        real_ip_header proxy_protocol;\n", conf);
        Assert.Contains(
            "        location / {\n            proxy_pass http://openvidu_master_nodes;\n            proxy_http_version 1.1;\n" +
            "            proxy_set_header Upgrade $http_upgrade;\n            proxy_set_header Connection $connection_upgrade;\n" +
            "            proxy_set_header Host $host;\n            proxy_set_header X-Real-IP $remote_addr;\n" +
            "            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;\n            proxy_set_header X-Forwarded-Proto https;\n", conf);
        Assert.Contains("    server {\n        listen 80;\n        return 301 https://$host$request_uri;\n    }\n", conf);
    }

    [Fact]
    public void Haproxy_V30RtmpOption_AddsMediaNodesRtmpFrontendOnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.0.0");
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, HaproxyArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("bind :1935 ssl crt /etc/haproxy/certs/openvidu.pem", withRtmp);
        Assert.Contains("server media-2 10.5.0.12:1935 check", withRtmp);
        Assert.DoesNotContain("1935", withoutRtmp);
    }

    [Fact]
    public void Haproxy_V30TurnDomain_AddsSniRouteToMediaNodesOnlyWithTurnDomain()
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full("3.0.0"), HaproxyArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn("3.0.0"), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem crt /etc/haproxy/certs/turn.pem\n", withTurn);
        Assert.Contains("use_backend turn_tls if { ssl_fc_sni -i turn.example.io }", withTurn);
        Assert.Contains("server media-1 10.5.0.11:5349 check", withTurn);
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem\n", withoutTurn);
        Assert.DoesNotContain(Directives(withoutTurn), MentionsTurn);
    }

    [Fact]
    public void Haproxy_CurrentRtmpOption_RtmpsToTheMasters1945OnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.8.0");
        var off = on with { Rtmp = false };

        // Act
        var withRtmp = ArtifactCatalog.Generate(on, HaproxyArtifact.Name).Content;
        var withoutRtmp = ArtifactCatalog.Generate(off, HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("frontend openvidu_rtmps\n    bind :1935 ssl crt /etc/haproxy/certs/openvidu.pem\n    default_backend openvidu_master_nodes_rtmp\n", withRtmp);
        Assert.Contains(
            "backend openvidu_master_nodes_rtmp\n    balance roundrobin\n    default-server inter 10s fall 4 rise 3\n" +
            "    server master-1 10.5.0.1:1945 check\n    server master-2 10.5.0.2:1945 check\n" +
            "    server master-3 10.5.0.3:1945 check\n    server master-4 10.5.0.4:1945 check\n", withRtmp);
        Assert.DoesNotContain(Directives(withoutRtmp), line => line.Contains("1935", StringComparison.Ordinal) || line.Contains("1945", StringComparison.Ordinal));
    }

    [Fact]
    public void Haproxy_CurrentTurnDomain_SniRoutesTurnToTheMasters5349()
    {
        // Act
        var withTurn = ArtifactCatalog.Generate(TestClusters.Full("3.8.0"), HaproxyArtifact.Name).Content;
        var withoutTurn = ArtifactCatalog.Generate(TestClusters.NoTurn("3.8.0"), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem crt /etc/haproxy/certs/turn.pem\n", withTurn);
        Assert.Contains("    use_backend openvidu_master_nodes_turn if { ssl_fc_sni -i turn.example.io }\n    default_backend openvidu_master_nodes\n", withTurn);
        Assert.Contains(
            "backend openvidu_master_nodes_turn\n    balance roundrobin\n    default-server inter 10s fall 4 rise 3\n" +
            "    server master-1 10.5.0.1:5349 check\n", withTurn);
        Assert.Contains("bind :443 ssl crt /etc/haproxy/certs/openvidu.pem\n", withoutTurn);
        Assert.DoesNotContain(Directives(withoutTurn), MentionsTurn);
    }

    [Fact]
    public void Haproxy_CurrentApiDomain_HttpBackendWithForwardedHeadersHealthChecksAndRedirectOn80()
    {
        // Act
        var cfg = ArtifactCatalog.Generate(TestClusters.Minimal("3.8.0"), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains(
            "backend openvidu_master_nodes\n    mode http\n    balance roundrobin\n    option forwardfor\n" +
            "    http-request set-header X-Real-IP %[src]\n    http-request set-header X-Forwarded-Proto https\n" +
            "    option httpchk GET /health/caddy\n    http-check expect status 200\n    default-server inter 10s fall 4 rise 3\n" +
            "    server master-1 10.5.0.1:7880 check\n    server master-2 10.5.0.2:7880 check\n" +
            "    server master-3 10.5.0.3:7880 check\n    server master-4 10.5.0.4:7880 check\n", cfg);
        Assert.Contains("    timeout tunnel 1h\n", cfg);
        Assert.Contains("    option redispatch 1\n", cfg);
        Assert.Contains("frontend openvidu_http\n    mode http\n    bind :80\n    http-request redirect scheme https code 301\n", cfg);
    }

    [Fact]
    public void Haproxy_V30Masters_CheckedOnHealthCaddyWithAwsTemplateTiming()
    {
        // Act
        var cfg = ArtifactCatalog.Generate(TestClusters.Full("3.0.0"), HaproxyArtifact.Name).Content;

        // Assert
        Assert.Contains(
            "backend openvidu_master_nodes\n    balance roundrobin\n    option httpchk GET /health/caddy\n    http-check expect status 200\n" +
            "    default-server inter 10s fall 4 rise 3\n" +
            "    server master-1 10.5.0.1:7880 check\n    server master-2 10.5.0.2:7880 check\n" +
            "    server master-3 10.5.0.3:7880 check\n    server master-4 10.5.0.4:7880 check\n", cfg);
        Assert.DoesNotContain("redispatch", cfg);
        Assert.DoesNotContain("mode http", cfg);
    }

    public static TheoryData<string> LoadBalancers() => [NginxArtifact.Name, HaproxyArtifact.Name];

    [Theory]
    [MemberData(nameof(LoadBalancers))]
    public void Generate_CurrentGenerationOtherMediaNodes_SameBytesAndNoMediaNodeNamed(string artifact)
    {
        // Arrange: the full cluster with its 2 media nodes, and the same with 5 other ones.
        var two = TestClusters.Full("3.8.0");
        string[] otherMedia = ["10.6.0.21", "10.6.0.22", "10.6.0.23", "10.6.0.24", "10.6.0.25"];
        var five = two with { Nodes = TestClusters.Nodes(TestClusters.MasterIps, otherMedia, null) };

        // Act
        var withTwo = ArtifactCatalog.Generate(two, artifact).Content;
        var withFive = ArtifactCatalog.Generate(five, artifact).Content;

        // Assert: comments included, nothing depends on the media nodes.
        Assert.Equal(withTwo, withFive);
        Assert.DoesNotContain("media-", withTwo);
        Assert.All(TestClusters.MediaIps.Concat(TestClusters.MediaPublicIps), ip => Assert.DoesNotContain(ip, withTwo));
        Assert.Contains("Media nodes are not listed", withTwo);
    }

    [Theory]
    [MemberData(nameof(LoadBalancers))]
    public void Generate_V30AnotherMediaNode_ListsItAndSaysToReload(string artifact)
    {
        // Arrange
        var two = TestClusters.Full("3.0.0");
        var three = two with { Nodes = TestClusters.Nodes(TestClusters.MasterIps, [.. TestClusters.MediaIps, "10.5.0.13"], null) };

        // Act
        var withTwo = ArtifactCatalog.Generate(two, artifact).Content;
        var withThree = ArtifactCatalog.Generate(three, artifact).Content;

        // Assert
        Assert.DoesNotContain("10.5.0.13", withTwo);
        Assert.Contains("10.5.0.13:1935", withThree);
        Assert.Contains("10.5.0.13:5349", withThree);
        Assert.Contains("This file lists the media nodes: after adding or removing one, download it again from the panel", withTwo);
    }

    [Theory]
    [MemberData(nameof(LoadBalancers))]
    public void Generate_V30WithoutRtmpOrTurn_SaysItListsNoMediaNode(string artifact)
    {
        // Act
        var content = ArtifactCatalog.Generate(TestClusters.Minimal("3.0.0"), artifact).Content;

        // Assert
        Assert.Contains("This file lists no media node (no RTMP, no TURN domain).", content);
        Assert.All(TestClusters.MediaIps, ip => Assert.DoesNotContain(ip, content));
    }

    /// <summary>A word starting with "turn" (turn_tls, turn.example.io), not "return".</summary>
    private static bool MentionsTurn(string line) => Regex.IsMatch(line, @"\bturn", RegexOptions.IgnoreCase);

    private static IEnumerable<string> Directives(string config) => LoadBalancerFiles.Directives(config);
}
