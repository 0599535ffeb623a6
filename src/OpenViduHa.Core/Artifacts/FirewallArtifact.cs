using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>firewall-master.sh</c> and <c>firewall-media.sh</c>: ufw rules from the install guide's port tables, one rule per
/// source address, only the optional ports this cluster's modules and options need. SSH stays open.
/// </summary>
public static class FirewallArtifact
{
    public const string MasterName = "firewall-master.sh";
    public const string MediaName = "firewall-media.sh";

    /// <summary>The shell expression the rules use for the load balancer when its IP is not known to the panel.</summary>
    private const string LoadBalancerVariable = "\"$LB_IP\"";

    private enum Source
    {
        LoadBalancer,
        Masters,
        MediaNodes,
        Anywhere,
    }

    private sealed record Rule(string Protocol, string Ports, Source[] From, string Comment);

    internal static GeneratedArtifact GenerateMaster(ClusterDefinition cluster) =>
        Generate(cluster, MasterName, NodeRole.Master, MasterRules(cluster));

    internal static GeneratedArtifact GenerateMedia(ClusterDefinition cluster) =>
        Generate(cluster, MediaName, NodeRole.Media, MediaRules(cluster));

    /// <summary>The guide's "Port rules (Master Nodes)" plus what the current generation adds.</summary>
    private static List<Rule> MasterRules(ClusterDefinition cluster)
    {
        var current = cluster.Generation == InstallerGeneration.Current;
        var rules = new List<Rule>
        {
            new("tcp", "7880", [Source.LoadBalancer], "OpenVidu behind the LB (LiveKit API, dashboard, apps, WHIP, TURN TLS, layouts)"),
        };
        if (current && cluster.Rtmp) rules.Add(new("tcp", "1945", [Source.LoadBalancer], "RTMPS ingest through the LB"));
        if (current && cluster.TurnDomainName is not null) rules.Add(new("tcp", "5349", [Source.LoadBalancer], "TURN with TLS through the LB"));
        if (cluster.HasModule(Modules.Observability))
        {
            rules.Add(new("tcp", "7946:7947", [Source.Masters], "Mimir and Loki cluster communication (observability)"));
            rules.Add(new("tcp", "9095:9096", [Source.Masters], "Mimir and Loki cluster communication (observability)"));
            rules.Add(new("tcp", "3100", [Source.MediaNodes], "Loki, media node logs (observability)"));
            rules.Add(new("tcp", "9009", [Source.MediaNodes], "Mimir, media node metrics (observability)"));
        }
        if (current)
        {
            rules.Add(new("tcp", "4443", [Source.Masters, Source.MediaNodes], "internal traffic to masters on 4443 (OpenVidu 3.2+, v2 compatibility among others)"));
        }
        else if (cluster.HasModule(Modules.V2Compatibility))
        {
            rules.Add(new("tcp", "4443", [Source.MediaNodes], "OpenVidu v2 compatibility service (v2compatibility)"));
        }
        if (!current && cluster.HasModule(Modules.App)) rules.Add(new("tcp", "6080", [Source.MediaNodes], "OpenVidu Call, the default app (app)"));
        rules.Add(new("tcp", "7000:7001", [Source.Masters, Source.MediaNodes], "Redis (internal)"));
        rules.Add(new("tcp", "9100", [Source.Masters, Source.MediaNodes], "MinIO (internal)"));
        rules.Add(new("tcp", "20000", [Source.Masters, Source.MediaNodes], "MongoDB (internal)"));
        if (current)
        {
            rules.Add(new("tcp", "3000", [Source.Masters], "internal master-to-master traffic (OpenVidu 3.2+)"));
            rules.Add(new("tcp", "5000", [Source.Masters], "internal master-to-master traffic (OpenVidu 3.2+)"));
            rules.Add(new("tcp", "9101", [Source.Masters], "internal master-to-master traffic (OpenVidu 3.2+)"));
            rules.Add(new("tcp", "9080", [Source.Masters, Source.MediaNodes], "internal traffic to masters (OpenVidu 3.2+)"));
        }
        return rules;
    }

    /// <summary>The guide's "Port rules (Media Nodes)" plus what the current generation adds.</summary>
    private static List<Rule> MediaRules(ClusterDefinition cluster)
    {
        var current = cluster.Generation == InstallerGeneration.Current;
        // 3.0.x: the load balancer reaches 1935/5349. Current: the masters reach them too (they bridge RTMPS and TURN TLS).
        Source[] lbSources = current ? [Source.LoadBalancer, Source.Masters] : [Source.LoadBalancer];
        var rules = new List<Rule>
        {
            new("udp", "443", [Source.Anywhere], "STUN/TURN over UDP"),
        };
        if (cluster.WebrtcOverTcp) rules.Add(new("tcp", "7881", [Source.Anywhere], "WebRTC over TCP"));
        if (cluster.Whip) rules.Add(new("udp", "7885", [Source.Anywhere], "WebRTC ingest with WHIP"));
        rules.Add(new("udp", "50000:60000", [Source.Anywhere], "WebRTC media"));
        if (current) rules.Add(new("tcp", "50000:60000", [Source.Anywhere], "WebRTC media over TCP (OpenVidu 3.2+)"));
        if (cluster.Rtmp) rules.Add(new("tcp", "1935", lbSources, "RTMP ingest (Ingress); the LB terminates RTMPS"));
        if (cluster.TurnDomainName is not null) rules.Add(new("tcp", "5349", lbSources, "TURN; the LB terminates TLS"));
        rules.Add(new("tcp", "7880", [Source.Masters], "LiveKit API, load balanced by the masters"));
        if (cluster.Whip) rules.Add(new("tcp", "8080", [Source.Masters], "WHIP HTTP service"));
        return rules;
    }

    private static GeneratedArtifact Generate(ClusterDefinition cluster, string name, NodeRole role, List<Rule> rules)
    {
        var roleText = role == NodeRole.Master ? "master" : "media";
        var nodes = role == NodeRole.Master ? cluster.Masters : cluster.MediaNodes;
        var text = new ArtifactText()
            .Line("#!/usr/bin/env bash")
            .Header(cluster, "#", $"Firewall (ufw) for the OpenVidu HA {roleText} nodes.")
            .Line("#")
            .Line($"# Run it as root on each {roleText} node: {string.Join(", ", nodes.Select(n => n.Name))}.")
            .Line("# Ports come from the install guide's port tables; optional ones only where this cluster's modules and options need them.")
            .Line("# Running it again adds missing rules and keeps existing ones; it does not delete rules the cluster no longer needs")
            .Line("# (see ufw status numbered, ufw delete).")
            .Line("set -euo pipefail")
            .Line()
            .Line("if ! command -v ufw >/dev/null 2>&1; then")
            .Line("  echo 'ufw is not installed: apt-get install ufw' >&2")
            .Line("  exit 1")
            .Line("fi")
            .Line();
        var needsLoadBalancer = rules.Any(r => r.From.Contains(Source.LoadBalancer));
        if (needsLoadBalancer && cluster.LoadBalancerIp is null)
        {
            text.Line("# The panel does not know the load balancer's IP (as the nodes see it): give it when running this script.")
                .Line("LB_IP=\"${LB_IP:?set LB_IP to the load balancer IP}\"")
                .Line();
        }
        text.Line("# SSH first, so that enabling the firewall never locks out whoever (or whatever: the panel) runs this script.")
            .Line("# Set SSH_PORT when sshd listens on another port.")
            .Line("SSH_PORT=\"${SSH_PORT:-22}\"")
            .Line("ufw allow \"${SSH_PORT}/tcp\" comment 'SSH: keep remote administration'")
            .Line("ufw default deny incoming")
            .Line("# Outbound stays open: nodes need accounts.openvidu.io:443 (licence check) and public STUN servers.")
            .Line("ufw default allow outgoing");
        foreach (var rule in rules)
        {
            text.Line();
            text.Line($"# {rule.Protocol.ToUpperInvariant()} {rule.Ports.Replace(':', '-')} from {string.Join(" and ", rule.From.Select(Describe))}: {rule.Comment}");
            foreach (var (address, label) in rule.From.SelectMany(source => Addresses(cluster, source)))
            {
                var comment = ShellQuote.Quote($"{rule.Comment}, from {label}");
                text.Line($"ufw allow proto {rule.Protocol} from {address} to any port {rule.Ports} comment {comment}");
            }
        }
        text.Line()
            .Line("ufw --force enable")
            .Line("ufw status verbose");
        return ArtifactCatalog.Create(cluster, name, ContentTypes.ShellScript, text.ToString());
    }

    private static IEnumerable<(string Address, string Label)> Addresses(ClusterDefinition cluster, Source source) => source switch
    {
        Source.LoadBalancer => [(cluster.LoadBalancerIp ?? LoadBalancerVariable, "load balancer")],
        Source.Masters => cluster.Masters.Select(n => (n.PrivateIp, n.Name)),
        Source.MediaNodes => cluster.MediaNodes.Select(n => (n.PrivateIp, n.Name)),
        _ => [("any", "anywhere")],
    };

    private static string Describe(Source source) => source switch
    {
        Source.LoadBalancer => "the load balancer",
        Source.Masters => "master nodes",
        Source.MediaNodes => "media nodes",
        _ => "anywhere",
    };
}
