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

    internal static GeneratedArtifact GenerateMaster(ClusterDefinition cluster) =>
        Generate(cluster, MasterName, NodeRole.Master, PortRules.For(cluster, NodeRole.Master));

    internal static GeneratedArtifact GenerateMedia(ClusterDefinition cluster) =>
        Generate(cluster, MediaName, NodeRole.Media, PortRules.For(cluster, NodeRole.Media));

    private static GeneratedArtifact Generate(ClusterDefinition cluster, string name, NodeRole role, IReadOnlyList<PortRule> rules)
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
        var needsLoadBalancer = rules.Any(r => r.From.Contains(PortSource.LoadBalancer));
        if (needsLoadBalancer && cluster.LoadBalancerIp is null)
        {
            text.Line("# The panel does not know the load balancer's IP (as the nodes see it): give it when running this script.")
                .Line("LB_IP=\"${LB_IP:?set LB_IP to the load balancer IP}\"")
                .Line();
        }
        text.Line("# SSH first, so that enabling the firewall never locks out whoever (or whatever: the panel) runs this script.");
        SshPort(text, nodes);
        text.Line("ufw allow \"${SSH_PORT}/tcp\" comment 'SSH: keep remote administration'")
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

    /// <summary>
    /// The port the panel reaches each node's sshd on (SSH_PORT overrides it, e.g. when a NAT in between maps another
    /// port). One port for every node of the role is written as the default; several are told apart by the node's own
    /// addresses, so one script still serves every node of the role.
    /// </summary>
    private static void SshPort(ArtifactText text, IEnumerable<NodeDefinition> nodes)
    {
        var ports = nodes.Select(n => n.SshPort).Distinct().ToList();
        if (ports.Count == 1)
        {
            text.Line($"# The panel reaches sshd on port {ports[0]}; set SSH_PORT if the node's sshd listens on another one (a NAT in between).")
                .Line($"SSH_PORT=\"${{SSH_PORT:-{ports[0]}}}\"");
            return;
        }
        text.Line("# The panel reaches each node's sshd on its own port: found by the node's addresses (SSH_PORT overrides).")
            .Line("if [ -z \"${SSH_PORT:-}\" ]; then")
            .Line("  for address in $(hostname -I 2>/dev/null); do")
            .Line("    case \"$address\" in");
        foreach (var node in nodes) text.Line($"      {node.PrivateIp}) SSH_PORT={node.SshPort} ;; # {node.Name}");
        text.Line("    esac")
            .Line("  done")
            .Line("fi")
            .Line("SSH_PORT=\"${SSH_PORT:?this machine has no private IP of these nodes: set SSH_PORT to its sshd port}\"");
    }

    private static IEnumerable<(string Address, string Label)> Addresses(ClusterDefinition cluster, PortSource source) => source switch
    {
        PortSource.LoadBalancer => [(cluster.LoadBalancerIp ?? LoadBalancerVariable, "load balancer")],
        PortSource.Masters => cluster.Masters.Select(n => (n.PrivateIp, n.Name)),
        PortSource.MediaNodes => cluster.MediaNodes.Select(n => (n.PrivateIp, n.Name)),
        _ => [("any", "anywhere")],
    };

    private static string Describe(PortSource source) => source switch
    {
        PortSource.LoadBalancer => "the load balancer",
        PortSource.Masters => "master nodes",
        PortSource.MediaNodes => "media nodes",
        _ => "anywhere",
    };
}
