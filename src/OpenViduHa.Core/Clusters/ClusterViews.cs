using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Clusters;

/// <param name="InstalledNodes">Nodes installed so far (0: the cluster is not installed, and has no health to show).</param>
public sealed record ClusterSummary(int Id, string Name, string OpenviduVersion, string DomainName, int Masters, int MediaNodes, DateTimeOffset UpdatedAt, int InstalledNodes);

/// <summary>A stored cluster as the API and UI show it: every secret left out, only whether it is set.</summary>
public sealed record ClusterView(
    int Id,
    string Name,
    string OpenviduVersion,
    string Generation,
    string DomainName,
    string? TurnDomainName,
    bool LicenseKeySet,
    string RtcEngine,
    IReadOnlyList<string> Modules,
    string InstallerBaseUrl,
    string? LoadBalancerIp,
    ClusterOptionsSpec Options,
    IReadOnlyList<string> Secrets,
    IReadOnlyList<NodeView> Nodes,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt)
{
    /// <summary>The definition's revision: counts its changes and the starts of jobs that change the cluster; the ETag.</summary>
    public int Revision { get; init; }

    /// <summary>The SHA-256 each installer script must have; null members are not pinned.</summary>
    public InstallerSha256View InstallerSha256 { get; init; } = new(null, null);

    /// <summary>What the last fetch-installer-digests job read through a node, for the operator to pin; null before any.</summary>
    public FetchedInstallerSha256View? FetchedInstallerSha256 { get; init; }
}

public sealed record InstallerSha256View(string? Master, string? Media);

public sealed record FetchedInstallerSha256View(string? Master, string? Media, DateTimeOffset FetchedAt, string Via);

public sealed record NodeView(int Id, string Name, NodeRole Role, string PrivateIp, string? PublicIp, SshView Ssh)
{
    /// <summary>What the host presented on first contact or at a mismatch, waiting for the operator's decision.</summary>
    public string? PresentedHostKeyFingerprint { get; init; }

    public DateTimeOffset? InstalledAt { get; init; }
}

public sealed record SshView(string Host, int Port, string Username, string Auth, bool HasSudoPassword, string? HostKeyFingerprint);

/// <summary>What is stored encrypted for a cluster.</summary>
internal sealed record ClusterSecretsPayload(string LicenseKey, Dictionary<string, string> Secrets);

internal static class SecretNames
{
    public static IReadOnlyList<string> For(IReadOnlyDictionary<string, string> secrets) =>
        SecretCatalog.All.Where(d => secrets.ContainsKey(d.Key)).Select(d => d.Key).ToList();
}
