using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>Every file the panel generates from a cluster, by name. Pure functions: same cluster, same bytes.</summary>
public static class ArtifactCatalog
{
    private static readonly Dictionary<string, Func<ClusterDefinition, GeneratedArtifact>> _generators =
        new Dictionary<string, Func<ClusterDefinition, GeneratedArtifact>>(StringComparer.Ordinal)
        {
            [InstallCommandsArtifact.Name] = InstallCommandsArtifact.Generate,
            [FirewallArtifact.MasterName] = FirewallArtifact.GenerateMaster,
            [FirewallArtifact.MediaName] = FirewallArtifact.GenerateMedia,
            [NginxArtifact.Name] = NginxArtifact.Generate,
            [HaproxyArtifact.Name] = HaproxyArtifact.Generate,
            [CredentialsArtifact.EnvName] = CredentialsArtifact.GenerateEnv,
            [CredentialsArtifact.JsonName] = CredentialsArtifact.GenerateJson,
        };

    /// <summary>The artifact names, in the order the UI lists them.</summary>
    public static IReadOnlyList<string> Names { get; } =
    [
        InstallCommandsArtifact.Name,
        FirewallArtifact.MasterName,
        FirewallArtifact.MediaName,
        NginxArtifact.Name,
        HaproxyArtifact.Name,
        CredentialsArtifact.EnvName,
        CredentialsArtifact.JsonName,
    ];

    public static bool IsKnown(string name) => name is not null && _generators.ContainsKey(name);

    /// <summary>
    /// Whether the file carries secret values (the licence, the installer's passwords, the applications' credentials):
    /// the UI marks it, and its downloads are audited as credential downloads.
    /// </summary>
    public static bool HoldsSecrets(string name) =>
        name is InstallCommandsArtifact.Name or CredentialsArtifact.EnvName or CredentialsArtifact.JsonName;

    /// <summary>One sentence for the operator: what the file is and where it goes.</summary>
    public static string Describe(string name) => name switch
    {
        InstallCommandsArtifact.Name => "Each node's non-interactive install command: run it as root on the node with the node's name.",
        FirewallArtifact.MasterName => "ufw rules for the master nodes: the guide's port table for this cluster's modules and options.",
        FirewallArtifact.MediaName => "ufw rules for the media nodes: WebRTC, TURN and the optional ingest ports.",
        NginxArtifact.Name => "NGINX as the load balancer, TLS terminated by NGINX; its comments say which port goes where (3.2 and later: only the masters).",
        HaproxyArtifact.Name => "The same load balancer for HAProxy, with health checks of the masters.",
        CredentialsArtifact.EnvName => "URLs, users and passwords for applications and operators, as environment variables.",
        CredentialsArtifact.JsonName => "The same credentials as JSON.",
        _ => throw new ArgumentException($"Unknown artifact '{ArtifactText.OneLine(name)}'.", nameof(name)),
    };

    /// <exception cref="ArgumentException">The name is unknown, or the cluster holds a value that cannot go into the file.</exception>
    public static GeneratedArtifact Generate(ClusterDefinition cluster, string name)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        ArgumentNullException.ThrowIfNull(name);
        if (!_generators.TryGetValue(name, out var generate))
            throw new ArgumentException($"Unknown artifact '{ArtifactText.OneLine(name)}'. Known: {string.Join(", ", Names)}.", nameof(name));
        ArtifactInput.Check(cluster);
        return generate(cluster);
    }

    internal static GeneratedArtifact Create(ClusterDefinition cluster, string name, string contentType, string content) =>
        new(name, $"{ArtifactInput.FileNamePart(cluster.Name)}-{name}", contentType, content);
}
