using System.Net;
using System.Net.Sockets;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// The values artifacts write unquoted into configuration (IPs, domains, node names) must be what they claim to be:
/// a stray <c>;</c> or newline in a domain would otherwise become an NGINX or HAProxy directive. The cluster validator
/// is the first line; this is the second, at the place the text is produced. Messages name the field, never a secret.
/// </summary>
internal static partial class ArtifactInput
{
    public static void Check(ClusterDefinition cluster)
    {
        ArgumentNullException.ThrowIfNull(cluster);
        Hostname(cluster.DomainName, "domain name", nameof(cluster));
        if (cluster.TurnDomainName is not null) Hostname(cluster.TurnDomainName, "TURN domain name", nameof(cluster));
        if (cluster.LoadBalancerIp is not null) Ipv4(cluster.LoadBalancerIp, "load balancer IP", nameof(cluster));
        if (!Uri.TryCreate(cluster.InstallerBaseUrl, UriKind.Absolute, out var url) || (url.Scheme != Uri.UriSchemeHttp && url.Scheme != Uri.UriSchemeHttps))
            throw new ArgumentException("The installer base URL must be an absolute http or https URL.", nameof(cluster));
        foreach (var digest in new[] { cluster.MasterInstallerSha256, cluster.MediaInstallerSha256 })
        {
            if (digest is not null && !Sha256Hex().IsMatch(digest))
                throw new ArgumentException("A pinned installer SHA-256 is 64 lowercase hexadecimal digits.", nameof(cluster));
        }
        if (cluster.Masters.Count() != ClusterDefaults.MasterCount)
            throw new ArgumentException($"An HA cluster has exactly {ClusterDefaults.MasterCount} master nodes.", nameof(cluster));
        if (!cluster.MediaNodes.Any())
            throw new ArgumentException("An HA cluster needs at least one media node.", nameof(cluster));
        foreach (var node in cluster.Nodes)
        {
            if (!NodeName().IsMatch(node.Name))
                throw new ArgumentException("Node names are lower-case letters, digits and dashes (master-1, media-1...).", nameof(cluster));
            Ipv4(node.PrivateIp, $"{node.Name} private IP", nameof(cluster));
            if (node.PublicIp is not null) Ipv4(node.PublicIp, $"{node.Name} public IP", nameof(cluster));
        }
        if (cluster.Nodes.Select(n => n.Name).Distinct(StringComparer.Ordinal).Count() != cluster.Nodes.Count)
            throw new ArgumentException("Node names must be unique.", nameof(cluster));
        var missing = SecretCatalog.For(cluster.Generation).Where(d => !cluster.Secrets.ContainsKey(d.Key)).Select(d => d.Key).ToList();
        if (missing.Count > 0)
            throw new ArgumentException($"The cluster lacks secrets its generation needs: {string.Join(", ", missing)}.", nameof(cluster));
    }

    /// <summary>The cluster name made safe for a file name: anything but letters, digits, dot, dash and underscore becomes a dash.</summary>
    public static string FileNamePart(string name)
    {
        var safe = UnsafeFileNameChars().Replace(name, "-").Trim('.');
        return safe.Length == 0 ? "cluster" : safe;
    }

    private static void Ipv4(string value, string field, string paramName)
    {
        if (!IPAddress.TryParse(value, out var address) || address.AddressFamily != AddressFamily.InterNetwork ||
            !string.Equals(address.ToString(), value, StringComparison.Ordinal))
            throw new ArgumentException($"The {field} must be an IPv4 address in dotted form.", paramName);
    }

    private static void Hostname(string value, string field, string paramName)
    {
        if (value.Length > 253 || !HostnamePattern().IsMatch(value))
            throw new ArgumentException($"The {field} must be a host name (letters, digits, dashes and dots).", paramName);
    }

    [GeneratedRegex(@"\A[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\z", RegexOptions.CultureInvariant)]
    private static partial Regex HostnamePattern();

    [GeneratedRegex(@"^[0-9a-f]{64}\z", RegexOptions.CultureInvariant)]
    private static partial Regex Sha256Hex();

    [GeneratedRegex(@"\A[a-z0-9][a-z0-9-]{0,62}\z", RegexOptions.CultureInvariant)]
    private static partial Regex NodeName();

    [GeneratedRegex("[^A-Za-z0-9._-]", RegexOptions.CultureInvariant)]
    private static partial Regex UnsafeFileNameChars();
}
