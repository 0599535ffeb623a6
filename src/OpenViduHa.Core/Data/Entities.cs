using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Data;

public sealed class ClusterEntity
{
    public int Id { get; set; }
    public required string Name { get; set; }
    public required string OpenviduVersion { get; set; }
    public required string DomainName { get; set; }
    public string? TurnDomainName { get; set; }
    public RtcEngine RtcEngine { get; set; }

    /// <summary>Comma separated, canonical order.</summary>
    public string Modules { get; set; } = "";

    public required string InstallerBaseUrl { get; set; }
    public string? LoadBalancerIp { get; set; }
    public bool Rtmp { get; set; }
    public bool Whip { get; set; }
    public bool WebrtcOverTcp { get; set; } = true;

    /// <summary>Licence and installer secrets as JSON, encrypted with Data Protection.</summary>
    public required string ProtectedSecrets { get; set; }

    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset UpdatedAt { get; set; }
    public List<NodeEntity> Nodes { get; set; } = [];
}

public sealed class NodeEntity
{
    public int Id { get; set; }
    public int ClusterId { get; set; }
    public ClusterEntity? Cluster { get; set; }

    /// <summary>Position in the cluster's node list, as the operator gave it.</summary>
    public int Ordinal { get; set; }

    public required string Name { get; set; }
    public NodeRole Role { get; set; }
    public required string PrivateIp { get; set; }
    public string? PublicIp { get; set; }
    public required string SshHost { get; set; }
    public int SshPort { get; set; } = 22;
    public required string SshUsername { get; set; }
    public bool SshUsesKey { get; set; }
    public string? HostKeyFingerprint { get; set; }

    /// <summary>Private key, passphrase, password and sudo password as JSON, encrypted with Data Protection.</summary>
    public required string ProtectedCredentials { get; set; }
}

public sealed class UserEntity
{
    public int Id { get; set; }
    public required string UserName { get; set; }
    public required string PasswordHash { get; set; }
    public int FailedSignIns { get; set; }
    public DateTimeOffset? LockedUntil { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastSignInAt { get; set; }
}

public sealed class ApiTokenEntity
{
    public int Id { get; set; }
    public required string Name { get; set; }

    /// <summary>SHA-256 of the token, hex: the token itself is shown once and never stored.</summary>
    public required string TokenHash { get; set; }

    /// <summary>The token's first characters, to recognise it in the list.</summary>
    public required string Prefix { get; set; }

    public int UserId { get; set; }
    public UserEntity? User { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

public sealed class AuditEntry
{
    public long Id { get; set; }
    public DateTimeOffset At { get; set; }
    public required string Actor { get; set; }
    public required string Action { get; set; }
    public string? Target { get; set; }
    public string? Detail { get; set; }
    public string? RemoteIp { get; set; }
}
