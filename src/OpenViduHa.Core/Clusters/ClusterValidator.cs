using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Clusters;

/// <summary>What is already stored for a cluster being updated: values the update may leave out.</summary>
public sealed record StoredSecrets(string LicenseKey, IReadOnlyDictionary<string, string> Secrets, IReadOnlyDictionary<int, SshCredentials> NodeCredentials);

/// <summary>A node that passed validation, with its SSH access.</summary>
public sealed record ValidatedNode(int? Id, NodeDefinition Node, SshAccess Ssh);

public sealed record ClusterValidationResult(
    ValidationErrors Errors,
    IReadOnlyList<ValidationWarning> Warnings,
    ClusterDefinition? Definition,
    IReadOnlyList<ValidatedNode> Nodes)
{
    public bool IsValid => Errors.IsEmpty && Definition is not null;
}

/// <summary>
/// Every rule a cluster must meet, in one place, used by the API and the wizard alike. Pure: no database, no network.
/// Missing secrets are generated here, so a valid result is complete and can be stored in one transaction.
/// </summary>
public static partial class ClusterValidator
{
    public const int MaxNameLength = 40;
    public const int DefaultMaxNodes = 500;
    public const int MaxLicenseLength = 512;
    public const int MaxSecretLength = 256;
    public const int MaxPasswordLength = 256;
    public const int MaxPrivateKeyLength = 16 * 1024;
    public const int MaxUrlLength = 2048;

    /// <param name="maxNodes">Nodes allowed per cluster (<see cref="ClusterOptions.MaxNodes"/>).</param>
    public static ClusterValidationResult Validate(ClusterSpec spec, StoredSecrets? stored = null, int maxNodes = DefaultMaxNodes)
    {
        var errors = new ValidationErrors();
        var warnings = new List<ValidationWarning>();

        var name = spec.Name?.Trim();
        if (!OneLine("name", name, errors)) name = null;
        else if (string.IsNullOrEmpty(name)) errors.Add("name", "Give the cluster a name.");
        else if (name.Length > MaxNameLength || !NamePattern().IsMatch(name))
            errors.Add("name", $"Use lowercase letters, digits and dashes, starting with a letter or digit, at most {MaxNameLength} characters: the name goes into file names.");

        OpenViduVersion? version = null;
        if (!OneLine("openviduVersion", spec.OpenviduVersion?.Trim(), errors)) { }
        else if (string.IsNullOrWhiteSpace(spec.OpenviduVersion)) errors.Add("openviduVersion", "Give the OpenVidu version to install, for example 3.0.0.");
        else if (!OpenViduVersion.TryParse(spec.OpenviduVersion.Trim(), out version))
            errors.Add("openviduVersion", "Pin a version as X.Y.Z (for example 3.0.0): 'latest' drifts, and every node of a cluster must run the same version.");
        else if (version.Unsupported() is { } unsupported) { errors.Add("openviduVersion", unsupported); version = null; }

        var domain = spec.DomainName?.Trim().TrimEnd('.').ToLowerInvariant();
        if (!OneLine("domainName", domain, errors)) domain = null;
        else if (string.IsNullOrEmpty(domain)) errors.Add("domainName", "Give the domain name that points to the load balancer.");
        else if (!IsFqdn(domain)) errors.Add("domainName", "Give a fully qualified domain name such as openvidu.example.io (not an IP address).");

        var turn = string.IsNullOrWhiteSpace(spec.TurnDomainName) ? null : spec.TurnDomainName.Trim().TrimEnd('.').ToLowerInvariant();
        if (turn is not null)
        {
            if (!OneLine("turnDomainName", turn, errors)) { }
            else if (!IsFqdn(turn)) errors.Add("turnDomainName", "Give a fully qualified domain name such as turn.example.io, or leave it empty.");
            else if (turn == domain) errors.Add("turnDomainName", "The TURN domain must differ from the OpenVidu domain.");
        }

        var license = string.IsNullOrWhiteSpace(spec.LicenseKey) ? stored?.LicenseKey : spec.LicenseKey.Trim();
        if (!OneLine("licenseKey", license, errors)) license = null;
        else if (string.IsNullOrEmpty(license)) errors.Add("licenseKey", "The OpenVidu PRO licence is required.");
        else if (license.Length > MaxLicenseLength) errors.Add("licenseKey", $"Too long for a licence: at most {MaxLicenseLength} characters.");
        else if (!LicensePattern().IsMatch(license))
            errors.Add("licenseKey", "The licence may hold only letters, digits, '-', '_' and '.': the installer splits its arguments on whitespace.");

        RtcEngine engine = RtcEngine.Pion;
        switch (spec.RtcEngine?.Trim().ToLowerInvariant())
        {
            case null or "" or "pion": break;
            case "mediasoup":
                engine = RtcEngine.Mediasoup;
                warnings.Add(new("rtcEngine", "mediasoup is experimental in OpenVidu and should not be used in production."));
                break;
            default: errors.Add("rtcEngine", "The RTC engine is 'pion' or 'mediasoup'."); break;
        }

        var modules = ValidateModules(spec.Modules, version, errors);

        var baseUrl = (spec.InstallerBaseUrl ?? ClusterDefaults.InstallerBaseUrl).Trim().TrimEnd('/');
        if (!OneLine("installerBaseUrl", baseUrl, errors)) { }
        else if (baseUrl.Length > MaxUrlLength) errors.Add("installerBaseUrl", $"Too long: at most {MaxUrlLength} characters.");
        else if (!Uri.TryCreate(baseUrl, UriKind.Absolute, out var uri) || uri.Scheme is not ("http" or "https") ||
            !string.IsNullOrEmpty(uri.Query) || !string.IsNullOrEmpty(uri.Fragment) || !string.IsNullOrEmpty(uri.UserInfo) || !SafeUrlPattern().IsMatch(baseUrl))
            errors.Add("installerBaseUrl", $"Give an http or https URL without query, credentials or spaces, such as {ClusterDefaults.InstallerBaseUrl}.");
        else if (uri.Scheme == Uri.UriSchemeHttp)
            warnings.Add(new("installerBaseUrl", "The installer comes over plain http: it runs as root on every node, and anything on the network path can " +
                                                 "change it. Use https, or pin the installer's SHA-256 (Fetch digests on the cluster page)."));
        var masterSha256 = Sha256(spec.InstallerSha256?.Master, "installerSha256.master", errors);
        var mediaSha256 = Sha256(spec.InstallerSha256?.Media, "installerSha256.media", errors);

        var lbIp = string.IsNullOrWhiteSpace(spec.LoadBalancerIp) ? null : spec.LoadBalancerIp.Trim();
        if (lbIp is not null && OneLine("loadBalancerIp", lbIp, errors) && !IsIPv4(lbIp)) errors.Add("loadBalancerIp", "Give the load balancer's IPv4 address as the nodes see it, or leave it empty.");

        var secrets = version is null ? new Dictionary<string, string>() : ResolveSecrets(spec.Secrets, stored, version.Generation, errors);
        var nodes = ValidateNodes(spec.Nodes, stored, maxNodes, errors, warnings);

        if (!errors.IsEmpty || version is null || name is null || domain is null || license is null)
            return new(errors, warnings, null, []);

        var definition = new ClusterDefinition
        {
            Name = name,
            Version = version,
            DomainName = domain,
            TurnDomainName = turn,
            LicenseKey = license,
            RtcEngine = engine,
            Modules = modules,
            InstallerBaseUrl = baseUrl,
            MasterInstallerSha256 = masterSha256,
            MediaInstallerSha256 = mediaSha256,
            LoadBalancerIp = lbIp,
            Rtmp = spec.Options?.Rtmp ?? false,
            Whip = spec.Options?.Whip ?? false,
            WebrtcOverTcp = spec.Options?.WebrtcOverTcp ?? true,
            Secrets = secrets,
            Nodes = nodes.Select(n => n.Node).ToList(),
        };
        return new(errors, warnings, definition, nodes);
    }

    /// <summary>A pinned installer digest: 64 hex digits, stored lowercase; empty means none.</summary>
    private static string? Sha256(string? given, string field, ValidationErrors errors)
    {
        var value = given?.Trim().ToLowerInvariant();
        if (string.IsNullOrEmpty(value)) return null;
        if (Sha256Pattern().IsMatch(value)) return value;
        errors.Add(field, "Give the SHA-256 as the 64 hexadecimal digits sha256sum prints, or leave it empty.");
        return null;
    }

    internal static List<string> ValidateModules(List<string>? requested, OpenViduVersion? version, ValidationErrors errors)
    {
        var result = new List<string>();
        if (requested is null || version is null) return result;
        var known = Modules.For(version.Generation);
        foreach (var raw in requested)
        {
            var module = raw?.Trim() ?? "";
            var match = known.FirstOrDefault(k => string.Equals(k, module, StringComparison.OrdinalIgnoreCase));
            if (match is null)
            {
                var hint = (module.ToLowerInvariant(), version.Generation) switch
                {
                    ("app", InstallerGeneration.Current) => $" In {version} the default app is '{Modules.OpenViduMeet}'.",
                    ("openvidumeet", InstallerGeneration.V30) => $" In {version} the default app is '{Modules.App}'.",
                    _ => "",
                };
                errors.Add("modules", $"Unknown module '{module}' for OpenVidu {version}: use {string.Join(", ", known)}.{hint}");
            }
            else if (!result.Contains(match)) result.Add(match);
        }
        return known.Where(result.Contains).ToList();
    }

    private static Dictionary<string, string> ResolveSecrets(Dictionary<string, string?>? given, StoredSecrets? stored, InstallerGeneration generation, ValidationErrors errors)
    {
        var result = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in given ?? [])
        {
            var definition = SecretCatalog.Find(key);
            if (definition is null) errors.Add($"secrets.{key}", $"Unknown secret '{key}'. Known: {string.Join(", ", SecretCatalog.All.Select(d => d.Key))}.");
            else if (!definition.AppliesTo(generation) && !string.IsNullOrEmpty(value))
                errors.Add($"secrets.{key}", $"'{key}' is not taken by the installer of this OpenVidu version.");
        }

        foreach (var definition in SecretCatalog.For(generation))
        {
            string? value = null;
            if (given is not null && given.TryGetValue(definition.Key, out var supplied) && !string.IsNullOrEmpty(supplied))
            {
                value = supplied;
                if (value.Length > MaxSecretLength)
                    errors.Add($"secrets.{definition.Key}", $"Too long: at most {MaxSecretLength} characters.");
                else if (!SecretGenerator.IsAlphanumeric(value))
                    errors.Add($"secrets.{definition.Key}", "Use letters and digits only: the installer expands its arguments unquoted, so spaces, quotes or symbols would break the install.");
                else if (value.Length < definition.MinLength)
                    errors.Add($"secrets.{definition.Key}", $"Too short: at least {definition.MinLength} characters.");
            }
            value ??= stored?.Secrets.GetValueOrDefault(definition.Key);
            result[definition.Key] = value ?? SecretGenerator.For(definition);
        }
        return result;
    }

    private static List<ValidatedNode> ValidateNodes(List<NodeSpec>? specs, StoredSecrets? stored, int maxNodes, ValidationErrors errors, List<ValidationWarning> warnings)
    {
        var result = new List<ValidatedNode>();
        if (specs is null || specs.Count == 0)
        {
            errors.Add("nodes", $"Add the {ClusterDefaults.MasterCount} master nodes and at least one media node.");
            return result;
        }
        if (specs.Count > maxNodes)
        {
            errors.Add("nodes", $"At most {maxNodes} nodes per cluster (Clusters:MaxNodes); this one has {specs.Count}.");
            return result;
        }

        int masters = 0, media = 0;
        var privateIps = new Dictionary<string, int>(StringComparer.Ordinal);
        var endpoints = new Dictionary<string, int>(StringComparer.OrdinalIgnoreCase);
        var names = new string[specs.Count];
        var pinned = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        var storedByName = StoredCredentialsByName(specs, stored);
        for (var i = 0; i < specs.Count; i++)
        {
            var spec = specs[i];
            var at = $"nodes[{i}]";
            if (spec is null) { errors.Add(at, "A node is missing."); continue; }

            NodeRole? role = spec.Role?.Trim().ToLowerInvariant() switch
            {
                "master" => NodeRole.Master,
                "media" => NodeRole.Media,
                _ => null,
            };
            if (role is null) errors.Add($"{at}.role", "The role is 'master' or 'media'.");
            var name = role switch
            {
                NodeRole.Master => $"master-{++masters}",
                NodeRole.Media => $"media-{++media}",
                _ => $"node-{i + 1}",
            };
            names[i] = name;

            var privateIp = spec.PrivateIp?.Trim();
            if (!OneLine($"{at}.privateIp", privateIp, errors)) privateIp = null;
            else if (string.IsNullOrEmpty(privateIp)) errors.Add($"{at}.privateIp", "Give the node's private IPv4 address.");
            else if (!IsIPv4(privateIp)) errors.Add($"{at}.privateIp", "Give an IPv4 address such as 10.5.0.1.");
            else if (privateIps.TryGetValue(privateIp, out var other))
            {
                errors.Add($"{at}.privateIp", $"{privateIp} is already the private IP of {names[other]}.");
                errors.Add($"nodes[{other}].privateIp", $"{privateIp} is also the private IP of {name}.");
            }
            else privateIps[privateIp] = i;

            var publicIp = string.IsNullOrWhiteSpace(spec.PublicIp) ? null : spec.PublicIp.Trim();
            if (publicIp is not null)
            {
                if (!OneLine($"{at}.publicIp", publicIp, errors)) { }
                else if (!IsIPv4(publicIp)) errors.Add($"{at}.publicIp", "Give an IPv4 address, or leave it empty to let the installer detect it.");
                else if (role == NodeRole.Master) errors.Add($"{at}.publicIp", "Only media nodes take a public IP: masters are reached through the load balancer.");
            }

            var ssh = ValidateSsh(spec, at, stored, storedByName, errors);
            if (ssh is not null)
            {
                var endpoint = $"{ssh.Host}:{ssh.Port}";
                if (endpoints.TryGetValue(endpoint, out var twin))
                {
                    errors.Add($"{at}.ssh.host", $"{endpoint} is already the SSH address of {names[twin]}.");
                    errors.Add($"nodes[{twin}].ssh.host", $"{endpoint} is also the SSH address of {name}.");
                }
                else endpoints[endpoint] = i;
                if (ssh.HostKeyFingerprint is { } fingerprint)
                {
                    if (!pinned.TryGetValue(fingerprint, out var holders)) pinned[fingerprint] = holders = [];
                    holders.Add(name);
                }
            }

            if (role is not null && privateIp is not null && ssh is not null)
                result.Add(new ValidatedNode(spec.Id, new NodeDefinition(name, role.Value, privateIp, publicIp) { SshPort = ssh.Port }, ssh));
        }

        foreach (var (fingerprint, holders) in pinned.Where(p => p.Value.Count > 1))
            warnings.Add(new("nodes.hostKeys", $"{NameList(holders)} are pinned to the same host key ({fingerprint}). Every machine should have its own: " +
                "machines cloned from one image share their host keys (regenerate them with 'rm /etc/ssh/ssh_host_*; ssh-keygen -A'), " +
                "or a fingerprint was copied to the wrong row."));

        if (masters != ClusterDefaults.MasterCount)
            errors.Add("nodes", $"An HA cluster has exactly {ClusterDefaults.MasterCount} master nodes; this one has {masters}.");
        if (media == 0) errors.Add("nodes", "Add at least one media node.");
        else if (media < ClusterDefaults.RecommendedMediaNodes)
            warnings.Add(new("nodes", $"One media node is no high availability for media: the guide asks for at least {ClusterDefaults.RecommendedMediaNodes}."));
        return result;
    }

    /// <summary>The stored credentials of the stored nodes, by the names the nodes get (master-1.., media-1..): what <c>sameAs</c> names.</summary>
    private static Dictionary<string, SshCredentials> StoredCredentialsByName(List<NodeSpec> specs, StoredSecrets? stored)
    {
        var byName = new Dictionary<string, SshCredentials>(StringComparer.OrdinalIgnoreCase);
        int masters = 0, media = 0;
        foreach (var spec in specs)
        {
            var name = spec?.Role?.Trim().ToLowerInvariant() switch
            {
                "master" => $"master-{++masters}",
                "media" => $"media-{++media}",
                _ => null,
            };
            if (name is not null && spec!.Id is { } id && stored?.NodeCredentials.GetValueOrDefault(id) is { } credentials) byName[name] = credentials;
        }
        return byName;
    }

    private static SshAccess? ValidateSsh(NodeSpec spec, string at, StoredSecrets? stored, Dictionary<string, SshCredentials> storedByName, ValidationErrors errors)
    {
        var ssh = spec.Ssh;
        at += ".ssh";
        if (ssh is null) { errors.Add(at, "Give the node's SSH access."); return null; }
        var ok = true;

        var host = ssh.Host?.Trim();
        if (!OneLine($"{at}.host", host, errors)) { host = null; ok = false; }
        else if (string.IsNullOrEmpty(host)) { errors.Add($"{at}.host", "Give the SSH host name or IP address."); ok = false; }
        else if (!IsIPv4(host) && !IsHostName(host)) { errors.Add($"{at}.host", "Give a host name or IPv4 address."); ok = false; }

        var port = ssh.Port ?? 22;
        if (port is < 1 or > 65535) { errors.Add($"{at}.port", "The SSH port is between 1 and 65535."); ok = false; }

        var user = ssh.Username?.Trim();
        if (!OneLine($"{at}.username", user, errors)) { user = null; ok = false; }
        else if (string.IsNullOrEmpty(user)) { errors.Add($"{at}.username", "Give the SSH user."); ok = false; }
        else if (!UserPattern().IsMatch(user)) { errors.Add($"{at}.username", "Not a valid Unix user name."); ok = false; }

        var previous = spec.Id is { } id ? stored?.NodeCredentials.GetValueOrDefault(id) : null;
        var key = string.IsNullOrWhiteSpace(ssh.PrivateKey) ? null : ssh.PrivateKey.Trim() + "\n";
        var password = string.IsNullOrEmpty(ssh.Password) ? null : ssh.Password;
        var passphrase = string.IsNullOrEmpty(ssh.PrivateKeyPassphrase) ? null : ssh.PrivateKeyPassphrase;
        foreach (var (field, secret) in new[] { ("password", password), ("privateKeyPassphrase", passphrase), ("sudoPassword", ssh.SudoPassword) })
        {
            if (secret is null) continue;
            if (secret.Length > MaxPasswordLength) errors.Add($"{at}.{field}", $"Too long: at most {MaxPasswordLength} characters.");
            else if (secret.Any(char.IsControl)) errors.Add($"{at}.{field}", "A password cannot hold a line break, tab or other control character: it is typed as one line.");
            else continue;
            ok = false;
        }
        if (key is not null && key.Length > MaxPrivateKeyLength)
        {
            errors.Add($"{at}.privateKey", $"Too long for a private key: at most {MaxPrivateKeyLength} characters (an RSA 4096 key is about 3,400).");
            return null;
        }
        if (!string.IsNullOrWhiteSpace(ssh.SameAs))
        {
            var sameAs = ssh.SameAs.Trim();
            if (key is not null || password is not null || passphrase is not null || !string.IsNullOrEmpty(ssh.SudoPassword))
            {
                errors.Add($"{at}.sameAs", $"Sign in like {ArtifactText.OneLine(sameAs)} or with credentials of its own, not both: leave the key, password, passphrase and sudo password empty.");
                return null;
            }
            if (!storedByName.TryGetValue(sameAs, out previous))
            {
                errors.Add($"{at}.sameAs", storedByName.Count == 0
                    ? "sameAs names a stored node of this cluster, and none is stored yet: give the credentials."
                    : $"'{ArtifactText.OneLine(sameAs)}' is not a stored node of this cluster: name one of {string.Join(", ", storedByName.Keys)}.");
                return null;
            }
        }
        if (key is null && password is null && previous is not null)
        {
            key = previous.PrivateKey;
            password = previous.Password;
            passphrase ??= previous.PrivateKeyPassphrase;
        }

        if (key is not null && password is not null) { errors.Add($"{at}.password", "Give a private key or a password, not both."); ok = false; }
        else if (key is null && password is null) { errors.Add($"{at}.privateKey", "Give a private key (or a password)."); ok = false; }
        else if (key is not null && SshKeyInspector.Check(key, passphrase) is { } keyProblem)
        {
            errors.Add(keyProblem.Contains("passphrase", StringComparison.Ordinal) ? $"{at}.privateKeyPassphrase" : $"{at}.privateKey", keyProblem);
            ok = false;
        }
        if (key is null && passphrase is not null) { errors.Add($"{at}.privateKeyPassphrase", "A passphrase goes with a private key."); ok = false; }

        var sudo = string.IsNullOrEmpty(ssh.SudoPassword) ? previous?.SudoPassword : ssh.SudoPassword;

        var fingerprint = string.IsNullOrWhiteSpace(ssh.HostKeyFingerprint) ? null : ssh.HostKeyFingerprint.Trim();
        if (fingerprint is not null && !IsFingerprint(fingerprint))
        {
            errors.Add($"{at}.hostKeyFingerprint", "Give the host key's SHA256 fingerprint as 'ssh-keygen -lf' prints it: SHA256: followed by 43 base64 characters.");
            ok = false;
        }

        return ok && host is not null && user is not null
            ? new SshAccess(host, port, user, new SshCredentials(key, key is null ? null : passphrase, password, sudo), fingerprint)
            : null;
    }

    private static string NameList(List<string> names) =>
        names.Count == 2 ? $"{names[0]} and {names[1]}" : $"{string.Join(", ", names.Take(names.Count - 1))} and {names[^1]}";

    /// <summary>
    /// A one-line field holds no control character (line break, tab, NUL, escape): it would end up as a broken line in a
    /// generated file or an install command. Says so at the field; false means the field's other checks are skipped.
    /// </summary>
    private static bool OneLine(string field, string? value, ValidationErrors errors)
    {
        if (value is null || !value.Any(char.IsControl)) return true;
        errors.Add(field, "Remove the line break, tab or other control character: this field is one line of plain text.");
        return false;
    }

    /// <summary>A host key fingerprint as <c>ssh-keygen -lf</c> prints it (SHA256: and 43 base64 characters), nothing around it.</summary>
    public static bool IsFingerprint(string text) => FingerprintPattern().IsMatch(text);

    public static bool IsIPv4(string text) =>
        IPv4Pattern().IsMatch(text) && IPAddress.TryParse(text, out var ip) && ip.AddressFamily == AddressFamily.InterNetwork;

    public static bool IsFqdn(string text)
    {
        if (text.Length > 253 || IPv4Pattern().IsMatch(text)) return false;
        var labels = text.Split('.');
        return labels.Length >= 2 && labels.All(l => LabelPattern().IsMatch(l)) && labels[^1].Any(char.IsLetter);
    }

    private static bool IsHostName(string text) => text.Length <= 253 && text.Split('.').All(l => LabelPattern().IsMatch(l));

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex NamePattern();

    [GeneratedRegex(@"\A(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\z", RegexOptions.CultureInvariant)]
    private static partial Regex IPv4Pattern();

    [GeneratedRegex(@"\A[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\z", RegexOptions.CultureInvariant | RegexOptions.IgnoreCase)]
    private static partial Regex LabelPattern();

    [GeneratedRegex(@"\A[A-Za-z0-9._-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex LicensePattern();

    [GeneratedRegex(@"\A[A-Za-z0-9:/._~%-]+\z", RegexOptions.CultureInvariant)]
    private static partial Regex SafeUrlPattern();

    [GeneratedRegex(@"\A[a-z_][a-z0-9_.-]{0,31}\$?\z", RegexOptions.CultureInvariant)]
    private static partial Regex UserPattern();

    [GeneratedRegex(@"\ASHA256:[A-Za-z0-9+/]{43}=?\z", RegexOptions.CultureInvariant)]
    private static partial Regex FingerprintPattern();

    [GeneratedRegex(@"^[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Pattern();
}
