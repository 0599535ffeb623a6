using System.Globalization;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Web.Components.Pages.Clusters;

/// <summary>The wizard's steps and the validator's field paths: which step a field is on, and how to name it to a person.</summary>
public static partial class WizardFields
{
    public const int GeneralStep = 0;
    public const int NodesStep = 1;
    public const int SecretsStep = 2;
    public const int ReviewStep = 3;

    public static readonly string[] StepTitles = ["General", "Nodes", "Secrets", "Review"];

    /// <summary>The shared SSH access's fields: <c>nodes.ssh.privateKey</c> (on the nodes step, named for no single node).</summary>
    public const string SharedSshPrefix = "nodes.ssh.";

    /// <summary>Matches by prefix: <c>nodes…</c> are on the nodes step, <c>secrets.…</c> on the secrets step, the rest on the first.</summary>
    public static int StepOf(string field) =>
        field.StartsWith("nodes", StringComparison.Ordinal) ? NodesStep
        : field.StartsWith("secrets", StringComparison.Ordinal) ? SecretsStep
        : GeneralStep;

    public static int? NodeIndex(string field)
    {
        var match = NodePath().Match(field);
        return match.Success ? int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture) : null;
    }

    private static readonly Dictionary<string, string> _labels = new(StringComparer.Ordinal)
    {
        ["name"] = "Cluster name",
        ["openviduVersion"] = "OpenVidu version",
        ["domainName"] = "Domain name",
        ["turnDomainName"] = "TURN domain name",
        ["licenseKey"] = "OpenVidu PRO licence",
        ["rtcEngine"] = "RTC engine",
        ["modules"] = "Modules",
        ["installerBaseUrl"] = "Installer base URL",
        ["loadBalancerIp"] = "Load balancer IP",
        ["nodes"] = "Nodes",
        ["role"] = "Role",
        ["privateIp"] = "Private IP",
        ["publicIp"] = "Public IP",
        ["ssh"] = "SSH access",
        ["ssh.host"] = "SSH host",
        ["ssh.port"] = "SSH port",
        ["ssh.username"] = "SSH user",
        ["ssh.privateKey"] = "Private key",
        ["ssh.privateKeyPassphrase"] = "Key passphrase",
        ["ssh.password"] = "SSH password",
        ["ssh.sudoPassword"] = "Sudo password",
        ["ssh.hostKeyFingerprint"] = "Host key fingerprint",
        ["ssh.sameAs"] = "SSH access",
    };

    public static string Label(string field) => _labels.GetValueOrDefault(field) ?? field;

    /// <summary>A field path as a person reads it: <c>nodes[4].ssh.host</c> is "media-1 · SSH host".</summary>
    public static string Describe(string field, IReadOnlyList<NodeForm> nodes)
    {
        if (field.StartsWith("secrets.", StringComparison.Ordinal))
        {
            var key = field["secrets.".Length..];
            return SecretCatalog.Find(key) is { } secret ? $"Secret {SecretLabel(secret)}" : $"Secret {key}";
        }
        if (field.StartsWith(SharedSshPrefix, StringComparison.Ordinal))
            return $"Shared SSH access · {Label("ssh." + field[SharedSshPrefix.Length..])}";
        var match = NodePath().Match(field);
        if (!match.Success) return Label(field);
        var index = int.Parse(match.Groups[1].Value, CultureInfo.InvariantCulture);
        var node = index < nodes.Count ? NodeName(nodes, index) : $"Node {index + 1}";
        var rest = match.Groups[2].Value.TrimStart('.');
        return rest.Length == 0 ? node : $"{node} · {Label(rest)}";
    }

    /// <summary>master-1..master-4 then media-1..: the names the validator gives, in row order.</summary>
    public static string NodeName(IReadOnlyList<NodeForm> nodes, int index)
    {
        var node = nodes[index];
        var ordinal = nodes.Take(index + 1).Count(n => n.IsMaster == node.IsMaster);
        return node.IsMaster ? $"master-{ordinal}" : $"media-{ordinal}";
    }

    private static readonly Dictionary<string, string> _words = new(StringComparer.Ordinal)
    {
        ["livekit"] = "LiveKit", ["api"] = "API", ["minio"] = "MinIO", ["mongo"] = "MongoDB", ["redis"] = "Redis",
        ["grafana"] = "Grafana", ["meet"] = "Meet", ["app"] = "app",
    };

    /// <summary>The installer flag as a label: <c>livekit-api-key</c> is "LiveKit API key".</summary>
    public static string SecretLabel(SecretDefinition secret)
    {
        var words = secret.Flag.Split('-').Select(w => _words.GetValueOrDefault(w) ?? w).ToArray();
        if (words[0].Length > 0 && char.IsLower(words[0][0])) words[0] = char.ToUpperInvariant(words[0][0]) + words[0][1..];
        return string.Join(' ', words);
    }

    [GeneratedRegex(@"\Anodes\[(\d+)\](.*)\z", RegexOptions.CultureInvariant)]
    private static partial Regex NodePath();
}
