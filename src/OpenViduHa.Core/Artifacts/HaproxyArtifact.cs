using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>haproxy.cfg</c>: HAProxy 2.6+ as the network load balancer, TLS terminated by HAProxy, in the topology of the
/// cluster's generation (<see cref="LoadBalancerTopology"/>), with active health checks of the masters on
/// <c>/health/caddy</c>. 3.0.x: the 3.0 guide's NGINX example in TCP mode. 3.4.0 and later: the current guide's
/// topology, the API domain as HTTP to the masters (forwarded headers, WebSocket), TURN and RTMPS as TCP to the masters.
/// </summary>
public static class HaproxyArtifact
{
    public const string Name = "haproxy.cfg";
    public const string CertificateDirectory = "/etc/haproxy/certs/";
    public const string CertificateFile = CertificateDirectory + "openvidu.pem";
    public const string TurnCertificateFile = CertificateDirectory + "turn.pem";

    /// <summary>Health check cadence of OpenVidu's AWS template: every 10 s.</summary>
    public const string CheckInterval = "10s";

    /// <summary>Consecutive failed checks before a server is taken out (AWS template: 4).</summary>
    public const int FallCount = 4;

    /// <summary>Consecutive passed checks before a server is put back (AWS template: 3).</summary>
    public const int RiseCount = 3;

    /// <summary>Health check timeout (AWS template: 5 s).</summary>
    public const string CheckTimeout = "5s";

    public const string MasterHealthPath = "/health/caddy";

    private const string Reload = "HAProxy (haproxy -c -f /etc/haproxy/haproxy.cfg && systemctl reload haproxy)";

    private static readonly string _defaultServer = $"default-server inter {CheckInterval} fall {FallCount} rise {RiseCount}";

    internal static GeneratedArtifact Generate(ClusterDefinition cluster)
    {
        var text = new ArtifactText()
            .Header(cluster, "#", "HAProxy (2.6 or later) as the network load balancer in front of the OpenVidu HA cluster.")
            .Line("#");
        if (cluster.Generation == InstallerGeneration.Current) MastersOnly(text, cluster);
        else Guide30(text, cluster);
        return ArtifactCatalog.Create(cluster, Name, ContentTypes.PlainText, text.ToString());
    }

    /// <summary>OpenVidu 3.0.x: the 3.0 guide's topology; RTMP and TURN go from here to the media nodes.</summary>
    private static void Guide30(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        text.Line("# OpenVidu 3.0.x: the topology of the 3.0 install guide's NGINX example. TLS ends here; the rest goes on as TCP:")
            .Line($"#   443   HTTPS and WebSocket ({cluster.DomainName}) to the 4 masters' 7880" + (turn is null ? "" : ";"));
        if (turn is not null) text.Line($"#         TURN over TLS ({turn}) to the media nodes' 5349");
        if (cluster.Rtmp) text.Line("#   1935  RTMPS: RTMP to the media nodes' 1935");
        LoadBalancerTopology.MediaNodesNote(text, cluster, Reload);
        Installation(text, cluster);
        Global(text);
        Defaults(text, redispatch: false);
        text.Line("# HTTPS and WSS" + (turn is null ? "" : "; TURN over TLS chosen by SNI") + ".")
            .Line("frontend openvidu_https")
            .Line($"    bind :443 ssl crt {CertificateFile}" + (turn is null ? "" : $" crt {TurnCertificateFile}"));
        if (turn is not null) text.Line($"    use_backend turn_tls if {{ ssl_fc_sni -i {turn} }}");
        text.Line("    default_backend openvidu_master_nodes")
            .Line()
            .Line("# The 4 masters, port 7880. Checks as in OpenVidu's AWS template: every 10 s, 4 failures to take a master out,")
            .Line("# 3 successes to put it back.")
            .Line("backend openvidu_master_nodes")
            .Line("    balance roundrobin")
            .Line($"    option httpchk GET {MasterHealthPath}")
            .Line("    http-check expect status 200")
            .Line("    " + _defaultServer);
        Servers(text, cluster.Masters, 7880);
        if (turn is not null)
        {
            text.Line()
                .Line("# TURN over TLS: TLS ends at the frontend, TURN to the media nodes, port 5349 (TCP connect check).")
                .Line("backend turn_tls")
                .Line("    balance roundrobin")
                .Line("    " + _defaultServer);
            Servers(text, cluster.MediaNodes, 5349);
        }
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("# RTMP ingest: RTMPS ends here, plain RTMP to the media nodes (TCP connect check).")
                .Line("frontend openvidu_rtmps")
                .Line($"    bind :1935 ssl crt {CertificateFile}")
                .Line("    default_backend openvidu_media_nodes_rtmp")
                .Line()
                .Line("backend openvidu_media_nodes_rtmp")
                .Line("    balance roundrobin")
                .Line("    " + _defaultServer);
            Servers(text, cluster.MediaNodes, 1935);
        }
    }

    /// <summary>OpenVidu 3.4 and later: everything to the masters; no media node anywhere in the file.</summary>
    private static void MastersOnly(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        text.Line("# OpenVidu 3.4 and later: the current install guide's topology (its example is NGINX), everything to the 4 masters:");
        if (turn is null)
        {
            text.Line($"#   443   HTTPS and WebSocket ({cluster.DomainName}): TLS ends here, then HTTP to the masters' 7880");
        }
        else
        {
            text.Line("#   443   TLS ends here; the name the client asks for (SNI) picks the route:")
                .Line($"#           {cluster.DomainName}: HTTPS and WebSocket, as HTTP to the masters' 7880")
                .Line($"#           {turn}: TURN over TLS, as TCP to the masters' 5349");
        }
        if (cluster.Rtmp) text.Line("#   1935  RTMPS: TLS ends here, RTMP as TCP to the masters' 1945");
        text.Line("#   80    redirect to https");
        LoadBalancerTopology.MediaNodesNote(text, cluster, Reload);
        text.Line("# Masters are checked on /health/caddy (7880)" + TcpChecked(cluster) + ". Not in the guide: a connection a master refuses")
            .Line("# is tried again on another one (option redispatch), also before the checks have taken it out.");
        Installation(text, cluster);
        Global(text);
        Defaults(text, redispatch: true);
        text.Line(turn is null ? "# HTTPS and WSS." : "# HTTPS and WSS; TURN over TLS chosen by SNI (ssl_fc_sni, the name the client asked for).")
            .Line("frontend openvidu_https")
            .Line($"    bind :443 ssl crt {CertificateFile}" + (turn is null ? "" : $" crt {TurnCertificateFile}"));
        if (turn is not null) text.Line($"    use_backend openvidu_master_nodes_turn if {{ ssl_fc_sni -i {turn} }}");
        text.Line("    default_backend openvidu_master_nodes")
            .Line()
            .Line("# The API as HTTP to the 4 masters, port 7880: the connection switches from TCP to HTTP on its way here. WebSocket")
            .Line("# upgrades pass, then live under \"timeout tunnel\". The masters learn the client's address (X-Real-IP,")
            .Line("# X-Forwarded-For) and that it came over https. Checks as in OpenVidu's AWS template: every 10 s, 4 failures to")
            .Line("# take a master out, 3 successes to put it back.")
            .Line("backend openvidu_master_nodes")
            .Line("    mode http")
            .Line("    balance roundrobin")
            .Line("    option forwardfor")
            .Line("    http-request set-header X-Real-IP %[src]")
            .Line("    http-request set-header X-Forwarded-Proto https")
            .Line($"    option httpchk GET {MasterHealthPath}")
            .Line("    http-check expect status 200")
            .Line("    " + _defaultServer);
        Servers(text, cluster.Masters, 7880);
        if (turn is not null)
        {
            text.Line()
                .Line("# TURN over TLS: TLS ends at the frontend, TURN to the 4 masters, port 5349 (TCP connect check).")
                .Line("backend openvidu_master_nodes_turn")
                .Line("    balance roundrobin")
                .Line("    " + _defaultServer);
            Servers(text, cluster.Masters, 5349);
        }
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("# RTMP ingest: RTMPS ends here, RTMP to the 4 masters, port 1945 (TCP connect check); they pass it on to the")
                .Line("# media nodes' ingress.")
                .Line("frontend openvidu_rtmps")
                .Line($"    bind :1935 ssl crt {CertificateFile}")
                .Line("    default_backend openvidu_master_nodes_rtmp")
                .Line()
                .Line("backend openvidu_master_nodes_rtmp")
                .Line("    balance roundrobin")
                .Line("    " + _defaultServer);
            Servers(text, cluster.Masters, 1945);
        }
        text.Line()
            .Line("# Port 80: everything to https.")
            .Line("frontend openvidu_http")
            .Line("    mode http")
            .Line("    bind :80")
            .Line("    http-request redirect scheme https code 301");
    }

    /// <summary>The masters' TCP-checked ports of this cluster, for the header: TURN's and RTMP's when they are on.</summary>
    private static string TcpChecked(ClusterDefinition cluster)
    {
        var ports = new List<string>();
        if (cluster.TurnDomainName is not null) ports.Add("5349");
        if (cluster.Rtmp) ports.Add("1945");
        return ports.Count == 0 ? "" : $" and by TCP connects ({string.Join(", ", ports)})";
    }

    private static void Installation(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        text.Line("# Install: apt-get install haproxy, then put this file at /etc/haproxy/haproxy.cfg.")
            .Line($"# Point {cluster.DomainName}" + (turn is null ? "" : $" and {turn}") + " at this load balancer in DNS. Certificates, each one PEM file")
            .Line("# holding the certificate chain followed by its private key:")
            .Line($"#   {CertificateFile}: for {cluster.DomainName}");
        if (turn is not null) text.Line($"#   {TurnCertificateFile}: for {turn}");
    }

    private static void Global(ArtifactText text) =>
        text.Line()
            .Line("global")
            .Line("    # Under systemd, stdout goes to the journal: journalctl -u haproxy.")
            .Line("    log stdout format raw local0")
            .Line("    # Certificates are read as root at start; then the workers drop to Debian's haproxy user.")
            .Line("    user haproxy")
            .Line("    group haproxy")
            .Line("    # Each proxied connection takes two file descriptors: HAProxy needs about 2 x maxconn of them at start")
            .Line("    # and refuses to start when the limit (systemd LimitNOFILE) is lower. Raise both together if needed.")
            .Line("    maxconn 8000")
            .Line("    ssl-default-bind-options ssl-min-ver TLSv1.2")
            .Line();

    private static void Defaults(ArtifactText text, bool redispatch)
    {
        text.Line("defaults")
            .Line("    mode tcp")
            .Line("    log global")
            .Line("    option tcplog")
            .Line("    option dontlognull")
            .Line("    timeout connect 10s")
            .Line("    timeout client 30s")
            .Line("    timeout server 30s")
            .Line("    # Established connections (WebSocket signalling, TURN, RTMP) may stay quiet for long.")
            .Line("    timeout tunnel 1h")
            .Line($"    timeout check {CheckTimeout}");
        if (redispatch)
        {
            text.Line("    # A connection a master refuses goes to another master at once.")
                .Line("    option redispatch 1");
        }
        text.Line();
    }

    private static void Servers(ArtifactText text, IEnumerable<NodeDefinition> nodes, int port)
    {
        foreach (var node in nodes) text.Line($"    server {node.Name} {node.PrivateIp}:{port} check");
    }
}
