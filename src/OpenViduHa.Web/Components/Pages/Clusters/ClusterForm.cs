using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Web.Components.Pages.Clusters;

public enum SshAuthKind
{
    Key,
    Password,
}

/// <summary>
/// How the panel signs in to a node: port, user, key or password, sudo password. The wizard keeps one shared copy and one
/// per node that has its own; <see cref="ClusterForm.ToSpec"/> writes the one that applies into each node.
/// </summary>
public sealed class SshCredentialForm
{
    public int? Port { get; set; } = 22;
    public string? Username { get; set; } = "root";
    public SshAuthKind Auth { get; set; } = SshAuthKind.Key;
    public string? PrivateKey { get; set; }
    public string? PrivateKeyPassphrase { get; set; }
    public string? Password { get; set; }
    public string? SudoPassword { get; set; }

    /// <summary>The fields of <see cref="SshSpec"/> this form holds (the rest, host and host key, belong to the node).</summary>
    public static readonly string[] Fields = ["port", "username", "privateKey", "privateKeyPassphrase", "password", "sudoPassword"];

    /// <summary>Port, user and kind of authentication; never a secret.</summary>
    public SshCredentialForm CopySettings() => new() { Port = Port, Username = Username, Auth = Auth };
}

/// <summary>One node row of the wizard: the spec (address, SSH host, host key) plus whether it signs in its own way.</summary>
public sealed class NodeForm
{
    public required NodeSpec Spec { get; init; }
    public SshSpec Ssh => Spec.Ssh!;

    /// <summary>When set, <see cref="Own"/> applies instead of the cluster form's shared SSH access.</summary>
    public bool OwnSsh { get; set; }
    public SshCredentialForm Own { get; set; } = new();

    /// <summary>Set when editing a stored node: empty credentials keep the stored ones.</summary>
    public SshAuthKind? StoredAuth { get; init; }

    public bool IsStored => Spec.Id is not null;
    public bool IsMaster => Spec.Role == "master";

    public static NodeForm Create(string role) => new() { Spec = new NodeSpec { Role = role, Ssh = new SshSpec() } };
}

/// <summary>
/// The wizard's state. <see cref="ClusterSpec"/> stays the model (the API's body); the form adds the module check boxes
/// and each node's key-or-password choice, and <see cref="ToSpec"/> writes the spec the validator and service take.
/// </summary>
public sealed class ClusterForm
{
    /// <summary>The newest release the panel knows and supports: what a new cluster starts with.</summary>
    public static string DefaultVersion => OpenViduVersion.KnownReleases[^1];

    public ClusterSpec Spec { get; private init; } = new();
    public List<NodeForm> Nodes { get; private init; } = [];

    /// <summary>The SSH access of every node without its own: typed once, never copied into the rows.</summary>
    public SshCredentialForm SharedSsh { get; private init; } = new();
    public Dictionary<string, string?> Secrets { get; } = SecretCatalog.All.ToDictionary(d => d.Key, _ => (string?)null, StringComparer.Ordinal);

    public bool Observability { get; set; }
    public bool V2Compatibility { get; set; }
    public bool DefaultApp { get; set; }

    /// <summary>Set when editing: the licence is stored, so an empty field keeps it.</summary>
    public bool LicenseStored { get; private init; }

    public bool IsEdit { get; private init; }

    public IEnumerable<NodeForm> Masters => Nodes.Where(n => n.IsMaster);
    public IEnumerable<NodeForm> MediaNodes => Nodes.Where(n => !n.IsMaster);
    public int MediaCount => Nodes.Count(n => !n.IsMaster);
    public bool IsMediasoup => string.Equals(Spec.RtcEngine, "mediasoup", StringComparison.OrdinalIgnoreCase);

    /// <summary>The generation the typed version belongs to; 3.0.x while the version does not parse yet.</summary>
    public InstallerGeneration Generation =>
        OpenViduVersion.TryParse(Spec.OpenviduVersion?.Trim(), out var version) ? version.Generation : InstallerGeneration.V30;

    public string DefaultAppModule => Modules.DefaultApp(Generation);

    public static ClusterForm New()
    {
        var form = new ClusterForm
        {
            Spec = new ClusterSpec { OpenviduVersion = DefaultVersion, RtcEngine = "pion", InstallerBaseUrl = ClusterDefaults.InstallerBaseUrl, Options = new() },
            Observability = true,
            DefaultApp = true,
        };
        for (var i = 0; i < ClusterDefaults.MasterCount; i++) form.Nodes.Add(NodeForm.Create("master"));
        for (var i = 0; i < ClusterDefaults.RecommendedMediaNodes; i++) form.Nodes.Add(NodeForm.Create("media"));
        return form;
    }

    /// <summary>A stored cluster to edit: no secret and no SSH credential comes back, empty fields keep the stored ones.</summary>
    public static ClusterForm Edit(ClusterSpec stored, ClusterView view)
    {
        var modules = stored.Modules ?? [];
        var auth = view.Nodes.ToDictionary(n => n.Id, n => n.Ssh.Auth == "password" ? SshAuthKind.Password : SshAuthKind.Key);
        var nodes = stored.Nodes ?? [];
        SshAuthKind AuthOf(NodeSpec n) => n.Id is { } id && auth.TryGetValue(id, out var kind) ? kind : SshAuthKind.Key;
        // The shared access is master-1's port, user and kind; a node that differs keeps its own. No secret comes back:
        // empty fields keep what each node has stored.
        var first = nodes.FirstOrDefault();
        var shared = first is null ? new SshCredentialForm()
            : new SshCredentialForm { Port = first.Ssh?.Port ?? 22, Username = first.Ssh?.Username, Auth = AuthOf(first) };
        var form = new ClusterForm
        {
            Spec = stored,
            IsEdit = true,
            LicenseStored = view.LicenseKeySet,
            Observability = modules.Contains(Modules.Observability),
            V2Compatibility = modules.Contains(Modules.V2Compatibility),
            DefaultApp = modules.Contains(Modules.App) || modules.Contains(Modules.OpenViduMeet),
            SharedSsh = shared,
            Nodes = nodes.Select(n =>
            {
                n.Ssh ??= new SshSpec();
                var kind = AuthOf(n);
                var own = new SshCredentialForm { Port = n.Ssh.Port ?? 22, Username = n.Ssh.Username, Auth = kind };
                var differs = own.Port != shared.Port || !string.Equals(own.Username, shared.Username, StringComparison.Ordinal) || own.Auth != shared.Auth;
                return new NodeForm { Spec = n, StoredAuth = n.Id is null ? null : kind, Own = own, OwnSsh = differs };
            }).ToList(),
        };
        stored.Options ??= new();
        return form;
    }

    /// <summary>A new media row: it signs in with the shared SSH access until it is given its own.</summary>
    public void AddMediaNode() => Nodes.Add(NodeForm.Create("media"));

    /// <summary>Gives a node its own SSH access, starting from the shared port, user and kind (never its secrets), or takes it back.</summary>
    public static void SetOwnSsh(NodeForm node, bool own, SshCredentialForm shared)
    {
        if (own && !node.OwnSsh && node.Own.PrivateKey is null && node.Own.Password is null && !node.IsStored) node.Own = shared.CopySettings();
        node.OwnSsh = own;
    }

    /// <summary>
    /// A pasted list (<see cref="NodeListPaste"/>) fills the rows in order: master-1..4, then media nodes, adding rows for
    /// more lines and dropping new media rows left blank after them.
    /// </summary>
    public void ApplyPaste(IReadOnlyList<PastedNode> lines)
    {
        var masters = Masters.ToList();
        var media = MediaNodes.ToList();
        for (var i = 0; i < lines.Count; i++)
        {
            NodeForm row;
            if (i < masters.Count) row = masters[i];
            else
            {
                var m = i - masters.Count;
                if (m >= media.Count)
                {
                    AddMediaNode();
                    media.Add(Nodes[^1]);
                }
                row = media[m];
                row.Spec.PublicIp = lines[i].PublicIp;
            }
            row.Spec.PrivateIp = lines[i].PrivateIp;
        }
        var used = Math.Max(0, lines.Count - masters.Count);
        foreach (var blank in media.Skip(used).Where(n => !n.IsStored && string.IsNullOrWhiteSpace(n.Spec.PrivateIp)).ToList())
            Nodes.Remove(blank);
    }

    /// <summary>The SSH access that applies to a node: its own, or the shared one.</summary>
    public SshCredentialForm SshOf(NodeForm node) => node.OwnSsh ? node.Own : SharedSsh;

    /// <summary>The spec as the validator and the service take it: a fresh copy, so the form keeps what was typed.</summary>
    public ClusterSpec ToSpec() => new()
    {
        Name = Spec.Name,
        OpenviduVersion = Spec.OpenviduVersion,
        DomainName = Spec.DomainName,
        TurnDomainName = Spec.TurnDomainName,
        LicenseKey = Spec.LicenseKey,
        RtcEngine = Spec.RtcEngine,
        Modules = SelectedModules().ToList(),
        InstallerBaseUrl = Spec.InstallerBaseUrl,
        LoadBalancerIp = Spec.LoadBalancerIp,
        Options = new ClusterOptionsSpec
        {
            Rtmp = Spec.Options?.Rtmp ?? false,
            Whip = Spec.Options?.Whip ?? false,
            WebrtcOverTcp = Spec.Options?.WebrtcOverTcp ?? true,
        },
        // Only the generation's secrets, and only those given: the rest are generated (or kept, when editing).
        Secrets = SecretCatalog.For(Generation)
            .Where(d => !string.IsNullOrEmpty(Secrets[d.Key]))
            .ToDictionary(d => d.Key, d => Secrets[d.Key], StringComparer.Ordinal),
        Nodes = Nodes.Select(n =>
        {
            var ssh = SshOf(n);
            return new NodeSpec
            {
                Id = n.Spec.Id,
                Role = n.Spec.Role,
                PrivateIp = n.Spec.PrivateIp,
                PublicIp = n.IsMaster ? null : n.Spec.PublicIp,
                Ssh = new SshSpec
                {
                    // An empty SSH host means the private IP: the panel usually sits in the same network.
                    Host = string.IsNullOrWhiteSpace(n.Ssh.Host) ? n.Spec.PrivateIp : n.Ssh.Host,
                    Port = ssh.Port,
                    Username = ssh.Username,
                    PrivateKey = ssh.Auth == SshAuthKind.Key ? ssh.PrivateKey : null,
                    PrivateKeyPassphrase = ssh.Auth == SshAuthKind.Key ? ssh.PrivateKeyPassphrase : null,
                    Password = ssh.Auth == SshAuthKind.Password ? ssh.Password : null,
                    SudoPassword = ssh.SudoPassword,
                    HostKeyFingerprint = n.Ssh.HostKeyFingerprint,
                },
            };
        }).ToList(),
    };

    public IEnumerable<string> SelectedModules()
    {
        if (Observability) yield return Modules.Observability;
        if (V2Compatibility) yield return Modules.V2Compatibility;
        if (DefaultApp) yield return DefaultAppModule;
    }

    /// <summary>
    /// Validates in the page's circuit before anything is sent to the service. When editing, the stored licence and SSH
    /// credentials are not loaded into the page: stand-ins say "something is stored", and the service, which validates
    /// again with the real values, has the last word.
    /// </summary>
    public ClusterValidationResult Validate()
    {
        var spec = ToSpec();
        var result = IsEdit ? ClusterValidator.Validate(spec, StandIns()) : ClusterValidator.Validate(spec);

        var errors = new ValidationErrors();
        var shared = new Dictionary<string, List<(string Node, string Message)>>(StringComparer.Ordinal);
        foreach (var field in result.Errors.Fields)
        {
            if (IsEcho(field, result.Errors)) continue;
            if (SharedField(field) is { } sharedField)
            {
                if (!shared.TryGetValue(sharedField, out var list)) shared[sharedField] = list = [];
                var name = WizardFields.NodeName(Nodes, WizardFields.NodeIndex(field)!.Value);
                list.AddRange(result.Errors.For(field).Select(m => (name, m)));
                continue;
            }
            foreach (var message in result.Errors.For(field)) errors.Add(field, message);
        }
        // A shared field's error is said once; when only some of the nodes that use it are concerned, it names them.
        var sharing = Nodes.Count(n => !n.OwnSsh);
        foreach (var (field, list) in shared)
        {
            foreach (var group in list.GroupBy(e => e.Message, StringComparer.Ordinal))
            {
                var names = group.Select(e => e.Node).Distinct(StringComparer.Ordinal).ToList();
                errors.Add(field, names.Count == sharing ? group.Key : $"{string.Join(", ", names)}: {group.Key}");
            }
        }
        return result with { Errors = errors };
    }

    /// <summary>The shared field (<c>nodes.ssh.privateKey</c>) a node's credential error belongs to, when the node uses the shared access.</summary>
    private string? SharedField(string field)
    {
        if (WizardFields.NodeIndex(field) is not { } i || i >= Nodes.Count || Nodes[i].OwnSsh) return null;
        var rest = field[(field.IndexOf(']', StringComparison.Ordinal) + 1)..];
        return rest.StartsWith(".ssh.", StringComparison.Ordinal) && SshCredentialForm.Fields.Contains(rest[".ssh.".Length..], StringComparer.Ordinal)
            ? WizardFields.SharedSshPrefix + rest[".ssh.".Length..]
            : null;
    }

    private StoredSecrets StandIns() => new(
        LicenseStored ? "stored" : "",
        new Dictionary<string, string>(),
        Nodes.Where(n => n.IsStored).ToDictionary(n => n.Spec.Id!.Value, _ => new SshCredentials(null, null, "stored", null)));

    /// <summary>Errors the operator cannot act on where they appear, because another field's error says it already.</summary>
    private bool IsEcho(string field, ValidationErrors errors)
    {
        if (WizardFields.NodeIndex(field) is not { } i || i >= Nodes.Count) return false;
        var node = Nodes[i];
        // An empty SSH host is the private IP: its error is the private IP's error.
        if (field.EndsWith(".ssh.host", StringComparison.Ordinal) && string.IsNullOrWhiteSpace(node.Ssh.Host) &&
            errors.For($"nodes[{i}].privateIp").Count > 0) return true;
        // A new passphrase alone for a stored key cannot be checked here (the key is not loaded): the service checks it.
        return IsEdit && node.StoredAuth == SshAuthKind.Key && string.IsNullOrWhiteSpace(SshOf(node).PrivateKey) &&
               field.EndsWith(".ssh.privateKeyPassphrase", StringComparison.Ordinal);
    }
}
