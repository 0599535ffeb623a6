using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Clusters;

/// <summary>The adopt body: a cluster installed by hand, given by its nodes and how to reach them.</summary>
public sealed class AdoptSpec
{
    public string? Name { get; set; }
    public string? InstallerBaseUrl { get; set; }
    public string? LoadBalancerIp { get; set; }
    public List<NodeSpec>? Nodes { get; set; }
}

/// <summary>Something the adoption found on one node (or on the cluster, with no node): never a value.</summary>
public sealed record AdoptFinding(string Node, string? File, string? Key, string Problem);

/// <summary>What an adoption came to: the new cluster's id, or why not (the findings per node and key).</summary>
public sealed record AdoptResult(Outcome Outcome, IReadOnlyList<AdoptFinding> Findings);

/// <summary>
/// Takes over a cluster installed by hand from the guide: every node read over SSH (host keys given, or presented and
/// to be confirmed first), the version, the layout, the domain, TURN domain, licence, RTC engine, modules, every secret
/// and the master list read from its config files; the nodes must agree (one version, one master list equal to the
/// masters given, the roles given, the shared keys equal) or nothing is stored and every disagreement is named by node
/// and key. Then the cluster is stored as any other, already installed, its host keys pinned.
/// </summary>
public sealed class AdoptService(ISshConnector ssh, ClusterService clusters, IDbContextFactory<PanelDbContext> dbFactory, Audit.AuditLog audit, IOptions<JobOptions> options, TimeProvider clock)
{
    /// <summary>A value the cluster shares, where each generation keeps it (file, key; the first present counts).</summary>
    private sealed record Item(string Name, string? Secret, IReadOnlyList<(string File, string Key)> Places);

    private static readonly string[] Files =
    [
        UpgradeDeploymentInfo, CredentialLayout.V30Env, CredentialLayout.ClusterEnv, CredentialLayout.MeetEnv, CredentialLayout.MasterNodeEnv, CredentialLayout.MediaNodeEnv,
    ];

    private const string UpgradeDeploymentInfo = Upgrade.UpgradeHandler.DeploymentInfo;
    private const string FileMark = "=== ovha-file ";

    public async Task<AdoptResult> AdoptAsync(AdoptSpec spec, string actor, CancellationToken ct = default)
    {
        var nodes = spec.Nodes ?? [];
        var shape = new ValidationErrors();
        if (string.IsNullOrWhiteSpace(spec.Name)) shape.Add("name", "Give the cluster a name.");
        if (nodes.Count(n => Role(n) == NodeRole.Master) != ClusterDefaults.MasterCount) shape.Add("nodes", $"Give the {ClusterDefaults.MasterCount} masters of the cluster (role master).");
        if (nodes.All(n => Role(n) != NodeRole.Media)) shape.Add("nodes", "Give at least one media node (role media).");
        for (var i = 0; i < nodes.Count; i++)
        {
            if (Role(nodes[i]) is null) shape.Add($"nodes[{i}].role", "master or media.");
            if (string.IsNullOrWhiteSpace(nodes[i].PrivateIp)) shape.Add($"nodes[{i}].privateIp", "Give the node's private IP.");
            if (string.IsNullOrWhiteSpace(nodes[i].Ssh?.Host)) shape.Add($"nodes[{i}].ssh.host", "Give the host the panel reaches the node's sshd on.");
        }
        if (!shape.IsEmpty) return new(Outcome.Invalid(shape), []);

        var names = Names(nodes);
        var timeout = options.Value.ConnectTimeout;

        // Host keys: a node without one presents its key, which the operator confirms by sending it back.
        var unconfirmed = new List<AdoptFinding>();
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes.Count), ct, async (i, token) =>
        {
            var s = nodes[i].Ssh!;
            if (!string.IsNullOrWhiteSpace(s.HostKeyFingerprint)) return;
            string finding;
            try { finding = $"presents {await ssh.ProbeHostKeyAsync(s.Host!, s.Port ?? 22, timeout, token)}: check it, then send it as ssh.hostKeyFingerprint"; }
            catch (SshFailureException e) { finding = $"could not be reached: {e.Message}"; }
            lock (unconfirmed) unconfirmed.Add(new(names[i], null, "ssh.hostKeyFingerprint", finding));
        });
        if (unconfirmed.Count > 0)
            return new(Outcome.Conflict("Confirm each node's host key before the panel reads anything from it."), [.. unconfirmed.OrderBy(f => f.Node, StringComparer.Ordinal)]);

        // Read every node's files in one command each.
        var read = new Dictionary<string, NodeFiles>(StringComparer.Ordinal);
        var unreachable = new List<AdoptFinding>();
        await Parallel.ForEachAsync(Enumerable.Range(0, nodes.Count), ct, async (i, token) =>
        {
            try
            {
                var files = await ReadAsync(nodes[i], names[i], timeout, token);
                lock (read) read[names[i]] = files;
            }
            catch (Exception e) when (e is SshFailureException or InvalidOperationException)
            {
                lock (unreachable) unreachable.Add(new(names[i], null, null, e.Message));
            }
        });
        if (unreachable.Count > 0) return new(Outcome.Conflict("Not every node could be read: nothing was stored."), [.. unreachable.OrderBy(f => f.Node, StringComparer.Ordinal)]);

        var (adopted, findings) = Agree(nodes, names, read);
        if (adopted is null) return new(Outcome.Conflict("The nodes do not agree: nothing was stored."), findings);

        var clusterSpec = new ClusterSpec
        {
            Name = spec.Name!.Trim(),
            OpenviduVersion = adopted.Version.ToString(),
            DomainName = adopted.Settings.GetValueOrDefault("domain"),
            TurnDomainName = adopted.Settings.GetValueOrDefault("turnDomain") is { Length: > 0 } turn ? turn : null,
            LicenseKey = adopted.Settings.GetValueOrDefault("licence"),
            RtcEngine = adopted.Settings.GetValueOrDefault("rtcEngine") ?? "pion",
            Modules = (adopted.Settings.GetValueOrDefault("modules") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToList(),
            InstallerBaseUrl = string.IsNullOrWhiteSpace(spec.InstallerBaseUrl) ? ClusterDefaults.InstallerBaseUrl : spec.InstallerBaseUrl,
            LoadBalancerIp = spec.LoadBalancerIp,
            Secrets = adopted.Secrets.ToDictionary(s => s.Key, s => (string?)s.Value),
            // Masters in the order the nodes list them (the order is written into every node), then media nodes.
            Nodes = [.. adopted.MasterOrder.Select(i => nodes[i]), .. nodes.Where(n => Role(n) == NodeRole.Media)],
        };
        foreach (var (node, i) in nodes.Select((n, i) => (n, i)).Where(x => Role(x.n) == NodeRole.Media && string.IsNullOrWhiteSpace(x.n.PublicIp)))
        {
            if (read[names[i]].Value("MEDIA_NODE_PUBLIC_IP") is { Length: > 0 } announced) node.PublicIp = announced;
        }
        var created = await clusters.CreateAsync(clusterSpec, actor, ct);
        if (!created.Succeeded) return new(created, []);

        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var now = clock.GetUtcNow();
            await db.Nodes.Where(n => n.ClusterId == created.Id).ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, now), ct);
            audit.Add(db, actor, "cluster.adopted", clusterSpec.Name, $"OpenVidu {adopted.Version}, {nodes.Count} nodes");
            await db.SaveChangesAsync(ct);
        }
        var warnings = created.Warnings.ToList();
        foreach (var key in adopted.NotRead)
            warnings.Add(new ValidationWarning($"secrets.{key}", $"'{key}' is not in the nodes' config files: the panel made its own value, which only a new install or a master's reinstall would write."));
        return new(Outcome.Ok(created.Id, warnings), []);
    }

    private static NodeRole? Role(NodeSpec node) => node.Role?.Trim().ToLowerInvariant() switch
    {
        "master" => NodeRole.Master,
        "media" => NodeRole.Media,
        _ => null,
    };

    /// <summary>The names the nodes will get (master-1.., media-1..), in the order given.</summary>
    private static List<string> Names(IReadOnlyList<NodeSpec> nodes)
    {
        int masters = 0, media = 0;
        return nodes.Select(n => Role(n) == NodeRole.Master ? $"master-{++masters}" : $"media-{++media}").ToList();
    }

    private sealed class NodeFiles(Dictionary<string, Dictionary<string, string>> files, OpenViduVersion? version)
    {
        public OpenViduVersion? Version => version;
        public bool Has(string file) => files.ContainsKey(file);
        public string? Value(string key, string? file = null) =>
            file is not null ? files.GetValueOrDefault(file)?.GetValueOrDefault(key)
            : files.Values.Select(f => f.GetValueOrDefault(key)).FirstOrDefault(v => v is not null);
    }

    private async Task<NodeFiles> ReadAsync(NodeSpec node, string name, TimeSpan timeout, CancellationToken ct)
    {
        var s = node.Ssh!;
        var credentials = new SshCredentials(s.PrivateKey, s.PrivateKeyPassphrase, s.Password, s.SudoPassword);
        var target = new SshTarget(name, s.Host!, s.Port ?? 22, s.Username ?? "root", credentials, s.HostKeyFingerprint);
        await using var session = await ssh.ConnectAsync(target, new SshConnectOptions { ConnectTimeout = timeout }, ct);
        var script = string.Concat(Files.Select(f => $"if [ -f {f} ]; then echo '{FileMark}{f}'; cat {f}; echo; fi\n"));
        var result = await session.RunAsync(script, new SshRunOptions { Description = "read the OpenVidu config", Timeout = options.Value.CommandTimeout }, ct);
        if (!result.Succeeded) throw new InvalidOperationException($"Reading the OpenVidu config failed: {result.LastMessage()}");
        var files = new Dictionary<string, Dictionary<string, string>>(StringComparer.Ordinal);
        OpenViduVersion? version = null;
        foreach (var part in result.Stdout.Split(FileMark, StringSplitOptions.RemoveEmptyEntries))
        {
            var newline = part.IndexOf('\n', StringComparison.Ordinal);
            if (newline < 0) continue;
            var file = part[..newline].Trim();
            var text = part[(newline + 1)..];
            if (file == UpgradeDeploymentInfo)
            {
                version = Upgrade.UpgradeHandler.ParseDeploymentInfo(text);
                continue;
            }
            files[file] = EnvFile.Parse(text);
        }
        return new NodeFiles(files, version);
    }

    private sealed record Adopted(OpenViduVersion Version, Dictionary<string, string> Settings, Dictionary<string, string> Secrets, IReadOnlyList<int> MasterOrder, IReadOnlyList<string> NotRead);

    /// <summary>Whether the nodes agree, and what they agree on; otherwise each disagreement, by node and key.</summary>
    private static (Adopted? Adopted, List<AdoptFinding> Findings) Agree(IReadOnlyList<NodeSpec> nodes, IReadOnlyList<string> names, IReadOnlyDictionary<string, NodeFiles> read)
    {
        var findings = new List<AdoptFinding>();
        var versions = names.Select(n => read[n].Version).ToList();
        for (var i = 0; i < names.Count; i++)
        {
            if (versions[i] is null) findings.Add(new(names[i], UpgradeDeploymentInfo, "version", "no readable OpenVidu version: is OpenVidu installed here?"));
        }
        var reference = names.Select((n, i) => (n, i)).First(x => Role(nodes[x.i]) == NodeRole.Master).n;
        var version = read[reference].Version;
        if (version is null) return (null, findings);
        for (var i = 0; i < names.Count; i++)
        {
            if (versions[i] is { } v && v != version) findings.Add(new(names[i], UpgradeDeploymentInfo, "version", $"runs {v}, {reference} runs {version}: every node runs one version"));
        }
        var generation = version.Generation;
        for (var i = 0; i < names.Count; i++)
        {
            var installed = InstalledRole(read[names[i]], generation);
            if (installed is null) findings.Add(new(names[i], null, "role", "no OpenVidu config of either role found"));
            else if (installed != Role(nodes[i])) findings.Add(new(names[i], null, "role", $"given as {Role(nodes[i])!.Value.ToString().ToLowerInvariant()}, installed as {installed.Value.ToString().ToLowerInvariant()}"));
        }

        // Every shared value: the reference master's, and each node that holds it must hold the same.
        var items = Items(generation);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        var secrets = new Dictionary<string, string>(StringComparer.Ordinal);
        var notRead = new List<string>();
        foreach (var item in items)
        {
            var (value, place) = Find(read[reference], item);
            if (value is null)
            {
                if (item.Secret is not null) notRead.Add(item.Secret);
                continue;
            }
            if (item.Secret is not null) secrets[item.Secret] = value;
            else settings[item.Name] = value;
            foreach (var name in names.Where(n => n != reference))
            {
                var (other, where) = Find(read[name], item);
                if (other is not null && other != value)
                    findings.Add(new(name, where!.Value.File, where.Value.Key, $"differs from {reference}'s ({place!.Value.Key} in {place.Value.File})"));
            }
        }

        // The master list every node holds must be the masters given.
        var givenMasters = nodes.Where(n => Role(n) == NodeRole.Master).Select(n => n.PrivateIp!.Trim()).ToList();
        var listed = Enumerable.Range(1, ClusterDefaults.MasterCount).Select(k => read[reference].Value($"MASTER_NODE_{k}_PRIVATE_IP")).ToList();
        var order = new List<int>();
        if (listed.Any(ip => ip is null) || !listed.Order(StringComparer.Ordinal).SequenceEqual(givenMasters.Order(StringComparer.Ordinal), StringComparer.Ordinal))
            findings.Add(new(reference, null, "MASTER_NODE_1..4_PRIVATE_IP", $"lists the masters {string.Join(", ", listed.Select(ip => ip ?? "(missing)"))}, not the masters given ({string.Join(", ", givenMasters)})"));
        else
            order = listed.Select(ip => nodes.Select((n, i) => (n, i)).First(x => Role(x.n) == NodeRole.Master && x.n.PrivateIp!.Trim() == ip).i).ToList();
        for (var i = 0; i < names.Count; i++)
        {
            for (var k = 1; k <= ClusterDefaults.MasterCount; k++)
            {
                var key = $"MASTER_NODE_{k}_PRIVATE_IP";
                var value = read[names[i]].Value(key);
                if (value is not null && value != listed[k - 1]) findings.Add(new(names[i], null, key, $"differs from {reference}'s"));
            }
        }
        if (findings.Count > 0) return (null, [.. findings.OrderBy(f => f.Node, StringComparer.Ordinal).ThenBy(f => f.Key, StringComparer.Ordinal)]);
        return (new Adopted(version, settings, secrets, order, notRead), findings);
    }

    private static (string? Value, (string File, string Key)? Place) Find(NodeFiles files, Item item)
    {
        foreach (var place in item.Places)
        {
            if (files.Value(place.Key, place.File) is { } value) return (value, place);
        }
        return (null, null);
    }

    private static NodeRole? InstalledRole(NodeFiles files, InstallerGeneration generation)
    {
        if (generation == InstallerGeneration.V30)
        {
            if (!files.Has(CredentialLayout.V30Env)) return null;
            return files.Value("MEDIA_NODE_PRIVATE_IP", CredentialLayout.V30Env) is not null ? NodeRole.Media : NodeRole.Master;
        }
        return files.Has(CredentialLayout.MasterNodeEnv) ? NodeRole.Master : files.Has(CredentialLayout.MediaNodeEnv) ? NodeRole.Media : null;
    }

    /// <summary>What the nodes of a generation share, and where each is kept (facts file, "Config files written on the nodes").</summary>
    private static List<Item> Items(InstallerGeneration generation)
    {
        if (generation == InstallerGeneration.V30)
        {
            (string, string)[] Env(string key) => [(CredentialLayout.V30Env, key)];
            return
            [
                new("domain", null, Env("DOMAIN_OR_PUBLIC_IP")), new("turnDomain", null, Env("LIVEKIT_TURN_DOMAIN_NAME")),
                new("licence", null, Env("OPENVIDU_PRO_LICENSE")), new("rtcEngine", null, Env("OPENVIDU_RTC_ENGINE")), new("modules", null, Env("ENABLED_MODULES")),
                new("", SecretCatalog.LivekitApiKey, Env("LIVEKIT_API_KEY")), new("", SecretCatalog.LivekitApiSecret, Env("LIVEKIT_API_SECRET")),
                new("", SecretCatalog.RedisPassword, Env("REDIS_PASSWORD")), new("", SecretCatalog.MinioAccessKey, Env("MINIO_ACCESS_KEY")),
                new("", SecretCatalog.MinioSecretKey, Env("MINIO_SECRET_KEY")), new("", SecretCatalog.MongoAdminUser, Env("MONGO_ADMIN_USER")),
                new("", SecretCatalog.MongoAdminPassword, Env("MONGO_ADMIN_PASSWORD")), new("", SecretCatalog.MongoReplicaSetKey, Env("MONGO_REPLICA_SET_KEY")),
                new("", SecretCatalog.DashboardAdminUser, Env("DASHBOARD_ADMIN_USER")), new("", SecretCatalog.DashboardAdminPassword, Env("DASHBOARD_ADMIN_PASSWORD")),
                new("", SecretCatalog.GrafanaAdminUser, Env("GRAFANA_ADMIN_USER")), new("", SecretCatalog.GrafanaAdminPassword, Env("GRAFANA_ADMIN_PASSWORD")),
                new("", SecretCatalog.DefaultAppUser, Env("CALL_USER")), new("", SecretCatalog.DefaultAppPassword, Env("CALL_SECRET")),
                new("", SecretCatalog.DefaultAppAdminUser, Env("CALL_ADMIN_USERNAME")), new("", SecretCatalog.DefaultAppAdminPassword, Env("CALL_ADMIN_SECRET")),
            ];
        }
        (string, string)[] Cluster(string key) => [(CredentialLayout.ClusterEnv, key)];
        return
        [
            new("domain", null, Cluster("DOMAIN_NAME")), new("turnDomain", null, Cluster("LIVEKIT_TURN_DOMAIN_NAME")),
            new("licence", null, Cluster("OPENVIDU_PRO_LICENSE")), new("rtcEngine", null, Cluster("OPENVIDU_RTC_ENGINE")), new("modules", null, Cluster("ENABLED_MODULES")),
            new("", SecretCatalog.LivekitApiKey, Cluster("LIVEKIT_API_KEY")), new("", SecretCatalog.LivekitApiSecret, Cluster("LIVEKIT_API_SECRET")),
            new("", SecretCatalog.RedisPassword, [(CredentialLayout.MasterNodeEnv, "REDIS_PASSWORD"), (CredentialLayout.MediaNodeEnv, "REDIS_PASSWORD")]),
            new("", SecretCatalog.MinioAccessKey, Cluster("MINIO_ACCESS_KEY")), new("", SecretCatalog.MinioSecretKey, Cluster("MINIO_SECRET_KEY")),
            new("", SecretCatalog.MongoAdminUser, Cluster("MONGO_ADMIN_USERNAME")), new("", SecretCatalog.MongoAdminPassword, Cluster("MONGO_ADMIN_PASSWORD")),
            new("", SecretCatalog.MongoReplicaSetKey, Cluster("MONGO_REPLICA_SET_KEY")),
            new("", SecretCatalog.DashboardAdminUser, Cluster("DASHBOARD_ADMIN_USERNAME")), new("", SecretCatalog.DashboardAdminPassword, Cluster("DASHBOARD_ADMIN_PASSWORD")),
            new("", SecretCatalog.GrafanaAdminUser, Cluster("GRAFANA_ADMIN_USERNAME")), new("", SecretCatalog.GrafanaAdminPassword, Cluster("GRAFANA_ADMIN_PASSWORD")),
            new("", SecretCatalog.MeetInitialAdminPassword, [(CredentialLayout.MeetEnv, "MEET_INITIAL_ADMIN_PASSWORD")]),
            new("", SecretCatalog.MeetInitialApiKey, [(CredentialLayout.MeetEnv, "MEET_INITIAL_API_KEY")]),
        ];
    }
}
