using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>install-commands.sh</c>: every node's non-interactive install command, behind a <c>case</c> on the node name so that
/// running the file installs exactly one node. Each command goes through <see cref="InstallerFunction"/>, the same
/// download-check-run step the install job uploads to the node (<see cref="NodeScript"/>).
/// </summary>
public static class InstallCommandsArtifact
{
    public const string Name = "install-commands.sh";

    /// <summary>The bash function both this file and the job's script run the installer through.</summary>
    public const string FunctionName = "ovha_install";

    /// <summary>Indentation of the flags under the function's line, as the guide indents them.</summary>
    private const string FlagIndent = "    ";

    internal static GeneratedArtifact Generate(ClusterDefinition cluster)
    {
        var text = new ArtifactText()
            .Line("#!/usr/bin/env bash")
            .Header(cluster, "#", "OpenVidu HA install commands, one per node. Holds the cluster's secrets: keep it private.")
            .Line("#")
            .Line("# Usage, as root on the node being installed: bash " + ArtifactInput.FileNamePart(cluster.Name) + "-" + Name + " <node>")
            .Line("# Each command downloads the installer to a private temporary folder, checks it, and only then runs it with sh.")
            .Line("set -euo pipefail")
            .Line()
            .Lines(InstallerFunction(cluster))
            .Line()
            .Line("usage() {")
            .Line("  printf 'Usage: bash %s <node>\\n' \"$0\" >&2")
            .Line("  printf '%s\\n' >&2 \\")
            .Line("    'Run it as root on the node being installed. Nodes (private IP):' \\");
        var nodes = cluster.Masters.Concat(cluster.MediaNodes).ToList();
        for (var i = 0; i < nodes.Count; i++)
            text.Line($"    {ShellQuote.Quote($"  {nodes[i].Name}  {nodes[i].PrivateIp}")}" + (i < nodes.Count - 1 ? " \\" : ""));
        text.Line("  exit 2")
            .Line("}")
            .Line()
            .Line("if [ \"$#\" -ne 1 ]; then")
            .Line("  usage")
            .Line("fi")
            .Line()
            .Line("case \"$1\" in");
        foreach (var node in nodes)
        {
            text.Line($"  {ShellQuote.Quote(node.Name)})");
            text.Lines(InvocationLines(cluster, node).Select(l => "    " + l));
            text.Line("    ;;");
        }
        text.Line("  *)")
            .Line("    printf 'Unknown node: %s\\n' \"$1\" >&2")
            .Line("    usage")
            .Line("    ;;")
            .Line("esac")
            .Line()
            .Line("# The installer does not start OpenVidu. Once every node is installed, run")
            .Line("#   systemctl start openvidu")
            .Line("# on all 4 master nodes first (the cluster is ready once all of them run), then on each media node.");
        return ArtifactCatalog.Create(cluster, Name, ContentTypes.ShellScript, text.ToString());
    }

    /// <summary>
    /// One node's whole install script, as the install job uploads it to the node (root-only, run by its path, removed
    /// afterwards): bash, the download-check-run function and the node's invocation. It holds secrets: never log it, never
    /// put it on a command line.
    /// </summary>
    public static string NodeScript(ClusterDefinition cluster, NodeDefinition node)
    {
        ArtifactInput.Check(cluster);
        ArgumentNullException.ThrowIfNull(node);
        if (!cluster.Nodes.Contains(node))
            throw new ArgumentException($"Node {node.Name} is not a node of cluster {cluster.Name}.", nameof(node));
        return new ArtifactText()
            .Line("#!/usr/bin/env bash")
            .Line($"# OpenVidu HA panel: installs {node.Name} of cluster '{ArtifactText.OneLine(cluster.Name)}' (OpenVidu {cluster.Version}).")
            .Line("# Holds the cluster's secrets: the panel removes it once the installer has run.")
            .Line("set -euo pipefail")
            .Line()
            .Lines(OneInstallerAtATime)
            .Line()
            .Lines(InstallerFunction(cluster))
            .Line()
            .Lines(InvocationLines(cluster, node))
            .ToString();
    }

    /// <summary>
    /// One installer at a time on a node: an installer a job left running when its panel instance stopped (killed, its
    /// machine gone) ends before a retry's starts, never beside it. The lock is an empty file where Debian keeps lock
    /// files (<c>/run/lock</c>, a tmpfs), apart from the panel's folder of secret files.
    /// </summary>
    internal static readonly string[] OneInstallerAtATime =
    [
        "# One installer at a time on this node: one an interrupted job left running ends before this one starts.",
        "mkdir -p /run/lock",
        "exec 9>>/run/lock/ovha-openvidu-install.lock",
        "if ! flock -w 3600 9; then echo 'Another OpenVidu installer has been running on this node for an hour: not started.' >&2; exit 1; fi",
    ];

    /// <summary>
    /// The step between the guide's <c>sh &lt;(curl …)</c> and a verifiable install: download the installer to a private
    /// temporary folder (with an https base URL, https only: curl refuses a redirect to http), compare its SHA-256 with the
    /// pinned one when the cluster pins one (refusing, with both digests, when they differ), and only then run it with
    /// sh. A failed or cut download never runs, where <c>sh &lt;(curl …)</c> runs whatever arrived and exits 0.
    /// </summary>
    internal static IEnumerable<string> InstallerFunction(ClusterDefinition cluster)
    {
        var https = InstallerUsesHttps(cluster);
        return
        [
            "# Downloads the OpenVidu installer to a private temporary folder, checks its SHA-256 against the pinned one (when",
            "# there is one) and only then runs it with sh, as the install guide's sh <(curl ...) would.",
            https
                ? "# https only: curl refuses plain http, also through a redirect."
                : "# The installer base URL is plain http: nothing protects the download in transit. Pin its SHA-256 in the panel.",
            $"{FunctionName}() {{",
            "  local url=\"$1\" expected=\"$2\" actual",
            "  shift 2",
            "  ovha_dir=\"$(mktemp -d)\" || return",
            "  trap 'rm -rf -- \"$ovha_dir\"' EXIT",
            $"  curl {CurlOptions(cluster)} -o \"$ovha_dir/installer.sh\" \"$url\" || return",
            "  actual=\"$(sha256sum \"$ovha_dir/installer.sh\")\" || return",
            "  actual=\"${actual%% *}\"",
            "  if [ -n \"$expected\" ] && [ \"$actual\" != \"$expected\" ]; then",
            "    printf 'Refused: the installer %s has SHA-256 %s, but the pinned one is %s. It was not run.\\n' \"$url\" \"$actual\" \"$expected\" >&2",
            "    return 1",
            "  fi",
            "  printf 'Installer %s, SHA-256 %s%s\\n' \"$url\" \"$actual\" \"${expected:+, as pinned}\"",
            "  sh \"$ovha_dir/installer.sh\" \"$@\"",
            "}",
        ];
    }

    /// <summary>How every download of the installer calls curl: fail on HTTP errors, follow redirects, and with an https base URL, https only.</summary>
    public static string CurlOptions(ClusterDefinition cluster) =>
        InstallerUsesHttps(cluster) ? "-fsSL --proto '=https' --proto-redir '=https'" : "-fsSL";

    /// <summary>Whether the cluster's installer comes over https (curl then refuses anything else).</summary>
    public static bool InstallerUsesHttps(ClusterDefinition cluster) =>
        cluster.InstallerBaseUrl.StartsWith("https://", StringComparison.OrdinalIgnoreCase);

    /// <summary><c>ovha_install 'URL' 'SHA-256'</c> and the node's flags, one per line with <c>\</c> continuations.</summary>
    private static IEnumerable<string> InvocationLines(ClusterDefinition cluster, NodeDefinition node)
    {
        var lines = new List<string>
        {
            $"{FunctionName} {ShellQuote.Quote(InstallerUrl(cluster, node.Role))} {ShellQuote.Quote(cluster.InstallerSha256(node.Role) ?? "")}",
            "--no-tty --install",
            ShellQuote.Flag("deployment-type", "ha"),
        };
        lines.AddRange(Flags(cluster, node));
        return lines.Select((line, i) => (i == 0 ? line : FlagIndent + line) + (i < lines.Count - 1 ? " \\" : ""));
    }

    /// <summary>The installer's flags for a node, in order, as <c>--flag='value'</c> or a bare <c>--flag</c>.</summary>
    internal static IReadOnlyList<string> Flags(ClusterDefinition cluster, NodeDefinition node) =>
        (node.Role, cluster.Generation) switch
        {
            (NodeRole.Master, InstallerGeneration.V30) => MasterFlagsV30(cluster),
            (NodeRole.Master, _) => MasterFlagsCurrent(cluster),
            (NodeRole.Media, InstallerGeneration.V30) => MediaFlagsV30(cluster, node),
            _ => MediaFlagsCurrent(cluster, node),
        };

    internal static string InstallerUrl(ClusterDefinition cluster, NodeRole role) =>
        $"{cluster.InstallerBaseUrl.TrimEnd('/')}/pro/ha/{cluster.Version}/" +
        (role == NodeRole.Master ? "install_ov_master_node.sh" : "install_ov_media_node.sh");

    /// <summary>The reference's "Non-interactive installation" master command, flag for flag and in its order.</summary>
    private static List<string> MasterFlagsV30(ClusterDefinition cluster)
    {
        var flags = new List<string>
        {
            ShellQuote.Flag("node-role", "master-node"),
            ShellQuote.Flag("master-node-private-ip-list", cluster.MasterIpList),
            ShellQuote.Flag("openvidu-pro-license", cluster.LicenseKey),
            ShellQuote.Flag("domain-name-or-ip", cluster.DomainName),
        };
        AddModulesAndTurn(cluster, flags, includeRtcEngine: false);
        // SecretCatalog lists the secrets in the reference master command's order, default-app ones last.
        flags.AddRange(SecretCatalog.For(cluster.Generation).Select(d => ShellQuote.Flag(d.Flag, cluster.Secret(d.Key))));
        flags.Add("--external-load-balancer");
        return flags;
    }

    private static List<string> MasterFlagsCurrent(ClusterDefinition cluster)
    {
        var flags = new List<string>
        {
            ShellQuote.Flag("node-role", "master-node"),
            ShellQuote.Flag("master-node-private-ip-list", cluster.MasterIpList),
            ShellQuote.Flag("openvidu-pro-license", cluster.LicenseKey),
            ShellQuote.Flag("domain-name", cluster.DomainName),
        };
        AddModulesAndTurn(cluster, flags, includeRtcEngine: true);
        // Same order as 3.0.x; the two OpenVidu Meet secrets take the place of the four default-app ones.
        flags.AddRange(SecretCatalog.For(cluster.Generation).Select(d => ShellQuote.Flag(d.Flag, cluster.Secret(d.Key))));
        if (cluster.MediaNodes.Any(n => n.PublicIp is not null)) flags.Add("--force-media-node-public-ip");
        flags.Add("--external-load-balancer");
        return flags;
    }

    /// <summary>The reference's media command, in its order, with <c>--public-ip</c> last when the node has one.</summary>
    private static List<string> MediaFlagsV30(ClusterDefinition cluster, NodeDefinition node)
    {
        var flags = new List<string>
        {
            ShellQuote.Flag("node-role", "media-node"),
            ShellQuote.Flag("domain-name-or-ip", cluster.DomainName),
            ShellQuote.Flag("master-node-private-ip-list", cluster.MasterIpList),
            ShellQuote.Flag("openvidu-pro-license", cluster.LicenseKey),
            ShellQuote.Flag("rtc-engine", RtcEngineValue(cluster.RtcEngine)),
        };
        AddModulesAndTurn(cluster, flags, includeRtcEngine: false);
        string[] secrets =
        [
            SecretCatalog.LivekitApiKey, SecretCatalog.LivekitApiSecret, SecretCatalog.RedisPassword, SecretCatalog.MinioAccessKey,
            SecretCatalog.MinioSecretKey, SecretCatalog.MongoAdminUser, SecretCatalog.MongoAdminPassword,
        ];
        flags.AddRange(secrets.Select(key => ShellQuote.Flag(SecretCatalog.Find(key)!.Flag, cluster.Secret(key))));
        if (node.PublicIp is not null) flags.Add(ShellQuote.Flag("public-ip", node.PublicIp));
        return flags;
    }

    /// <summary>Current media nodes read everything else from the masters; the Redis password must equal theirs.</summary>
    private static List<string> MediaFlagsCurrent(ClusterDefinition cluster, NodeDefinition node)
    {
        var flags = new List<string>
        {
            ShellQuote.Flag("node-role", "media-node"),
            ShellQuote.Flag("master-node-private-ip-list", cluster.MasterIpList),
            ShellQuote.Flag("redis-password", cluster.Secret(SecretCatalog.RedisPassword)),
            ShellQuote.Flag("private-ip", node.PrivateIp),
        };
        if (node.PublicIp is not null) flags.Add(ShellQuote.Flag("public-ip", node.PublicIp));
        return flags;
    }

    private static void AddModulesAndTurn(ClusterDefinition cluster, List<string> flags, bool includeRtcEngine)
    {
        if (cluster.Modules.Count > 0) flags.Add(ShellQuote.Flag("enabled-modules", string.Join(',', cluster.Modules)));
        if (includeRtcEngine) flags.Add(ShellQuote.Flag("rtc-engine", RtcEngineValue(cluster.RtcEngine)));
        if (cluster.TurnDomainName is not null) flags.Add(ShellQuote.Flag("turn-domain-name", cluster.TurnDomainName));
    }

    private static string RtcEngineValue(RtcEngine engine) => engine switch
    {
        RtcEngine.Pion => "pion",
        RtcEngine.Mediasoup => "mediasoup",
        _ => throw new ArgumentOutOfRangeException(nameof(engine), engine, "Unknown RTC engine."),
    };
}
