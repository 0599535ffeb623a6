using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Security;

namespace OpenViduHa.Core.Clusters;

/// <summary>Creates, changes and reads clusters. Every write validates first and commits in one transaction.</summary>
public sealed class ClusterService(
    IDbContextFactory<PanelDbContext> dbFactory,
    SecretProtector protector,
    AuditLog audit,
    TimeProvider clock,
    ILogger<ClusterService> logger,
    ClusterOptions? options = null)
{
    private readonly int _maxNodes = options?.MaxNodes ?? ClusterValidator.DefaultMaxNodes;

    public async Task<IReadOnlyList<ClusterSummary>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.Clusters.AsNoTracking()
            .Select(c => new
            {
                c.Id, c.Name, c.OpenviduVersion, c.DomainName, c.UpdatedAt,
                Masters = c.Nodes.Count(n => n.Role == NodeRole.Master),
                Media = c.Nodes.Count(n => n.Role == NodeRole.Media),
                Installed = c.Nodes.Count(n => n.InstalledAt != null),
            })
            .ToListAsync(ct);
        return rows.OrderBy(r => r.Name, StringComparer.Ordinal)
            .Select(r => new ClusterSummary(r.Id, r.Name, r.OpenviduVersion, r.DomainName, r.Masters, r.Media, r.UpdatedAt, r.Installed))
            .ToList();
    }

    public async Task<ClusterView?> GetAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await LoadAsync(db, id, tracking: false, ct);
        if (cluster is null) return null;
        var secrets = protector.Unprotect<ClusterSecretsPayload>(cluster.ProtectedSecrets);
        return new ClusterView(
            cluster.Id, cluster.Name, cluster.OpenviduVersion,
            OpenViduVersion.TryParse(cluster.OpenviduVersion, out var v) ? v.Generation.ToString() : "unknown",
            cluster.DomainName, cluster.TurnDomainName, !string.IsNullOrEmpty(secrets.LicenseKey),
            cluster.RtcEngine.ToString().ToLowerInvariant(), SplitModules(cluster.Modules), cluster.InstallerBaseUrl,
            cluster.LoadBalancerIp,
            new ClusterOptionsSpec { Rtmp = cluster.Rtmp, Whip = cluster.Whip, WebrtcOverTcp = cluster.WebrtcOverTcp },
            SecretNames.For(secrets.Secrets),
            cluster.Nodes.Select(n => new NodeView(n.Id, n.Name, n.Role, n.PrivateIp, n.PublicIp,
                new SshView(n.SshHost, n.SshPort, n.SshUsername, n.SshUsesKey ? "key" : "password",
                    !string.IsNullOrEmpty(protector.Unprotect<SshCredentials>(n.ProtectedCredentials).SudoPassword), n.HostKeyFingerprint))
            {
                PresentedHostKeyFingerprint = n.PresentedHostKeyFingerprint,
                InstalledAt = n.InstalledAt,
            }).ToList(),
            cluster.CreatedAt, cluster.UpdatedAt)
        {
            Revision = cluster.Revision,
            InstallerSha256 = new(cluster.MasterInstallerSha256, cluster.MediaInstallerSha256),
            FetchedInstallerSha256 = cluster.InstallerSha256FetchedAt is { } fetchedAt
                ? new(cluster.FetchedMasterInstallerSha256, cluster.FetchedMediaInstallerSha256, fetchedAt, cluster.InstallerSha256FetchedVia ?? "")
                : null,
        };
    }

    /// <summary>The stored cluster as an editable spec: secrets left empty (an update keeps them unless replaced).</summary>
    public async Task<ClusterSpec?> GetSpecAsync(int id, CancellationToken ct = default)
    {
        var view = await GetAsync(id, ct);
        if (view is null) return null;
        return new ClusterSpec
        {
            Name = view.Name,
            OpenviduVersion = view.OpenviduVersion,
            DomainName = view.DomainName,
            TurnDomainName = view.TurnDomainName,
            RtcEngine = view.RtcEngine,
            Modules = view.Modules.ToList(),
            InstallerBaseUrl = view.InstallerBaseUrl,
            LoadBalancerIp = view.LoadBalancerIp,
            Options = view.Options,
            Secrets = new Dictionary<string, string?>(),
            Revision = view.Revision,
            Nodes = view.Nodes.Select(n => new NodeSpec
            {
                Id = n.Id, Role = n.Role.Lower(), PrivateIp = n.PrivateIp, PublicIp = n.PublicIp,
                Ssh = new SshSpec { Host = n.Ssh.Host, Port = n.Ssh.Port, Username = n.Ssh.Username, HostKeyFingerprint = n.Ssh.HostKeyFingerprint },
            }).ToList(),
        };
    }

    /// <summary>The validated definition with its secrets, for artifacts and jobs.</summary>
    public async Task<ClusterDefinition?> LoadDefinitionAsync(int id, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await LoadAsync(db, id, tracking: false, ct);
        if (cluster is null) return null;
        var secrets = protector.Unprotect<ClusterSecretsPayload>(cluster.ProtectedSecrets);
        return new ClusterDefinition
        {
            Name = cluster.Name,
            Version = OpenViduVersion.TryParse(cluster.OpenviduVersion, out var version) ? version : throw new InvalidOperationException($"Cluster {id} holds an unreadable version."),
            DomainName = cluster.DomainName,
            TurnDomainName = cluster.TurnDomainName,
            LicenseKey = secrets.LicenseKey,
            RtcEngine = cluster.RtcEngine,
            Modules = SplitModules(cluster.Modules),
            InstallerBaseUrl = cluster.InstallerBaseUrl,
            MasterInstallerSha256 = cluster.MasterInstallerSha256,
            MediaInstallerSha256 = cluster.MediaInstallerSha256,
            LoadBalancerIp = cluster.LoadBalancerIp,
            Rtmp = cluster.Rtmp,
            Whip = cluster.Whip,
            WebrtcOverTcp = cluster.WebrtcOverTcp,
            Secrets = secrets.Secrets,
            Nodes = cluster.Nodes.Select(n => new NodeDefinition(n.Name, n.Role, n.PrivateIp, n.PublicIp) { SshPort = n.SshPort }).ToList(),
        };
    }

    public async Task<Outcome> CreateAsync(ClusterSpec spec, string actor, CancellationToken ct = default)
    {
        var result = ClusterValidator.Validate(spec, maxNodes: _maxNodes);
        if (!result.IsValid) return Outcome.Invalid(result.Errors, result.Warnings);

        await using var db = await dbFactory.CreateDbContextAsync(ct);
        if (await db.Clusters.AnyAsync(c => c.Name == result.Definition!.Name, ct)) return NameTaken(result);

        var now = clock.GetUtcNow();
        var entity = new ClusterEntity
        {
            Name = "", OpenviduVersion = "", DomainName = "", InstallerBaseUrl = "", ProtectedSecrets = "", CreatedAt = now,
        };
        Apply(entity, result, now);
        db.Clusters.Add(entity);
        audit.Add(db, actor, "cluster.created", result.Definition!.Name, $"OpenVidu {result.Definition.Version}, {result.Nodes.Count} nodes");
        if (!await TrySaveAsync(db, ct)) return NameTaken(result);
        logger.LogInformation("Cluster {ClusterName} created with id {ClusterId}", entity.Name, entity.Id);
        return Outcome.Ok(entity.Id, result.Warnings);
    }

    /// <summary>
    /// Replaces the cluster's definition. With <paramref name="ifRevision"/> (the API's <c>If-Match</c>, the wizard's
    /// revision when it opened), a cluster changed since then is left alone: precondition failed. Without it, a save
    /// that raced another writer is done again on the fresh state (the spec replaces it all anyway).
    /// </summary>
    /// <returns>
    /// The cluster's id and the warnings; field errors; not found; a conflict with the job changing it; or precondition
    /// failed when the cluster is no longer at <paramref name="ifRevision"/>.
    /// </returns>
    public async Task<Outcome> UpdateAsync(int id, ClusterSpec spec, string actor, int? ifRevision = null, CancellationToken ct = default)
    {
        for (var attempt = 1; ; attempt++)
        {
            var (outcome, raced, _) = await SaveSpecAsync(id, spec, actor, "cluster.updated", null, ifRevision, ct);
            if (!raced || ifRevision is not null || attempt == MaxSaveAttempts) return outcome;
            await Task.Delay(Backoff(attempt), ct);
        }
    }

    /// <summary>How often a save that lost a race to another writer is tried again on the fresh state.</summary>
    private const int MaxSaveAttempts = 10;

    /// <summary>A short wait before trying again, longer each time and never the same for two writers, so they stop colliding.</summary>
    private static TimeSpan Backoff(int attempt) => TimeSpan.FromMilliseconds(Random.Shared.Next(5, 20) * attempt);

    /// <summary>One read-check-write of a spec; <c>Raced</c> when another writer saved between the read and the write.</summary>
    private async Task<(Outcome Outcome, bool Raced, IReadOnlyList<int> NewNodeIds)> SaveSpecAsync(
        int id, ClusterSpec spec, string actor, string auditAction, string? auditDetail, int? ifRevision, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await LoadAsync(db, id, tracking: true, ct);
        if (entity is null) return (NoCluster(id), false, []);
        if (ifRevision is { } expected && entity.Revision != expected) return (ChangedMeanwhile(entity.Name, expected, entity.Revision), false, []);
        if (await BusyAsync(db, id, ct) is { } busy) return (Outcome.Conflict(busy), false, []);

        var stored = protector.Unprotect<ClusterSecretsPayload>(entity.ProtectedSecrets);
        var storedNodes = entity.Nodes.ToDictionary(n => n.Id, n => protector.Unprotect<SshCredentials>(n.ProtectedCredentials));
        foreach (var node in spec.Nodes ?? [])
        {
            if (node?.Id is { } nodeId && !storedNodes.ContainsKey(nodeId)) node.Id = null; // another cluster's node id: treat as new
        }

        var result = ClusterValidator.Validate(spec, new StoredSecrets(stored.LicenseKey, stored.Secrets, storedNodes), _maxNodes);
        if (!result.IsValid) return (Outcome.Invalid(result.Errors, result.Warnings), false, []);
        if (spec.InstallerSha256 is null) result = KeepInstallerPins(entity, result);
        if (InstalledMastersChanged(entity, result) is { } frozen) return (Outcome.Invalid(frozen, result.Warnings), false, []);
        if (InstalledMediaChanged(entity, result) is { } running) return (Outcome.Invalid(running, result.Warnings), false, []);
        if (InstalledSettingsChanged(entity, result) is { } settings) return (Outcome.Invalid(settings, result.Warnings), false, []);
        if (PinsReplaced(entity, result) is { } repinned) return (Outcome.Invalid(repinned, result.Warnings), false, []);
        if (await db.Clusters.AnyAsync(c => c.Name == result.Definition!.Name && c.Id != id, ct)) return (NameTaken(result), false, []);

        var read = entity.Revision;
        Apply(entity, result, clock.GetUtcNow());
        audit.Add(db, actor, auditAction, result.Definition!.Name, auditDetail);
        var added = entity.Nodes.Where(n => n.Id == 0).ToList();
        try
        {
            if (!await TrySaveAsync(db, ct)) return (NameTaken(result), false, []);
        }
        catch (DbUpdateConcurrencyException)
        {
            // Saved by someone else, or a changing job started, between this read and this write: nothing of this was stored.
            return (ChangedMeanwhile(entity.Name, ifRevision ?? read, null), true, []);
        }
        return (Outcome.Ok(entity.Id, result.Warnings), false, added.Select(n => n.Id).ToList());
    }

    private static Outcome ChangedMeanwhile(string name, int read, int? now) => Outcome.PreconditionFailed(
        $"Cluster '{name}' was changed since it was read (revision {read}{(now is { } current ? $", now {current}" : "")}): " +
        "nothing was stored. Read it again and apply the change to what is there now.");

    /// <summary>Adds one node to a stored cluster: the whole cluster is validated again, nothing else changes.</summary>
    /// <returns>The new node's id, or why not as <see cref="UpdateAsync(int, ClusterSpec, string, CancellationToken)"/> says.</returns>
    public async Task<Outcome> AddNodeAsync(int clusterId, NodeSpec node, string actor, CancellationToken ct = default)
    {
        var spec = await GetSpecAsync(clusterId, ct);
        if (spec is null) return NoCluster(clusterId);
        if (string.Equals(node.Role?.Trim(), "master", StringComparison.OrdinalIgnoreCase))
            return Outcome.Invalid("node.role", "Masters cannot be added: an HA cluster has exactly 4, and once installed their private IPs are written into every node and cannot change. Add media nodes only.");
        // Read, add, write at that revision; if another writer (another node added at the same moment) got there first,
        // read again and add to what is there now: both nodes end up stored.
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1) spec = await GetSpecAsync(clusterId, ct);
            if (spec is null) return NoCluster(clusterId);
            node.Id = null;
            spec.Nodes!.Add(node);
            var (result, _, added) = await SaveSpecAsync(clusterId, spec, actor, "cluster.updated", null, spec.Revision, ct);
            if (result.Kind == OutcomeKind.PreconditionFailed && attempt < MaxSaveAttempts)
            {
                await Task.Delay(Backoff(attempt), ct);
                continue;
            }
            // Report the new node's fields as "node.…": the caller sent one node, not a list.
            if (result.Kind == OutcomeKind.Invalid) return Outcome.Invalid(Renamed(result.Errors, $"nodes[{spec.Nodes.Count - 1}]", "node"), result.Warnings);
            return result.Succeeded ? Outcome.Ok(added.Single(), result.Warnings) : result;
        }
    }

    /// <summary>
    /// Pins the installer scripts' SHA-256 (null removes a pin): the whole cluster is validated again, nothing else changes.
    /// Field errors come back as <c>master</c> and <c>media</c>.
    /// </summary>
    public async Task<Outcome> PinInstallerAsync(int clusterId, string? master, string? media, string actor, CancellationToken ct = default)
    {
        var spec = await GetSpecAsync(clusterId, ct);
        if (spec is null) return NoCluster(clusterId);
        for (var attempt = 1; ; attempt++)
        {
            if (attempt > 1) spec = await GetSpecAsync(clusterId, ct);
            if (spec is null) return NoCluster(clusterId);
            spec.InstallerSha256 = new InstallerSha256Spec { Master = master ?? "", Media = media ?? "" };
            var (result, _, _) = await SaveSpecAsync(clusterId, spec, actor, "installer.pinned", $"master {master ?? "not pinned"}, media {media ?? "not pinned"}", spec.Revision, ct);
            if (result.Kind == OutcomeKind.PreconditionFailed && attempt < MaxSaveAttempts)
            {
                await Task.Delay(Backoff(attempt), ct);
                continue;
            }
            return result.Kind == OutcomeKind.Invalid ? Outcome.Invalid(Renamed(result.Errors, "installerSha256.", ""), result.Warnings) : result;
        }
    }

    /// <summary>
    /// Every node finished an upgrade hop: the cluster runs <paramref name="version"/> from now on (artifacts, checks and
    /// later installs follow it). The installer pins were for the old version: they go.
    /// </summary>
    /// <param name="newSecrets">Secrets the new generation needs that the old one had not (made by the upgrade and already on the nodes).</param>
    public async Task RecordUpgradeAsync(int clusterId, OpenViduVersion version, string actor, IReadOnlyDictionary<string, string> newSecrets, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await db.Clusters.FirstAsync(c => c.Id == clusterId, ct);
        audit.Add(db, actor, "cluster.upgraded", cluster.Name, $"OpenVidu {cluster.OpenviduVersion} to {version}");
        if (OpenViduVersion.TryParse(cluster.OpenviduVersion, out var from) && from.Generation != version.Generation)
        {
            // The default app changes with the generation; secrets only the old one had go, the new ones come in.
            cluster.Modules = string.Join(',', SplitModules(cluster.Modules).Select(m => m == Modules.App ? Modules.OpenViduMeet : m));
            var stored = protector.Unprotect<ClusterSecretsPayload>(cluster.ProtectedSecrets);
            var keep = Secrets.SecretCatalog.For(version.Generation).Select(d => d.Key).ToHashSet(StringComparer.Ordinal);
            var secrets = stored.Secrets.Where(s => keep.Contains(s.Key)).ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
            foreach (var (key, value) in newSecrets) secrets[key] = value;
            cluster.ProtectedSecrets = protector.Protect(stored with { Secrets = secrets });
        }
        cluster.OpenviduVersion = version.ToString();
        cluster.MasterInstallerSha256 = null;
        cluster.MediaInstallerSha256 = null;
        cluster.UpdatedAt = clock.GetUtcNow();
        cluster.Revision++;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>
    /// A remove-node job took a media node out of the cluster: it leaves the definition. The nodes after it move up
    /// (names follow position: media-3 becomes media-2); the new names are returned as old → new.
    /// </summary>
    public async Task<IReadOnlyList<(string From, string To)>> RemoveNodeAsync(int clusterId, int nodeId, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await LoadAsync(db, clusterId, tracking: true, ct) ?? throw new InvalidOperationException($"There is no cluster {clusterId}.");
        var node = cluster.Nodes.FirstOrDefault(n => n.Id == nodeId);
        if (node is null) return [];
        audit.Add(db, actor, "node.removed", cluster.Name, $"{node.Name} ({node.PrivateIp})");
        cluster.Nodes.Remove(node);
        db.Nodes.Remove(node);
        var renamed = new List<(string, string)>();
        int masters = 0, media = 0;
        for (var i = 0; i < cluster.Nodes.Count; i++)
        {
            var n = cluster.Nodes[i];
            var name = n.Role == NodeRole.Master ? $"master-{++masters}" : $"media-{++media}";
            if (name != n.Name) renamed.Add((n.Name, name));
            (n.Ordinal, n.Name) = (i, name);
        }
        cluster.UpdatedAt = clock.GetUtcNow();
        cluster.Revision++;
        await db.SaveChangesAsync(ct);
        return renamed;
    }

    /// <summary>A set-public-ip job's media node took its new public IP: the definition (artifacts, later installs) follows.</summary>
    public async Task RecordPublicIpAsync(int clusterId, int nodeId, string publicIp, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await LoadAsync(db, clusterId, tracking: true, ct) ?? throw new InvalidOperationException($"There is no cluster {clusterId}.");
        var node = cluster.Nodes.First(n => n.Id == nodeId);
        audit.Add(db, actor, "node.public-ip", cluster.Name, $"{node.Name}: {node.PublicIp ?? "detected"} to {publicIp}");
        node.PublicIp = publicIp;
        cluster.UpdatedAt = clock.GetUtcNow();
        cluster.Revision++;
        await db.SaveChangesAsync(ct);
    }

    /// <summary>The new secret values a reconfigure is putting on the nodes (all of the cluster's, new ones included), kept encrypted.</summary>
    public async Task SavePendingSecretsAsync(int clusterId, IReadOnlyDictionary<string, string> secrets, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await db.Clusters.FirstAsync(c => c.Id == clusterId, ct);
        var stored = protector.Unprotect<ClusterSecretsPayload>(cluster.ProtectedSecrets);
        cluster.ProtectedPendingSecrets = protector.Protect(stored with { Secrets = secrets.ToDictionary() });
        await db.SaveChangesAsync(ct);
    }

    /// <summary>What <see cref="SavePendingSecretsAsync"/> kept, or null.</summary>
    public async Task<IReadOnlyDictionary<string, string>?> LoadPendingSecretsAsync(int clusterId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var pending = await db.Clusters.Where(c => c.Id == clusterId).Select(c => c.ProtectedPendingSecrets).FirstOrDefaultAsync(ct);
        return pending is null ? null : protector.Unprotect<ClusterSecretsPayload>(pending).Secrets;
    }

    /// <summary>The reconfigure was rolled back: the pending values are forgotten (no node keeps them).</summary>
    public async Task ClearPendingSecretsAsync(int clusterId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Clusters.Where(c => c.Id == clusterId).ExecuteUpdateAsync(u => u.SetProperty(c => c.ProtectedPendingSecrets, (string?)null), ct);
    }

    /// <summary>
    /// Every node took a reconfigure: its secrets and settings are the cluster's from now on (artifacts, credentials,
    /// later installs), the pending values are gone, and the audit log says who changed which keys (never a value).
    /// </summary>
    public async Task ApplyReconfigureAsync(int clusterId, ClusterDefinition after, IReadOnlyList<string> rotated, IReadOnlyList<string> settings, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var cluster = await db.Clusters.FirstAsync(c => c.Id == clusterId, ct);
        var stored = protector.Unprotect<ClusterSecretsPayload>(cluster.ProtectedSecrets);
        cluster.ProtectedSecrets = protector.Protect(stored with { Secrets = after.Secrets.ToDictionary() });
        cluster.ProtectedPendingSecrets = null;
        cluster.Modules = string.Join(',', after.Modules);
        cluster.RtcEngine = after.RtcEngine;
        cluster.UpdatedAt = clock.GetUtcNow();
        cluster.Revision++;
        var what = new List<string>();
        if (rotated.Count > 0) what.Add($"rotated {string.Join(", ", rotated)}");
        if (settings.Count > 0) what.Add($"changed {string.Join(", ", settings)}");
        audit.Add(db, actor, "cluster.reconfigured", cluster.Name, string.Join("; ", what));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>What a fetch-installer-digests job read through <paramref name="via"/>: shown for the operator to pin, never trusted as is.</summary>
    public async Task RecordFetchedInstallerAsync(int clusterId, string? master, string? media, string via, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        await db.Clusters.Where(c => c.Id == clusterId).ExecuteUpdateAsync(u => u
            .SetProperty(c => c.FetchedMasterInstallerSha256, master)
            .SetProperty(c => c.FetchedMediaInstallerSha256, media)
            .SetProperty(c => c.InstallerSha256FetchedAt, now)
            .SetProperty(c => c.InstallerSha256FetchedVia, via), ct);
    }

    /// <summary>
    /// An update that leaves the pins out keeps them, unless it changes what they were pinned for (the version or the
    /// base URL): then they, and any fetched digests, are dropped with a warning, since they cannot match new scripts.
    /// </summary>
    private static ClusterValidationResult KeepInstallerPins(ClusterEntity entity, ClusterValidationResult result)
    {
        var d = result.Definition!;
        var samePlace = entity.OpenviduVersion == d.Version.ToString() && entity.InstallerBaseUrl == d.InstallerBaseUrl;
        if (samePlace)
            return result with { Definition = d with { MasterInstallerSha256 = entity.MasterInstallerSha256, MediaInstallerSha256 = entity.MediaInstallerSha256 } };
        entity.FetchedMasterInstallerSha256 = entity.FetchedMediaInstallerSha256 = entity.InstallerSha256FetchedVia = null;
        entity.InstallerSha256FetchedAt = null;
        if (entity.MasterInstallerSha256 is null && entity.MediaInstallerSha256 is null) return result;
        return result with
        {
            Warnings = [.. result.Warnings, new("installerSha256", $"The installer pins were for OpenVidu {entity.OpenviduVersion} from {entity.InstallerBaseUrl} and " +
                                                                  "were removed: fetch and pin the new scripts' digests before installing.")],
        };
    }

    /// <summary>The errors with <paramref name="prefix"/> replaced in the fields that start with it.</summary>
    private static ValidationErrors Renamed(ValidationErrors errors, string prefix, string replacement)
    {
        var renamed = new ValidationErrors();
        foreach (var field in errors.Fields)
            foreach (var message in errors.For(field))
                renamed.Add(field.StartsWith(prefix, StringComparison.Ordinal) ? replacement + field[prefix.Length..] : field, message);
        return renamed;
    }

    /// <summary>A pinned host key changes only through the explicit, audited re-pin, never as a side effect of an edit.</summary>
    private static ValidationErrors? PinsReplaced(ClusterEntity entity, ClusterValidationResult result)
    {
        ValidationErrors? errors = null;
        for (var i = 0; i < result.Nodes.Count; i++)
        {
            var node = result.Nodes[i];
            var stored = node.Id is { } nodeId ? entity.Nodes.FirstOrDefault(n => n.Id == nodeId) : null;
            if (stored?.HostKeyFingerprint is not { } pinned || node.Ssh.HostKeyFingerprint is not { } given || Ssh.Fingerprints.Equal(pinned, given)) continue;
            errors ??= new ValidationErrors();
            errors.Add($"nodes[{i}].ssh.hostKeyFingerprint", $"{stored.Name} is pinned to {pinned}. Re-pin it explicitly (node actions, or POST /api/nodes/{stored.Id}/host-key with replace) if the machine was rebuilt.");
        }
        return errors;
    }

    /// <summary>
    /// The nodes of an installed cluster run its RTC engine and modules: a new value in the definition alone would only
    /// make the panel disagree with them. The reconfigure job changes them on the nodes and then here.
    /// </summary>
    private static ValidationErrors? InstalledSettingsChanged(ClusterEntity entity, ClusterValidationResult result)
    {
        if (entity.Nodes.All(n => n.InstalledAt is null)) return null;
        var d = result.Definition!;
        var errors = new ValidationErrors();
        const string how = "apply it to the nodes with Reconfigure… on the Jobs tab (a reconfigure job), not by editing";
        if (d.RtcEngine != entity.RtcEngine) errors.Add("rtcEngine", $"The cluster is installed with {entity.RtcEngine.ToString().ToLowerInvariant()}: {how}.");
        if (string.Join(',', d.Modules) != entity.Modules) errors.Add("modules", $"The cluster is installed with the modules {entity.Modules}: {how}.");
        return errors.IsEmpty ? null : errors;
    }

    /// <summary>
    /// An installed media node runs and announces its public IP: dropping it from the definition, or changing its public
    /// IP there, would leave the machine doing something else than the panel says. Jobs do both, on the machine too.
    /// </summary>
    private static ValidationErrors? InstalledMediaChanged(ClusterEntity entity, ClusterValidationResult result)
    {
        var kept = result.Nodes.Where(n => n.Id is not null).ToDictionary(n => n.Id!.Value);
        var errors = new ValidationErrors();
        foreach (var node in entity.Nodes.Where(n => n.Role == NodeRole.Media && n.InstalledAt is not null))
        {
            if (!kept.TryGetValue(node.Id, out var now))
            {
                errors.Add("nodes", $"{node.Name} is installed: take it out with a remove-node job (it drains its rooms, stops it, then removes it), not by editing.");
                continue;
            }
            if (now.Node.PublicIp != node.PublicIp)
            {
                var at = $"nodes[{IndexOf(result.Nodes, now)}].publicIp";
                errors.Add(at, $"{node.Name} is installed with {(node.PublicIp is null ? "a detected public IP" : node.PublicIp)}: change it with a set-public-ip job (it reinstalls the node{(result.Definition!.Generation == InstallerGeneration.Current ? " and then the masters" : "")}), not by editing.");
            }
        }
        return errors.IsEmpty ? null : errors;

        static int IndexOf(IReadOnlyList<ValidatedNode> nodes, ValidatedNode node)
        {
            for (var i = 0; i < nodes.Count; i++) if (ReferenceEquals(nodes[i], node)) return i;
            return -1;
        }
    }

    /// <summary>
    /// Once a master is installed, the four master private IPs are written into every node and never change: an
    /// update that moves, adds or removes a master is refused.
    /// </summary>
    private static ValidationErrors? InstalledMastersChanged(ClusterEntity entity, ClusterValidationResult result)
    {
        var installed = entity.Nodes.Where(n => n.Role == NodeRole.Master).ToList();
        if (installed.All(n => n.InstalledAt is null)) return null;
        var before = installed.OrderBy(n => n.Ordinal).Select(n => n.PrivateIp).ToList();
        var after = result.Definition!.Masters.Select(m => m.PrivateIp).ToList();
        if (before.SequenceEqual(after)) return null;
        var errors = new ValidationErrors();
        errors.Add("nodes", $"The cluster is installed: its master private IPs ({string.Join(", ", before)}) are written into every node and cannot change. Add or remove media nodes only.");
        return errors;
    }

    /// <returns>Ok, not found, or a conflict with the job changing the cluster: its nodes must not go from under it.</returns>
    public async Task<Outcome> DeleteAsync(int id, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var entity = await db.Clusters.FirstOrDefaultAsync(c => c.Id == id, ct);
        if (entity is null) return NoCluster(id);
        if (await BusyAsync(db, id, ct) is { } busy) return Outcome.Conflict(busy);
        db.Clusters.Remove(entity);
        audit.Add(db, actor, "cluster.deleted", entity.Name);
        await db.SaveChangesAsync(ct);
        return Outcome.Ok();
    }

    private void Apply(ClusterEntity entity, ClusterValidationResult result, DateTimeOffset now)
    {
        var d = result.Definition!;
        entity.Name = d.Name;
        entity.OpenviduVersion = d.Version.ToString();
        entity.DomainName = d.DomainName;
        entity.TurnDomainName = d.TurnDomainName;
        entity.RtcEngine = d.RtcEngine;
        entity.Modules = string.Join(',', d.Modules);
        entity.InstallerBaseUrl = d.InstallerBaseUrl;
        entity.MasterInstallerSha256 = d.MasterInstallerSha256;
        entity.MediaInstallerSha256 = d.MediaInstallerSha256;
        entity.LoadBalancerIp = d.LoadBalancerIp;
        entity.Rtmp = d.Rtmp;
        entity.Whip = d.Whip;
        entity.WebrtcOverTcp = d.WebrtcOverTcp;
        entity.ProtectedSecrets = protector.Protect(new ClusterSecretsPayload(d.LicenseKey, d.Secrets.ToDictionary()));
        entity.UpdatedAt = now;
        entity.Revision++;

        var keep = result.Nodes.Where(n => n.Id is not null).Select(n => n.Id!.Value).ToHashSet();
        entity.Nodes.RemoveAll(n => !keep.Contains(n.Id));
        for (var i = 0; i < result.Nodes.Count; i++)
        {
            var validated = result.Nodes[i];
            var node = validated.Id is { } nodeId ? entity.Nodes.First(n => n.Id == nodeId) : null;
            if (node is null)
            {
                node = new NodeEntity { Name = "", PrivateIp = "", SshHost = "", SshUsername = "", ProtectedCredentials = "" };
                entity.Nodes.Add(node);
            }
            node.Ordinal = i;
            node.Name = validated.Node.Name;
            node.Role = validated.Node.Role;
            node.PrivateIp = validated.Node.PrivateIp;
            node.PublicIp = validated.Node.PublicIp;
            node.SshHost = validated.Ssh.Host;
            node.SshPort = validated.Ssh.Port;
            node.SshUsername = validated.Ssh.Username;
            node.SshUsesKey = validated.Ssh.Credentials.UsesKey;
            // An update that leaves the fingerprint out keeps the pin (confirmed keys are not dropped by omission).
            node.HostKeyFingerprint = validated.Ssh.HostKeyFingerprint ?? node.HostKeyFingerprint;
            node.ProtectedCredentials = protector.Protect(validated.Ssh.Credentials);
        }
    }

    /// <summary>A changing job queued or running on the cluster, named for the operator: its nodes must not change under it.</summary>
    private static async Task<string?> BusyAsync(PanelDbContext db, int clusterId, CancellationToken ct)
    {
        var job = await db.Jobs.AsNoTracking()
            .Where(j => j.ClusterId == clusterId && (j.State == Jobs.JobState.Queued || j.State == Jobs.JobState.Running)
                        && j.Kind != Jobs.JobKind.Preflight && j.Kind != Jobs.JobKind.CheckCredentials)
            .Select(j => new { j.Id, j.Kind }).FirstOrDefaultAsync(ct);
        return job is null ? null
            : $"Job {job.Id} ({Jobs.JobKinds.Name(job.Kind)}) is changing this cluster: wait for it to end, or cancel it, before changing the cluster.";
    }

    private static async Task<ClusterEntity?> LoadAsync(PanelDbContext db, int id, bool tracking, CancellationToken ct)
    {
        var query = db.Clusters.Include(c => c.Nodes.OrderBy(n => n.Ordinal)).Where(c => c.Id == id);
        if (!tracking) query = query.AsNoTracking();
        var cluster = await query.FirstOrDefaultAsync(ct);
        cluster?.Nodes.Sort((a, b) => a.Ordinal.CompareTo(b.Ordinal));
        return cluster;
    }

    private static async Task<bool> TrySaveAsync(PanelDbContext db, CancellationToken ct)
    {
        try
        {
            await db.SaveChangesAsync(ct);
            return true;
        }
        catch (DbUpdateException ex) when (ex.InnerException?.Message.Contains("UNIQUE constraint failed: Clusters.Name", StringComparison.Ordinal) == true)
        {
            return false;
        }
    }

    private static Outcome NameTaken(ClusterValidationResult result)
    {
        var errors = new ValidationErrors();
        errors.Add("name", $"A cluster named '{result.Definition!.Name}' already exists.");
        return Outcome.Invalid(errors, result.Warnings);
    }

    private static Outcome NoCluster(int id) => Outcome.NotFound($"There is no cluster {id}.");

    private static List<string> SplitModules(string modules) =>
        modules.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList();
}
