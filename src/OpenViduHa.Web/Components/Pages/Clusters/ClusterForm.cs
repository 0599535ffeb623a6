using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Web.Components.Pages.Clusters;

public enum SshAuthKind
{
    Key,
    Password,
}

/// <summary>One node row of the wizard: the spec plus what only the form needs (key or password, what is stored).</summary>
public sealed class NodeForm
{
    public required NodeSpec Spec { get; init; }
    public SshSpec Ssh => Spec.Ssh!;
    public SshAuthKind Auth { get; set; } = SshAuthKind.Key;

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
    public const string DefaultVersion = "3.0.0";

    public ClusterSpec Spec { get; private init; } = new();
    public List<NodeForm> Nodes { get; private init; } = [];
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
        var form = new ClusterForm
        {
            Spec = stored,
            IsEdit = true,
            LicenseStored = view.LicenseKeySet,
            Observability = modules.Contains(Modules.Observability),
            V2Compatibility = modules.Contains(Modules.V2Compatibility),
            DefaultApp = modules.Contains(Modules.App) || modules.Contains(Modules.OpenViduMeet),
            Nodes = (stored.Nodes ?? []).Select(n =>
            {
                n.Ssh ??= new SshSpec();
                var kind = n.Id is { } id && auth.TryGetValue(id, out var k) ? k : SshAuthKind.Key;
                return new NodeForm { Spec = n, Auth = kind, StoredAuth = n.Id is null ? null : kind };
            }).ToList(),
        };
        stored.Options ??= new();
        return form;
    }

    public void AddMediaNode()
    {
        var node = NodeForm.Create("media");
        var first = Nodes.FirstOrDefault();
        if (first is not null)
        {
            node.Ssh.Port = first.Ssh.Port;
            node.Ssh.Username = first.Ssh.Username;
        }
        Nodes.Add(node);
    }

    /// <summary>Copies the first node's SSH port, user and credentials to every other node; hosts and host keys stay per node.</summary>
    public void CopySshFromFirst()
    {
        if (Nodes.Count == 0) return;
        var source = Nodes[0];
        foreach (var node in Nodes.Skip(1))
        {
            node.Ssh.Port = source.Ssh.Port;
            node.Ssh.Username = source.Ssh.Username;
            node.Auth = source.Auth;
            node.Ssh.PrivateKey = source.Ssh.PrivateKey;
            node.Ssh.PrivateKeyPassphrase = source.Ssh.PrivateKeyPassphrase;
            node.Ssh.Password = source.Ssh.Password;
            node.Ssh.SudoPassword = source.Ssh.SudoPassword;
        }
    }

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
        Nodes = Nodes.Select(n => new NodeSpec
        {
            Id = n.Spec.Id,
            Role = n.Spec.Role,
            PrivateIp = n.Spec.PrivateIp,
            PublicIp = n.IsMaster ? null : n.Spec.PublicIp,
            Ssh = new SshSpec
            {
                // An empty SSH host means the private IP: the panel usually sits in the same network.
                Host = string.IsNullOrWhiteSpace(n.Ssh.Host) ? n.Spec.PrivateIp : n.Ssh.Host,
                Port = n.Ssh.Port,
                Username = n.Ssh.Username,
                PrivateKey = n.Auth == SshAuthKind.Key ? n.Ssh.PrivateKey : null,
                PrivateKeyPassphrase = n.Auth == SshAuthKind.Key ? n.Ssh.PrivateKeyPassphrase : null,
                Password = n.Auth == SshAuthKind.Password ? n.Ssh.Password : null,
                SudoPassword = n.Ssh.SudoPassword,
                HostKeyFingerprint = n.Ssh.HostKeyFingerprint,
            },
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
        foreach (var field in result.Errors.Fields)
        {
            if (IsEcho(field, result.Errors)) continue;
            foreach (var message in result.Errors.For(field)) errors.Add(field, message);
        }
        return result with { Errors = errors };
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
        return IsEdit && node.StoredAuth == SshAuthKind.Key && string.IsNullOrWhiteSpace(node.Ssh.PrivateKey) &&
               field.EndsWith(".ssh.privateKeyPassphrase", StringComparison.Ordinal);
    }
}
