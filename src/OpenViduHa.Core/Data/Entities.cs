using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Core.Data;

public sealed class ClusterEntity
{
    public int Id { get; set; }

    /// <summary>
    /// Counts the definition's changes (and the starts of jobs that change the cluster): the API's ETag, and the
    /// concurrency token every save checks, so two writers can never both win on one read.
    /// </summary>
    public int Revision { get; set; }

    public required string Name { get; set; }
    public required string OpenviduVersion { get; set; }
    public required string DomainName { get; set; }
    public string? TurnDomainName { get; set; }
    public RtcEngine RtcEngine { get; set; }

    /// <summary>Comma separated, canonical order.</summary>
    public string Modules { get; set; } = "";

    public required string InstallerBaseUrl { get; set; }

    /// <summary>Pinned SHA-256 of the master / media installer script (lowercase hex), null when not pinned.</summary>
    public string? MasterInstallerSha256 { get; set; }
    public string? MediaInstallerSha256 { get; set; }

    /// <summary>What a fetch-installer-digests job read through a node, waiting for the operator to pin it. Never trusted as is.</summary>
    public string? FetchedMasterInstallerSha256 { get; set; }
    public string? FetchedMediaInstallerSha256 { get; set; }
    public DateTimeOffset? InstallerSha256FetchedAt { get; set; }

    /// <summary>The node the digests were fetched through.</summary>
    public string? InstallerSha256FetchedVia { get; set; }

    public string? LoadBalancerIp { get; set; }
    public bool Rtmp { get; set; }
    public bool Whip { get; set; }
    public bool WebrtcOverTcp { get; set; } = true;

    /// <summary>Licence and installer secrets as JSON, encrypted with Data Protection.</summary>
    public required string ProtectedSecrets { get; set; }

    /// <summary>
    /// New secret values a reconfigure job is putting on the nodes, encrypted like <see cref="ProtectedSecrets"/>: kept
    /// from before the first node is written until every node took them (then they become the cluster's) or the job
    /// rolled them back, so that a retry after a crash writes the same values. Null when no reconfigure is under way.
    /// </summary>
    public string? ProtectedPendingSecrets { get; set; }


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

    /// <summary>What the host presented on first contact, waiting for the operator to confirm it. Never trusted as is.</summary>
    public string? PresentedHostKeyFingerprint { get; set; }

    /// <summary>When the installer last completed on this node.</summary>
    public DateTimeOffset? InstalledAt { get; set; }

    /// <summary>Since when a remove-node job has been taking this media node out of the cluster (null: not leaving).</summary>
    public DateTimeOffset? LeavingSince { get; set; }

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

    /// <summary>What the token may do; tokens made before scopes existed could do everything, and stay admin.</summary>
    public TokenScope Scope { get; set; } = TokenScope.Admin;

    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>After this the token no longer signs anything in; null: until revoked.</summary>
    public DateTimeOffset? ExpiresAt { get; set; }

    public DateTimeOffset? LastUsedAt { get; set; }
    public DateTimeOffset? RevokedAt { get; set; }
}

/// <summary>
/// One sign-in of a person in a browser: the cookie carries its id, so signing out, or revoking it from another
/// browser, ends it on the server too (requests and live pages) instead of waiting for the cookie to expire.
/// </summary>
public sealed class SessionEntity
{
    /// <summary>Random, 32 hex digits.</summary>
    public required string Id { get; set; }

    public int UserId { get; set; }
    public UserEntity? User { get; set; }
    public DateTimeOffset CreatedAt { get; set; }

    /// <summary>The last request or live-page check seen with it (kept to the minute).</summary>
    public DateTimeOffset LastSeenAt { get; set; }

    public DateTimeOffset? EndedAt { get; set; }

    /// <summary>Why it ended: "signed out", "revoked by admin", …</summary>
    public string? EndReason { get; set; }

    public string? RemoteIp { get; set; }

    /// <summary>The browser's User-Agent, cut short: to recognise the session in the list.</summary>
    public string? UserAgent { get; set; }
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

public sealed class JobEntity
{
    public int Id { get; set; }
    public int ClusterId { get; set; }
    public Jobs.JobKind Kind { get; set; }

    /// <summary>The node a single-node job acts on.</summary>
    public int? NodeId { get; set; }

    public Jobs.JobState State { get; set; }
    public required string CreatedBy { get; set; }
    public DateTimeOffset CreatedAt { get; set; }
    public DateTimeOffset? StartedAt { get; set; }
    public DateTimeOffset? FinishedAt { get; set; }
    public string? Message { get; set; }

    /// <summary>The job this one retries (its failed nodes only).</summary>
    public int? RetryOfJobId { get; set; }

    /// <summary>Set by the cancel call; the runner sees it between steps and through its token.</summary>
    public bool CancelRequested { get; set; }

    /// <summary>The panel instance (<see cref="PanelInstanceEntity"/>) that runs it, set as it starts: when that instance stops beating, the job is interrupted.</summary>
    public string? RunningOn { get; set; }

    /// <summary><see cref="Jobs.JobParameters"/> as JSON (an upgrade's target version); null when the kind takes none.</summary>
    public string? Parameters { get; set; }

    public List<JobNodeEntity> Nodes { get; set; } = [];
}

public sealed class JobNodeEntity
{
    public int Id { get; set; }
    public int JobId { get; set; }
    public int NodeId { get; set; }
    public required string NodeName { get; set; }
    public Jobs.NodeJobState State { get; set; }
    public string? Message { get; set; }

    /// <summary>Structured results (preflight checks, credential comparison) as JSON. Never secret values.</summary>
    public string? Details { get; set; }

    public DateTimeOffset UpdatedAt { get; set; }
}

public sealed class JobLogLine
{
    public long Id { get; set; }
    public int JobId { get; set; }

    /// <summary>1, 2, 3… per job: a view that reconnects asks for lines after the last number it has.</summary>
    public int Seq { get; set; }

    public DateTimeOffset At { get; set; }
    public string? NodeName { get; set; }
    public required string Text { get; set; }
}

/// <summary>
/// A node's verdict (or, without a node, the cluster's) changed. Written only on change, never once per sweep: the
/// collector keeps the full picture in memory.
/// </summary>
public sealed class StatusChangeEntity
{
    public long Id { get; set; }
    public int ClusterId { get; set; }
    public int? NodeId { get; set; }
    public DateTimeOffset At { get; set; }

    /// <summary>green, amber, red, unknown for a node; healthy, degraded, down, unknown for the cluster.</summary>
    public required string Health { get; set; }

    public required string Reason { get; set; }
}

/// <summary>
/// A cluster's port matrix answers (<see cref="Status.PortResults"/>), saved so that a restarted panel keeps its port
/// tier instead of running every node-to-node check at once on its first sweep. One row per cluster.
/// </summary>
public sealed class PortAnswersEntity
{
    public int ClusterId { get; set; }

    /// <summary>The newest finished changing job when the answers were saved: a later one makes them stale.</summary>
    public int? LastJobId { get; set; }

    public DateTimeOffset SavedAt { get; set; }

    /// <summary>The answers, JSON (<see cref="Status.PortResults.Saved"/>).</summary>
    public required string Cells { get; set; }
}

/// <summary>
/// One running panel process. Every instance sharing the database beats here (<see cref="Instances.InstanceMonitor"/>);
/// one that stopped beating is gone, and so are the jobs it ran.
/// </summary>
public sealed class PanelInstanceEntity
{
    /// <summary>Random, 16 hex digits, new at every start.</summary>
    public required string Id { get; set; }

    public required string Host { get; set; }
    public DateTimeOffset StartedAt { get; set; }
    public DateTimeOffset LastSeenAt { get; set; }

    /// <summary>Whether it sweeps clusters (<c>Status:Enabled</c>): the clusters are shared out among these.</summary>
    public bool Sweeps { get; set; }
}

/// <summary>
/// Which instance sweeps a cluster (<see cref="Status.SweepOwnership"/>): held while renewed before
/// <see cref="ExpiresAt"/>, taken by another instance once it passed. One row per cluster that has an owner.
/// </summary>
public sealed class SweepLeaseEntity
{
    public int ClusterId { get; set; }

    /// <summary>The <see cref="PanelInstanceEntity.Id"/> that holds it.</summary>
    public required string Owner { get; set; }

    public DateTimeOffset ExpiresAt { get; set; }
}

/// <summary>The latest status of a cluster as its sweeping instance published it, for the other instances' pages and API.</summary>
public sealed class StatusSnapshotEntity
{
    public int ClusterId { get; set; }
    public required string Owner { get; set; }
    public DateTimeOffset SweptAt { get; set; }

    /// <summary><see cref="Status.ClusterStatus"/> as JSON (no secret: what the status API shows).</summary>
    public required string Json { get; set; }
}
