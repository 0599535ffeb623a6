namespace OpenViduHa.Core.Clusters;

/// <summary>
/// A cluster as an operator writes it: the API's request body and the wizard's model. Everything is nullable so that a
/// missing value is reported by <see cref="ClusterValidator"/> at its field rather than by the JSON reader.
/// </summary>
public sealed class ClusterSpec
{
    public string? Name { get; set; }
    public string? OpenviduVersion { get; set; }
    public string? DomainName { get; set; }
    public string? TurnDomainName { get; set; }
    public string? LicenseKey { get; set; }
    public string? RtcEngine { get; set; } = "pion";
    public List<string>? Modules { get; set; }
    public string? InstallerBaseUrl { get; set; } = ClusterDefaults.InstallerBaseUrl;

    /// <summary>
    /// Pinned SHA-256 of the installer scripts: a node refuses to run a script that differs. Left out of an update, the
    /// stored pins stay (a change of version or base URL clears them); an empty value removes a pin.
    /// </summary>
    public InstallerSha256Spec? InstallerSha256 { get; set; }

    /// <summary>The load balancer's IPv4 as the nodes see it: the source of its firewall rules. Optional.</summary>
    public string? LoadBalancerIp { get; set; }

    public ClusterOptionsSpec? Options { get; set; }

    /// <summary>Installer secrets by key (<see cref="Secrets.SecretCatalog"/>); missing ones are generated.</summary>
    public Dictionary<string, string?>? Secrets { get; set; }

    public List<NodeSpec>? Nodes { get; set; }

    /// <summary>
    /// The stored revision this spec was read at (<see cref="ClusterService.GetSpecAsync"/>), for a later save to check.
    /// Never part of a request body: the API takes it from <c>If-Match</c>.
    /// </summary>
    [System.Text.Json.Serialization.JsonIgnore]
    public int? Revision { get; set; }
}

/// <summary>Optional traffic the load balancer and firewalls open.</summary>
public sealed class ClusterOptionsSpec
{
    /// <summary>RTMP ingest through the load balancer (RTMPS on 1935).</summary>
    public bool Rtmp { get; set; }

    /// <summary>WHIP ingest (UDP 7885 and TCP 8080 on media nodes).</summary>
    public bool Whip { get; set; }

    /// <summary>WebRTC over TCP (TCP 7881 on media nodes).</summary>
    public bool WebrtcOverTcp { get; set; } = true;
}

/// <summary>The SHA-256 (64 hex digits, as <c>sha256sum</c> prints it) the master and media installer scripts must have.</summary>
public sealed class InstallerSha256Spec
{
    public string? Master { get; set; }
    public string? Media { get; set; }
}

public sealed class NodeSpec
{
    /// <summary>Set when the node already exists (update); its stored SSH secrets are kept when the body omits them.</summary>
    public int? Id { get; set; }

    public string? Role { get; set; }
    public string? PrivateIp { get; set; }
    public string? PublicIp { get; set; }
    public SshSpec? Ssh { get; set; }
}

public sealed class SshSpec
{
    public string? Host { get; set; }
    public int? Port { get; set; } = 22;
    public string? Username { get; set; } = "root";
    public string? PrivateKey { get; set; }
    public string? PrivateKeyPassphrase { get; set; }
    public string? Password { get; set; }
    public string? SudoPassword { get; set; }
    public string? HostKeyFingerprint { get; set; }

    /// <summary>
    /// A stored node of the same cluster (<c>media-1</c>) whose key or password, passphrase and sudo password this node
    /// uses, instead of giving them again: how a node added later signs in like the others. Host, port, user and host key
    /// stay this node's own.
    /// </summary>
    public string? SameAs { get; set; }
}

public static class ClusterDefaults
{
    public const string InstallerBaseUrl = "https://get.openvidu.io";
    public const int MasterCount = 4;
    public const int RecommendedMediaNodes = 2;
}
