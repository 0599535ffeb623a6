using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Clusters;

/// <summary>A validated cluster: what artifacts are generated from and what jobs install. No SSH secrets here.</summary>
public sealed record ClusterDefinition
{
    public required string Name { get; init; }
    public required OpenViduVersion Version { get; init; }
    public required string DomainName { get; init; }
    public string? TurnDomainName { get; init; }
    public required string LicenseKey { get; init; }
    public required RtcEngine RtcEngine { get; init; }

    /// <summary>Enabled modules, in the generation's canonical order.</summary>
    public required IReadOnlyList<string> Modules { get; init; }

    public required string InstallerBaseUrl { get; init; }

    /// <summary>The pinned SHA-256 (64 lowercase hex digits) of the master installer script, or null: not checked.</summary>
    public string? MasterInstallerSha256 { get; init; }

    /// <summary>The pinned SHA-256 of the media installer script, or null.</summary>
    public string? MediaInstallerSha256 { get; init; }

    public string? LoadBalancerIp { get; init; }
    public bool Rtmp { get; init; }
    public bool Whip { get; init; }
    public bool WebrtcOverTcp { get; init; } = true;

    /// <summary>Every secret of the generation, by <see cref="SecretCatalog"/> key.</summary>
    public required IReadOnlyDictionary<string, string> Secrets { get; init; }

    public required IReadOnlyList<NodeDefinition> Nodes { get; init; }

    public InstallerGeneration Generation => Version.Generation;
    public IEnumerable<NodeDefinition> Masters => Nodes.Where(n => n.Role == NodeRole.Master);
    public IEnumerable<NodeDefinition> MediaNodes => Nodes.Where(n => n.Role == NodeRole.Media);
    public bool HasModule(string module) => Modules.Contains(module, StringComparer.Ordinal);
    public bool HasDefaultApp => HasModule(Clusters.Modules.DefaultApp(Generation));
    public string Secret(string key) => Secrets[key];
    public string? InstallerSha256(NodeRole role) => role == NodeRole.Master ? MasterInstallerSha256 : MediaInstallerSha256;

    /// <summary>The masters' private IPs, comma separated, in master order: never changes after install.</summary>
    public string MasterIpList => string.Join(',', Masters.Select(m => m.PrivateIp));

    /// <summary>No licence, no secrets: a record's generated ToString would print them into any log that formats it.</summary>
    public override string ToString() => $"ClusterDefinition {{ {Name}, OpenVidu {Version}, {DomainName}, {Nodes.Count} nodes }}";
}

/// <summary>A node as artifacts see it. <see cref="Name"/> is <c>master-1</c>..<c>master-4</c>, <c>media-1</c>...</summary>
public sealed record NodeDefinition(string Name, NodeRole Role, string PrivateIp, string? PublicIp)
{
    /// <summary>The port the panel reaches the node's sshd on: the firewall keeps it open.</summary>
    public int SshPort { get; init; } = 22;
}
