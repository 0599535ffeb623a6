using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// Where the load balancer (<c>nginx.conf</c>, <c>haproxy.cfg</c>) sends traffic, by installer generation.
/// <list type="bullet">
/// <item>3.0.x, the 3.0 install guide: HTTPS and WebSocket to the masters' 7880; RTMPS (1935) and TURN over TLS (5349)
/// straight to the media nodes, so the configs list the media nodes when RTMP or a TURN domain is on.</item>
/// <item>3.2.0 and later, the current guide: everything to the masters (API as HTTP to 7880, TURN to 5349, RTMPS to
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
}
