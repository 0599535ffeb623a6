using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>nginx.conf</c>: the install guide's NGINX load balancer (stream module, TLS terminated by NGINX) with the
/// cluster's addresses: its first example without a TURN domain, its second (SNI maps) with one.
/// </summary>
public static class NginxArtifact
{
    public const string Name = "nginx.conf";
    public const string CertificateDirectory = "/etc/nginx/ssl/";
    public const string CertificateFile = CertificateDirectory + "openvidu-cert.pem";
    public const string KeyFile = CertificateDirectory + "openvidu-key.pem";
    public const string TurnCertificateFile = CertificateDirectory + "turn-cert.pem";
    public const string TurnKeyFile = CertificateDirectory + "turn-key.pem";

    internal static GeneratedArtifact Generate(ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        var text = new ArtifactText()
            .Header(cluster, "#", "NGINX as the network load balancer in front of the OpenVidu HA cluster.")
            .Line("#")
            .Line("# The install guide's NGINX example" + (turn is null ? " (without a TURN domain)" : " with TURN over TLS (SNI picks backend and certificate)") +
                  ", with this cluster's addresses.")
            .Line("# Install: apt-get install nginx libnginx-mod-stream, then put this file at /etc/nginx/nginx.conf.")
            .Line($"# Point {cluster.DomainName}" + (turn is null ? "" : $" and {turn}") + " at this load balancer in DNS. Certificates (PEM):")
            .Line($"#   {CertificateFile}, {KeyFile}: for {cluster.DomainName}");
        if (turn is not null)
        {
            text.Line($"#   {TurnCertificateFile}, {TurnKeyFile}: for {turn}")
                .Line("# With a TURN domain the certificate is chosen per connection, so the worker processes (user www-data) read")
                .Line("# these files at each handshake: they must be readable by www-data, e.g. chgrp www-data and chmod 640.");
        }
        if (cluster.Generation == InstallerGeneration.Current)
        {
            text.Line($"# OpenVidu {cluster.Version} takes the same topology as the 3.0 guide. Its masters also accept 1945 (RTMPS) and 5349")
                .Line("# (TURN TLS) from the load balancer; this file does not use them: RTMP and TURN go straight to the media nodes.");
        }
        text.Line()
            .Line("# Debian and Ubuntu ship the stream module as a separate package (libnginx-mod-stream) loaded from here.")
            .Line("include /etc/nginx/modules-enabled/*.conf;")
            .Line()
            .Line("user www-data;")
            .Line("worker_processes auto;")
            .Line("# Descriptors per worker, at least worker_connections (NGINX warns otherwise). A proxied connection takes two, so")
            .Line("# each worker carries about 8000 clients; raise both together if the hard limit (systemd LimitNOFILE) allows.")
            .Line("worker_rlimit_nofile 16384;")
            .Line()
            .Line("events {")
            .Line("    worker_connections 10240;")
            .Line("}")
            .Line()
            .Line("stream {")
            .Line()
            .Line("    # HTTPS and WebSocket (LiveKit API, dashboard, apps...) to the 4 masters, port 7880.")
            .Line("    upstream openvidu_master_nodes {");
        foreach (var master in cluster.Masters) text.Line($"        server {master.PrivateIp}:7880;  # {master.Name}");
        text.Line("    }");
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("    # RTMP ingest: RTMPS ends here, plain RTMP to the media nodes.")
                .Line("    upstream openvidu_media_nodes_rtmp {");
            foreach (var media in cluster.MediaNodes) text.Line($"        server {media.PrivateIp}:1935;  # {media.Name}");
            text.Line("    }");
        }
        if (turn is null)
        {
            Server(text, "443", cluster.DomainName, CertificateFile, KeyFile, "openvidu_master_nodes");
            if (cluster.Rtmp) Server(text, "1935", cluster.DomainName, CertificateFile, KeyFile, "openvidu_media_nodes_rtmp");
        }
        else
        {
            text.Line()
                .Line("    # TURN over TLS: TLS ends here, TURN to the media nodes, port 5349.")
                .Line("    upstream turn_tls {");
            foreach (var media in cluster.MediaNodes) text.Line($"        server {media.PrivateIp}:5349;  # {media.Name}");
            text.Line("    }");
            text.Line()
                .Line("    # The name the client asked for (SNI) picks backend and certificate. Not in the guide: the default entries, so")
                .Line("    # that a client sending no SNI (or another name) still reaches OpenVidu rather than failing the handshake.");
            Map(text, "$targetBackend", cluster.DomainName, "openvidu_master_nodes", turn, "turn_tls", leadingBlankLine: false);
            Map(text, "$targetCert", cluster.DomainName, CertificateFile, turn, TurnCertificateFile);
            Map(text, "$targetCertKey", cluster.DomainName, KeyFile, turn, TurnKeyFile);
            Server(text, "443", null, "$targetCert", "$targetCertKey", "$targetBackend");
            if (cluster.Rtmp) Server(text, "1935", null, "$targetCert", "$targetCertKey", "openvidu_media_nodes_rtmp");
        }
        text.Line()
            .Line("}");
        return ArtifactCatalog.Create(cluster, Name, ContentTypes.PlainText, text.ToString());
    }

    private static void Map(
        ArtifactText text, string variable, string domain, string domainValue, string turnDomain, string turnValue, bool leadingBlankLine = true) =>
        (leadingBlankLine ? text.Line() : text)
            .Line($"    map $ssl_server_name {variable} {{")
            .Line($"        {domain} {domainValue};")
            .Line($"        {turnDomain} {turnValue};")
            .Line($"        default {domainValue};")
            .Line("    }");

    private static void Server(ArtifactText text, string port, string? domain, string certificate, string key, string upstream)
    {
        text.Line();
        text.Line(port == "1935" ? "    # RTMPS ingest (option RTMP)." : (upstream.StartsWith('$') ? "    # HTTPS, WSS and TURN over TLS." : "    # HTTPS and WSS."));
        text.Line("    server {")
            .Line($"        listen {port} ssl;");
        // The guide writes server_name here; stream servers only accept it from NGINX 1.25.5 (Debian 12 has 1.22)
        // and with one server per port it changes nothing: kept as a comment.
        if (domain is not null) text.Line($"        # server_name {domain};  (stream servers take it from NGINX 1.25.5 on; one server per port needs none)");
        text.Line("        ssl_protocols       TLSv1.2 TLSv1.3;")
            .Line($"        ssl_certificate     {certificate};")
            .Line($"        ssl_certificate_key {key};")
            .Line()
            .Line("        proxy_connect_timeout 10s;")
            .Line("        proxy_timeout 30s;")
            .Line()
            .Line($"        proxy_pass {upstream};")
            .Line("    }");
    }
}
