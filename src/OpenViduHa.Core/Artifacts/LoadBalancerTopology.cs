using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// Where the load balancer (<c>nginx.conf</c>, <c>haproxy.cfg</c>) sends traffic, by installer generation.
/// <list type="bullet">
/// <item>3.0.x, the 3.0 install guide: HTTPS and WebSocket to the masters' 7880; RTMPS (1935) and TURN over TLS (5349)
/// straight to the media nodes, so the configs list the media nodes when RTMP or a TURN domain is on.</item>
/// <item>3.4.0 and later, the current guide: everything to the masters (API as HTTP to 7880, TURN to 5349, RTMPS to
/// 1945); the masters reach the media nodes themselves. The configs never list a media node.</item>
/// </list>
/// </summary>
public static class LoadBalancerTopology
{
    /// <summary>Whether the load balancer configs name media nodes, so that adding or removing one changes them.</summary>
    public static bool ListsMediaNodes(InstallerGeneration generation, bool rtmp, bool turnDomain) =>
        generation == InstallerGeneration.V30 && (rtmp || turnDomain);

    public static bool ListsMediaNodes(ClusterDefinition cluster) =>
        ListsMediaNodes(cluster.Generation, cluster.Rtmp, cluster.TurnDomainName is not null);

    /// <summary>
    /// The header lines of <c>nginx.conf</c> and <c>haproxy.cfg</c> that say whether the file follows the media nodes:
    /// <paramref name="reload"/> names the program and its reload command.
    /// </summary>
    internal static void MediaNodesNote(ArtifactText text, ClusterDefinition cluster, string reload)
    {
        if (cluster.Generation == InstallerGeneration.Current)
        {
            text.Line("# Media nodes are not listed: the masters reach their 1935, 5349, 7880 and 8080 themselves. So this file stays the")
                .Line("# same when media nodes are added or removed; only the masters, the domains and the RTMP option change it.");
        }
        else if (ListsMediaNodes(cluster))
        {
            text.Line("# This file lists the media nodes: after adding or removing one, download it again from the panel, put it in place")
                .Line($"# and reload {reload}.");
        }
        else
        {
            text.Line("# This file lists no media node (no RTMP, no TURN domain). With either on it lists them, and must then be")
                .Line("# downloaded again and reloaded after every media node added or removed.");
        }
    }
}
