using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Status;

/// <summary>A node the collector watches: an installed node with a confirmed host key.</summary>
public sealed record WatchedNode(int Id, string Name, NodeRole Role, string PrivateIp);

/// <summary>
/// Which port checks a sweep runs, from the same port rules the firewall scripts are generated from
/// (<see cref="PortRules"/>): ports masters must reach are checked from every other master, ports media nodes must reach
/// from every media node (both from the node itself), ports the load balancer or anyone must reach from the panel (it
/// stands where the load balancer would be). Every node's health endpoint is requested by the panel. Wide ranges
/// (WebRTC's 50000-60000) and UDP are not checked.
/// </summary>
public sealed class PortPlan
{
    public const string Panel = "panel";

    private readonly Dictionary<int, List<ProbeTarget>> _fromNode = [];
    private readonly Dictionary<int, List<int>> _fromPanel = [];
    private readonly Dictionary<int, List<(int Port, WatchedNode Source)>> _expected = [];
    private HashCode _signature;
    private int _checks;

    public PortPlan(ClusterDefinition cluster, IReadOnlyList<WatchedNode> nodes)
    {
        foreach (var node in nodes)
        {
            _fromNode[node.Id] = [];
            _fromPanel[node.Id] = [];
            _expected[node.Id] = [];
        }
        // Built every sweep: per role once, not per node (1,000 nodes would make it quadratic).
        var byRole = nodes.ToLookup(n => n.Role);
        var rules = new[] { NodeRole.Master, NodeRole.Media }.ToDictionary(r => r, r => PortRules.For(cluster, r).Where(x => x.Protocol == "tcp").ToList());
        foreach (var target in nodes)
        {
            var bySource = new Dictionary<int, SortedSet<int>>();
            foreach (var rule in rules[target.Role])
            {
                foreach (var port in rule.SinglePorts())
                {
                    foreach (var from in rule.From)
                    {
                        if (from is PortSource.LoadBalancer or PortSource.Anywhere)
                        {
                            if (port != HealthPort && !_fromPanel[target.Id].Contains(port)) _fromPanel[target.Id].Add(port);
                            continue;
                        }
                        var role = from == PortSource.Masters ? NodeRole.Master : NodeRole.Media;
                        foreach (var source in byRole[role])
                        {
                            if (source.Id == target.Id) continue;
                            if (!bySource.TryGetValue(source.Id, out var set)) bySource[source.Id] = set = [];
                            if (set.Add(port)) _expected[target.Id].Add((port, source));
                        }
                    }
                }
            }
            foreach (var (sourceId, ports) in bySource)
            {
                _fromNode[sourceId].Add(new ProbeTarget(target.PrivateIp, ports.ToList()));
                foreach (var port in ports) Sign(sourceId, target.PrivateIp, port);
            }
            _fromPanel[target.Id].Sort();
            foreach (var port in _fromPanel[target.Id]) Sign(0, target.PrivateIp, port);
        }
    }

    private void Sign(int source, string ip, int port)
    {
        _signature.Add(source);
        _signature.Add(ip);
        _signature.Add(port);
        _checks++;
    }

    /// <summary>
    /// The plan's checks in one value (a hash of every source, address and port, and their number): two plans with the same
    /// signature ask for the same checks, so a sweep need not look for answers the plan no longer asks for.
    /// </summary>
    public (int Hash, int Checks) Signature => (_signature.ToHashCode(), _checks);

    public const int HealthPort = 7880;

    /// <summary>The role's health endpoint (facts file): masters <c>/health/caddy</c>, media nodes <c>/</c>, both on 7880.</summary>
    public static string HealthPath(NodeRole role) => role == NodeRole.Master ? "/health/caddy" : "/";

    /// <summary>What <paramref name="nodeId"/> checks toward the other nodes, from the node itself.</summary>
    public IReadOnlyList<ProbeTarget> FromNode(int nodeId) => _fromNode.GetValueOrDefault(nodeId) ?? [];

    /// <summary>TCP ports of <paramref name="nodeId"/> the panel connects to (besides the health endpoint).</summary>
    public IReadOnlyList<int> FromPanel(int nodeId) => _fromPanel.GetValueOrDefault(nodeId) ?? [];

    /// <summary>Every node-to-node check toward <paramref name="nodeId"/>: port and the node it is run from.</summary>
    public IReadOnlyList<(int Port, WatchedNode Source)> Expected(int nodeId) => _expected.GetValueOrDefault(nodeId) ?? [];
}
