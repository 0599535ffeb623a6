using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>nginx.conf</c>: NGINX as the network load balancer, TLS terminated by NGINX, in the topology of the cluster's
/// generation (<see cref="LoadBalancerTopology"/>). 3.0.x: the 3.0 guide's stream example (its first example without a
/// TURN domain, its second, SNI maps, with one). 3.4.0 and later: the current guide's example, everything to the masters,
/// the API domain through an <c>http</c> block on the load balancer itself.
/// </summary>
public static class NginxArtifact
{
    public const string Name = "nginx.conf";
    public const string CertificateDirectory = "/etc/nginx/ssl/";
    public const string CertificateFile = CertificateDirectory + "openvidu-cert.pem";
    public const string KeyFile = CertificateDirectory + "openvidu-key.pem";
    public const string TurnCertificateFile = CertificateDirectory + "turn-cert.pem";
    public const string TurnKeyFile = CertificateDirectory + "turn-key.pem";

    /// <summary>3.4+: where the stream block hands the API domain to the http block, on the load balancer itself.</summary>
    public const string ApiProxyAddress = "127.0.0.1:7880";

    /// <summary>3.4+ with a TURN domain: the local relay that takes the PROXY protocol header off TURN connections.</summary>
    public const string TurnRelayAddress = "127.0.0.1:5349";

    internal static GeneratedArtifact Generate(ClusterDefinition cluster)
    {
        var text = new ArtifactText()
            .Header(cluster, "#", "NGINX as the network load balancer in front of the OpenVidu HA cluster.")
            .Line("#");
        if (cluster.Generation == InstallerGeneration.Current) MastersOnly(text, cluster);
        else Guide30(text, cluster);
        return ArtifactCatalog.Create(cluster, Name, ContentTypes.PlainText, text.ToString());
    }

    /// <summary>OpenVidu 3.0.x: the 3.0 guide's topology; RTMP and TURN go from here to the media nodes.</summary>
    private static void Guide30(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        if (turn is null)
        {
            text.Line("# OpenVidu 3.0.x: the 3.0 install guide's NGINX example (without a TURN domain), with this cluster's addresses.")
                .Line("# TLS ends here; the rest goes on as TCP:")
                .Line($"#   443   HTTPS and WebSocket ({cluster.DomainName}) to the 4 masters' 7880");
        }
        else
        {
            text.Line("# OpenVidu 3.0.x: the 3.0 install guide's NGINX example with TURN over TLS (SNI picks backend and certificate),")
                .Line("# with this cluster's addresses. TLS ends here; the rest goes on as TCP:")
                .Line($"#   443   HTTPS and WebSocket ({cluster.DomainName}) to the 4 masters' 7880;")
                .Line($"#         TURN over TLS ({turn}) to the media nodes' 5349");
        }
        if (cluster.Rtmp) text.Line("#   1935  RTMPS: RTMP to the media nodes' 1935");
        LoadBalancerTopology.MediaNodesNote(text, cluster, "NGINX (nginx -t && systemctl reload nginx)");
        Installation(text, cluster);
        Preamble(text);
        text.Line("stream {")
            .Line()
            .Line("    # HTTPS and WebSocket (LiveKit API, dashboard, apps...) to the 4 masters, port 7880.")
            .Line("    upstream openvidu_master_nodes {");
        Servers(text, cluster.Masters, 7880);
        text.Line("    }");
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("    # RTMP ingest: RTMPS ends here, plain RTMP to the media nodes.")
                .Line("    upstream openvidu_media_nodes_rtmp {");
            Servers(text, cluster.MediaNodes, 1935);
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
            Servers(text, cluster.MediaNodes, 5349);
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
    }

    /// <summary>
    /// OpenVidu 3.4 and later: the current guide's topology. 443 by SNI: the API domain to the http block below (HTTP to
    /// the masters' 7880, WebSocket upgrade, forwarded headers), the TURN domain to the masters' 5349; RTMPS to the
    /// masters' 1945; 80 redirected to https. No media node anywhere in the file.
    /// </summary>
    private static void MastersOnly(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        text.Line("# OpenVidu 3.4 and later: the current install guide's NGINX example, everything to the 4 masters:");
        if (turn is null)
        {
            text.Line($"#   443   HTTPS and WebSocket ({cluster.DomainName}): TLS ends here, then the http block below ({ApiProxyAddress}),")
                .Line("#         then HTTP to the masters' 7880");
        }
        else
        {
            text.Line("#   443   TLS ends here; the name the client asks for (SNI) picks the route:")
                .Line($"#           {cluster.DomainName}: HTTPS and WebSocket, to the http block below ({ApiProxyAddress}), then HTTP to the masters' 7880")
                .Line($"#           {turn}: TURN over TLS, as TCP to the masters' 5349");
        }
        if (cluster.Rtmp) text.Line("#   1935  RTMPS: TLS ends here, RTMP as TCP to the masters' 1945");
        text.Line("#   80    redirect to https");
        LoadBalancerTopology.MediaNodesNote(text, cluster, "NGINX (nginx -t && systemctl reload nginx)");
        text.Line("# Not in the guide: the stream block hands the client's address to the http block in a PROXY protocol header (on")
            .Line("# 127.0.0.1 only), so the masters see the client, not 127.0.0.1, in X-Real-IP and X-Forwarded-For.");
        if (turn is not null) text.Line($"# TURN, which does not read that header, goes through a relay on {TurnRelayAddress} that takes it off again.");
        Installation(text, cluster);
        Preamble(text);
        text.Line("stream {")
            .Line()
            .Line("    # The API domain once TLS has ended: the http block below, on this machine.")
            .Line("    upstream openvidu_api {")
            .Line($"        server {ApiProxyAddress};")
            .Line("    }");
        if (turn is not null)
        {
            text.Line()
                .Line("    # TURN once TLS has ended: the relay below, on this machine.")
                .Line("    upstream turn_relay {")
                .Line($"        server {TurnRelayAddress};")
                .Line("    }")
                .Line()
                .Line("    # TURN to the 4 masters, port 5349.")
                .Line("    upstream openvidu_master_nodes_turn {");
            Servers(text, cluster.Masters, 5349);
            text.Line("    }");
        }
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("    # RTMP to the 4 masters, port 1945 (they pass it on to the media nodes' ingress).")
                .Line("    upstream openvidu_master_nodes_rtmp {");
            Servers(text, cluster.Masters, 1945);
            text.Line("    }");
        }
        if (turn is not null)
        {
            text.Line()
                .Line("    # The name the client asked for (SNI) picks route and certificate. Not in the guide: the default entries, so")
                .Line("    # that a client sending no SNI (or another name) still reaches OpenVidu rather than failing the handshake.");
            Map(text, "$upstream", cluster.DomainName, "openvidu_api", turn, "turn_relay", leadingBlankLine: false);
            Map(text, "$certificate", cluster.DomainName, CertificateFile, turn, TurnCertificateFile);
            Map(text, "$private_key", cluster.DomainName, KeyFile, turn, TurnKeyFile);
        }
        text.Line()
            .Line(turn is null ? "    # HTTPS and WSS." : "    # HTTPS, WSS and TURN over TLS.")
            .Line("    server {")
            .Line("        listen 443 ssl;")
            .Line("        ssl_protocols       TLSv1.2 TLSv1.3;")
            .Line($"        ssl_certificate     {(turn is null ? CertificateFile : "$certificate")};")
            .Line($"        ssl_certificate_key {(turn is null ? KeyFile : "$private_key")};")
            .Line()
            .Line("        proxy_connect_timeout 10s;")
            .Line("        proxy_timeout 30s;")
            .Line("        # The client's address, for the http block (and the TURN relay): see the top of the file.")
            .Line("        proxy_protocol on;")
            .Line()
            .Line($"        proxy_pass {(turn is null ? "openvidu_api" : "$upstream")};")
            .Line("    }");
        if (turn is not null)
        {
            text.Line()
                .Line("    # The TURN relay: reads the PROXY protocol header and passes plain TURN on to the masters.")
                .Line("    server {")
                .Line($"        listen {TurnRelayAddress} proxy_protocol;")
                .Line()
                .Line("        proxy_connect_timeout 10s;")
                .Line("        proxy_timeout 30s;")
                .Line()
                .Line("        proxy_pass openvidu_master_nodes_turn;")
                .Line("    }");
        }
        if (cluster.Rtmp)
        {
            text.Line()
                .Line("    # RTMPS ingest (option RTMP).")
                .Line("    server {")
                .Line("        listen 1935 ssl;")
                .Line("        ssl_protocols       TLSv1.2 TLSv1.3;")
                .Line($"        ssl_certificate     {CertificateFile};")
                .Line($"        ssl_certificate_key {KeyFile};")
                .Line()
                .Line("        proxy_connect_timeout 10s;")
                .Line("        proxy_timeout 30s;")
                .Line()
                .Line("        proxy_pass openvidu_master_nodes_rtmp;")
                .Line("    }");
        }
        text.Line()
            .Line("}")
            .Line()
            .Line("http {")
            .Line()
            .Line("    # Port 80: everything to https.")
            .Line("    server {")
            .Line("        listen 80;")
            .Line("        return 301 https://$host$request_uri;")
            .Line("    }")
            .Line()
            .Line("    # HTTP and WebSocket (LiveKit API, dashboard, Meet, v2 compatibility, WHIP, layouts...) to the 4 masters, port 7880.")
            .Line("    # A master that refuses the connection or does not answer is left for the next one (proxy_next_upstream).")
            .Line("    upstream openvidu_master_nodes {");
        Servers(text, cluster.Masters, 7880);
        text.Line("    }")
            .Line()
            .Line("    map $http_upgrade $connection_upgrade {")
            .Line("        default upgrade;")
            .Line("        '' close;")
            .Line("    }")
            .Line()
            .Line("    # The API domain, TLS already ended by the stream block above: reached from it only.")
            .Line("    server {")
            .Line($"        listen {ApiProxyAddress} proxy_protocol;")
            .Line("        # The client's address from the PROXY protocol header, trusted from this machine only.")
            .Line("        set_real_ip_from 127.0.0.1;")
            .Line("        real_ip_header proxy_protocol;")
            .Line("        # Not in the guide: no size limit on requests (NGINX's default is 1 MB), as when port 443 was plain TCP.")
            .Line("        client_max_body_size 0;")
            .Line()
            .Line("        location / {")
            .Line("            proxy_pass http://openvidu_master_nodes;")
            .Line("            proxy_http_version 1.1;")
            .Line("            proxy_set_header Upgrade $http_upgrade;")
            .Line("            proxy_set_header Connection $connection_upgrade;")
            .Line("            proxy_set_header Host $host;")
            .Line("            proxy_set_header X-Real-IP $remote_addr;")
            .Line("            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;")
            .Line("            proxy_set_header X-Forwarded-Proto https;")
            .Line("            proxy_connect_timeout 10s;")
            .Line("        }")
            .Line("    }")
            .Line()
            .Line("}");
    }

    private static void Installation(ArtifactText text, ClusterDefinition cluster)
    {
        var turn = cluster.TurnDomainName;
        text.Line("# Install: apt-get install nginx libnginx-mod-stream, then put this file at /etc/nginx/nginx.conf.")
            .Line($"# Point {cluster.DomainName}" + (turn is null ? "" : $" and {turn}") + " at this load balancer in DNS. Certificates (PEM):")
            .Line($"#   {CertificateFile}, {KeyFile}: for {cluster.DomainName}");
        if (turn is not null)
        {
            text.Line($"#   {TurnCertificateFile}, {TurnKeyFile}: for {turn}")
                .Line("# With a TURN domain the certificate is chosen per connection, so the worker processes (user www-data) read")
                .Line("# these files at each handshake: they must be readable by www-data, e.g. chgrp www-data and chmod 640.");
        }
    }

    private static void Preamble(ArtifactText text) =>
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
            .Line();

    private static void Servers(ArtifactText text, IEnumerable<NodeDefinition> nodes, int port)
    {
        foreach (var node in nodes) text.Line($"        server {node.PrivateIp}:{port};  # {node.Name}");
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
