using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Tests;

/// <summary>
/// Deterministic clusters for tests: fixed fake secrets, masters 10.5.0.1-4, media 10.5.0.11-12 with public IPs
/// 203.0.113.11-12 (a documentation range). The addresses are text in generated files; tests never contact them.
/// Variants are <c>with</c> expressions on the full cluster.
/// </summary>
internal static class TestClusters
{
    public const string Name = "prod";
    public const string Domain = "openvidu.example.io";
    public const string TurnDomain = "turn.example.io";
    public const string LoadBalancerIp = "10.5.0.100";
    public const string License = "FakeLicenseForTestsOnly0123456789";

    public static readonly string[] MasterIps = ["10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4"];
    public static readonly string[] MediaIps = ["10.5.0.11", "10.5.0.12"];
    public static readonly string[] MediaPublicIps = ["203.0.113.11", "203.0.113.12"];

    /// <summary>Everything on: all three modules, TURN domain, RTMP, WHIP, WebRTC over TCP, known load balancer IP.</summary>
    public static ClusterDefinition Full(string version)
    {
        if (!OpenViduVersion.TryParse(version, out var parsed)) throw new ArgumentException($"Bad version {version}", nameof(version));
        return new ClusterDefinition
        {
            Name = Name,
            Version = parsed,
            DomainName = Domain,
            TurnDomainName = TurnDomain,
            LicenseKey = License,
            RtcEngine = RtcEngine.Pion,
            Modules = Modules.For(parsed.Generation),
            InstallerBaseUrl = ClusterDefaults.InstallerBaseUrl,
            LoadBalancerIp = LoadBalancerIp,
            Rtmp = true,
            Whip = true,
            WebrtcOverTcp = true,
            Secrets = FakeSecrets(parsed.Generation),
            Nodes = Nodes(MasterIps, MediaIps, MediaPublicIps),
        };
    }

    /// <summary>Everything optional off: no modules, no TURN, RTMP, WHIP or WebRTC over TCP, no LB IP, no public IPs.</summary>
    public static ClusterDefinition Minimal(string version) => Full(version) with
    {
        TurnDomainName = null,
        Modules = [],
        Rtmp = false,
        Whip = false,
        WebrtcOverTcp = false,
        LoadBalancerIp = null,
        Nodes = Nodes(MasterIps, MediaIps, null),
    };

    public static ClusterDefinition NoTurn(string version) => Full(version) with { TurnDomainName = null };

    public static ClusterDefinition WithoutModule(ClusterDefinition cluster, string module) =>
        cluster with { Modules = cluster.Modules.Where(m => m != module).ToList() };

    public static ClusterDefinition WithSecret(ClusterDefinition cluster, string key, string value) =>
        cluster with { Secrets = new Dictionary<string, string>(cluster.Secrets) { [key] = value } };

    /// <summary>The full cluster on loopback addresses only, for tests that run a real load balancer against it.</summary>
    public static ClusterDefinition OnLoopback(string version, string[] masterIps, string[] mediaIps) =>
        Full(version) with { LoadBalancerIp = null, Nodes = Nodes(masterIps, mediaIps, null) };

    public static IReadOnlyList<NodeDefinition> Nodes(string[] masterIps, string[] mediaIps, string[]? mediaPublicIps) =>
    [
        .. masterIps.Select((ip, i) => new NodeDefinition($"master-{i + 1}", NodeRole.Master, ip, null)),
        .. mediaIps.Select((ip, i) => new NodeDefinition($"media-{i + 1}", NodeRole.Media, ip, mediaPublicIps?[i])),
    ];

    /// <summary>
    /// One fixed value per secret: identities take the catalog's default, the API key is API + 12 characters, every other
    /// secret is 44 alphanumeric characters starting with a readable name (e.g. <c>LivekitApiSecret0123...</c>).
    /// </summary>
    public static IReadOnlyDictionary<string, string> FakeSecrets(InstallerGeneration generation) =>
        SecretCatalog.For(generation).ToDictionary(d => d.Key, d => d.Kind switch
        {
            SecretKind.ApiKey => "APIFakeKey0001",
            SecretKind.Identity => d.Default ?? d.Key,
            _ => FakeSecret(d.Key),
        });

    public static string FakeSecret(string key)
    {
        const string filler = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ";
        var name = char.ToUpperInvariant(key[0]) + key[1..];
        return (name + filler)[..SecretCatalog.GeneratedLength];
    }
}
