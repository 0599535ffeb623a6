using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Artifacts;

/// <summary>Every file the panel generates from a cluster, by name. Pure functions: same cluster, same bytes.</summary>
public static class ArtifactCatalog
{
    private static readonly IReadOnlyDictionary<string, Func<ClusterDefinition, GeneratedArtifact>> _generators =
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
