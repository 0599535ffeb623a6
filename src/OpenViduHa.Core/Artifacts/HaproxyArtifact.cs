using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>haproxy.cfg</c>: the NGINX example's topology for HAProxy 2.6+, TCP mode with TLS terminated by HAProxy, plus
/// active health checks of the masters on <c>/health/caddy</c>.
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

    private static readonly string _defaultServer = $"default-server inter {CheckInterval} fall {FallCount} rise {RiseCount}";

    internal static GeneratedArtifact Generate(ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        var text = new ArtifactText()
            .Header(cluster, "#", "HAProxy (2.6 or later) as the network load balancer in front of the OpenVidu HA cluster.")
            .Line("#")
            .Line("# Same topology as the install guide's NGINX example: TLS ends here, TCP on to the nodes.")
            .Line("# Install: apt-get install haproxy, then put this file at /etc/haproxy/haproxy.cfg.")
            .Line($"# Point {cluster.DomainName}" + (turn is null ? "" : $" and {turn}") + " at this load balancer in DNS. Certificates, each one PEM file")
            .Line("# holding the certificate chain followed by its private key:")
            .Line($"#   {CertificateFile}: for {cluster.DomainName}");
        if (turn is not null) text.Line($"#   {TurnCertificateFile}: for {turn}");
        if (cluster.Generation == InstallerGeneration.Current)
        {
            text.Line($"# OpenVidu {cluster.Version} takes the same topology as the 3.0 guide. Its masters also accept 1945 (RTMPS) and 5349")
                .Line("# (TURN TLS) from the load balancer; this file does not use them: RTMP and TURN go straight to the media nodes.");
        }
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
            .Line()
            .Line("defaults")
            .Line("    mode tcp")
            .Line("    log global")
            .Line("    option tcplog")
            .Line("    option dontlognull")
            .Line("    timeout connect 10s")
            .Line("    timeout client 30s")
            .Line("    timeout server 30s")
            .Line("    # Established connections (WebSocket signalling, TURN, RTMP) may stay quiet for long.")
            .Line("    timeout tunnel 1h")
            .Line($"    timeout check {CheckTimeout}")
            .Line()
            .Line("# HTTPS and WSS" + (turn is null ? "" : "; TURN over TLS chosen by SNI") + ".")
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
        foreach (var master in cluster.Masters) text.Line($"    server {master.Name} {master.PrivateIp}:7880 check");
        if (turn is not null)
        {
            text.Line()
                .Line("# TURN over TLS: TLS ends at the frontend, TURN to the media nodes, port 5349 (TCP connect check).")
                .Line("backend turn_tls")
                .Line("    balance roundrobin")
                .Line("    " + _defaultServer);
            foreach (var media in cluster.MediaNodes) text.Line($"    server {media.Name} {media.PrivateIp}:5349 check");
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
            foreach (var media in cluster.MediaNodes) text.Line($"    server {media.Name} {media.PrivateIp}:1935 check");
        }
        return ArtifactCatalog.Create(cluster, Name, ContentTypes.PlainText, text.ToString());
    }
}
