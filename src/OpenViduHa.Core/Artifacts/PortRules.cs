using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>Who must reach a port: the firewall rules allow exactly these, the status collector checks from them.</summary>
public enum PortSource
{
    LoadBalancer,
    Masters,
    MediaNodes,
    Anywhere,
}

/// <summary>One inbound rule: <paramref name="Ports"/> is a port or a ufw range (<c>7000:7001</c>).</summary>
public sealed record PortRule(string Protocol, string Ports, PortSource[] From, string Comment)
{
    /// <summary>The single ports of the rule; empty for wide ranges (WebRTC's 50000:60000), which are not checked one by one.</summary>
    public IEnumerable<int> SinglePorts()
    {
        var parts = Ports.Split(':');
        var first = int.Parse(parts[0], System.Globalization.CultureInfo.InvariantCulture);
        var last = parts.Length > 1 ? int.Parse(parts[1], System.Globalization.CultureInfo.InvariantCulture) : first;
        return last - first < 8 ? Enumerable.Range(first, last - first + 1) : [];
    }
}

/// <summary>
/// The install guide's port tables for this cluster's generation, modules and options: one source for the firewall
/// scripts (<see cref="FirewallArtifact"/>) and the status collector's port checks.
/// </summary>
public static class PortRules
{
    public static IReadOnlyList<PortRule> For(ClusterDefinition cluster, NodeRole role) =>
        role == NodeRole.Master ? MasterRules(cluster) : MediaRules(cluster);

    /// <summary>The guide's "Port rules (Master Nodes)" plus what the current generation adds.</summary>
    private static List<PortRule> MasterRules(ClusterDefinition cluster)
    {
        var current = cluster.Generation == InstallerGeneration.Current;
        var rules = new List<PortRule>
        {
            // Current: the media nodes' Ingress, Egress and Agents reach the load-balanced LiveKit API here too (3.8/3.9 port tables).
            current
                ? new("tcp", "7880", [PortSource.LoadBalancer, PortSource.MediaNodes], "OpenVidu behind the LB (LiveKit API, dashboard, Meet, WHIP, layouts); LiveKit API for the media nodes' ingress and egress")
                : new("tcp", "7880", [PortSource.LoadBalancer], "OpenVidu behind the LB (LiveKit API, dashboard, apps, WHIP, TURN TLS, layouts)"),
        };
        // Current: RTMPS and TURN over TLS end at the LB, which passes them to the masters; the masters reach the media nodes.
        if (current && cluster.Rtmp) rules.Add(new("tcp", "1945", [PortSource.LoadBalancer], "RTMPS ingest, TLS ended at the LB"));
        if (current && cluster.TurnDomainName is not null) rules.Add(new("tcp", "5349", [PortSource.LoadBalancer], "TURN with TLS, TLS ended at the LB"));
        if (cluster.HasModule(Modules.Observability))
        {
            rules.Add(new("tcp", "7946:7947", [PortSource.Masters], "Mimir and Loki cluster communication (observability)"));
            rules.Add(new("tcp", "9095:9096", [PortSource.Masters], "Mimir and Loki cluster communication (observability)"));
            rules.Add(new("tcp", "3100", [PortSource.MediaNodes], "Loki, media node logs (observability)"));
            rules.Add(new("tcp", "9009", [PortSource.MediaNodes], "Mimir, media node metrics (observability)"));
        }
        if (current)
        {
            rules.Add(new("tcp", "4443", [PortSource.Masters, PortSource.MediaNodes], "internal traffic to masters on 4443 (OpenVidu 3.4+, v2 compatibility among others)"));
        }
        else if (cluster.HasModule(Modules.V2Compatibility))
        {
            rules.Add(new("tcp", "4443", [PortSource.MediaNodes], "OpenVidu v2 compatibility service (v2compatibility)"));
        }
        if (!current && cluster.HasModule(Modules.App)) rules.Add(new("tcp", "6080", [PortSource.MediaNodes], "OpenVidu Call, the default app (app)"));
        rules.Add(new("tcp", "7000:7001", [PortSource.Masters, PortSource.MediaNodes], "Redis (internal)"));
        rules.Add(new("tcp", "9100", [PortSource.Masters, PortSource.MediaNodes], "MinIO (internal)"));
        rules.Add(new("tcp", "20000", [PortSource.Masters, PortSource.MediaNodes], "MongoDB (internal)"));
        if (current)
        {
            rules.Add(new("tcp", "3000", [PortSource.Masters], "internal master-to-master traffic (OpenVidu 3.4+)"));
            rules.Add(new("tcp", "5000", [PortSource.Masters], "internal master-to-master traffic (OpenVidu 3.4+)"));
            rules.Add(new("tcp", "9101", [PortSource.Masters], "internal master-to-master traffic (OpenVidu 3.4+)"));
            rules.Add(new("tcp", "9080", [PortSource.Masters, PortSource.MediaNodes], "internal traffic to masters (OpenVidu 3.4+)"));
        }
        return rules;
    }

    /// <summary>
    /// The guide's "Port rules (Media Nodes)" plus what the current generation adds; in the current generation RTMP (1935)
    /// and TURN (5349) come from the masters instead of the load balancer.
    /// </summary>
    private static List<PortRule> MediaRules(ClusterDefinition cluster)
    {
        var current = cluster.Generation == InstallerGeneration.Current;
        var rules = new List<PortRule>
        {
            new("udp", "443", [PortSource.Anywhere], "STUN/TURN over UDP"),
        };
        if (cluster.WebrtcOverTcp) rules.Add(new("tcp", "7881", [PortSource.Anywhere], "WebRTC over TCP"));
        if (cluster.Whip) rules.Add(new("udp", "7885", [PortSource.Anywhere], "WebRTC ingest with WHIP"));
        rules.Add(new("udp", "50000:60000", [PortSource.Anywhere], "WebRTC media"));
        if (current) rules.Add(new("tcp", "50000:60000", [PortSource.Anywhere], "WebRTC media over TCP (OpenVidu 3.4+)"));
        // 3.0.x: the load balancer reaches 1935/5349 (the 3.0 guide). Current: the masters alone, never the load balancer.
        if (cluster.Rtmp)
        {
            rules.Add(current
                ? new("tcp", "1935", [PortSource.Masters], "RTMP ingest (Ingress), relayed by the masters")
                : new("tcp", "1935", [PortSource.LoadBalancer], "RTMP ingest (Ingress); the LB terminates RTMPS"));
        }
        if (cluster.TurnDomainName is not null)
        {
            rules.Add(current
                ? new("tcp", "5349", [PortSource.Masters], "TURN, relayed by the masters")
                : new("tcp", "5349", [PortSource.LoadBalancer], "TURN; the LB terminates TLS"));
        }
        rules.Add(new("tcp", "7880", [PortSource.Masters], "LiveKit API, load balanced by the masters"));
        if (cluster.Whip) rules.Add(new("tcp", "8080", [PortSource.Masters], "WHIP HTTP service"));
        return rules;
    }
}
