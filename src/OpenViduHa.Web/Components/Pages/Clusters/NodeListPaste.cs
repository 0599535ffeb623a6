using System.Globalization;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Web.Components.Pages.Clusters;

/// <summary>One pasted line: a node's private IP and, for a media node, its public IP.</summary>
public sealed record PastedNode(string PrivateIp, string? PublicIp);

/// <summary>What a paste gave: the lines in order, or why it was refused (nothing is applied then).</summary>
public sealed record PasteResult(IReadOnlyList<PastedNode> Nodes, IReadOnlyList<string> Errors)
{
    public bool Succeeded => Errors.Count == 0 && Nodes.Count > 0;
}

/// <summary>
/// The wizard's "paste a list of IPs": one node per line, the private IP first and, for a media node, its public IP after
/// a space, tab, comma or semicolon (what a spreadsheet or a cloud console's export gives). The first
/// <see cref="ClusterDefaults.MasterCount"/> lines are the masters, the rest media nodes. Blank lines and <c>#</c> comments
/// are skipped. Pure, so the rules are tested without a browser.
/// </summary>
public static class NodeListPaste
{
    private static readonly char[] _separators = [' ', '\t', ',', ';'];

    public static PasteResult Parse(string? text)
    {
        var nodes = new List<PastedNode>();
        var errors = new List<string>();
        var seen = new Dictionary<string, string>(StringComparer.Ordinal);
        var lines = (text ?? "").Split('\n');
        for (var i = 0; i < lines.Length; i++)
        {
            var line = lines[i].Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            var number = (i + 1).ToString(CultureInfo.InvariantCulture);
            var name = nodes.Count < ClusterDefaults.MasterCount
                ? $"master-{nodes.Count + 1}"
                : $"media-{nodes.Count - ClusterDefaults.MasterCount + 1}";
            var parts = line.Split(_separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
            var shown = parts.Length > 0 ? parts[0] : line;
            if (parts.Length > 2)
            {
                errors.Add($"Line {number} ({name}): give the private IP and, for a media node, its public IP; '{Shorten(line)}' has {parts.Length} values.");
                nodes.Add(new PastedNode(parts[0], null));
                continue;
            }
            if (!ClusterValidator.IsIPv4(parts[0]))
                errors.Add($"Line {number} ({name}): '{Shorten(shown)}' is not an IPv4 address such as 10.5.0.1.");
            string? publicIp = parts.Length == 2 ? parts[1] : null;
            if (publicIp is not null)
            {
                if (nodes.Count < ClusterDefaults.MasterCount)
                    errors.Add($"Line {number} ({name}): masters take no public IP (the load balancer reaches them); the first {ClusterDefaults.MasterCount} lines are the masters.");
                else if (!ClusterValidator.IsIPv4(publicIp))
                    errors.Add($"Line {number} ({name}): the public IP '{Shorten(publicIp)}' is not an IPv4 address.");
            }
            if (seen.TryGetValue(parts[0], out var first))
                errors.Add($"Line {number} ({name}): {parts[0]} is already the private IP of {first}.");
            else seen[parts[0]] = name;
            nodes.Add(new PastedNode(parts[0], publicIp));
        }
        if (nodes.Count == 0 && errors.Count == 0) errors.Add("Paste one node per line: the private IP, then the public IP for media nodes.");
        return new PasteResult(errors.Count == 0 ? nodes : [], errors);
    }

    private static string Shorten(string text) => text.Length <= 40 ? text : text[..40] + "…";
}
