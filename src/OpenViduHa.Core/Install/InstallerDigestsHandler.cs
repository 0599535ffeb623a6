using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Install;

/// <summary>The SHA-256 a node read from one installer URL.</summary>
public sealed record InstallerDigest(string Role, string Url, string? Sha256, string? Error);

/// <summary>
/// fetch-installer-digests: one node downloads the master and the media installer scripts the way an install would
/// (same URL, same curl options) and reports their SHA-256. The panel records them for the operator to compare and pin,
/// like a host key seen for the first time: nothing is pinned by this job.
/// </summary>
public sealed class InstallerDigestsHandler(NodeOps ops, ClusterService clusters) : IJobHandler
{
    private const string Marker = "ovha-sha256";

    public IEnumerable<JobKind> Kinds => [JobKind.FetchInstallerDigests];

    public async Task RunAsync(JobRun run)
    {
        var node = run.Scope.Single();
        var context = run.Context;
        try
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Downloading the installer scripts");
            await using var session = await ops.ConnectAsync(run, node);
            var urls = new[] { NodeRole.Master, NodeRole.Media }.Select(r => (Role: r == NodeRole.Master ? "master" : "media", Url: InstallCommandsArtifact.InstallerUrl(run.Cluster, r))).ToList();
            var result = await session.RunAsync(Script(run.Cluster, urls), new SshRunOptions
            {
                AsRoot = false,
                Description = "download the installer scripts and hash them",
                Timeout = ops.Options.CommandTimeout,
            }, run.Cancellation);
            var digests = Parse(result.Stdout, result.Stderr, urls);
            foreach (var d in digests)
                await context.LogAsync(node.Name, d.Sha256 is not null ? $"{d.Url}: SHA-256 {d.Sha256}" : $"{d.Url}: {d.Error}");
            var master = digests.Single(d => d.Role == "master").Sha256;
            var media = digests.Single(d => d.Role == "media").Sha256;
            if (master is null || media is null)
            {
                await context.SetNodeAsync(node.Id, NodeJobState.Failed,
                    "Could not download " + string.Join(" and ", digests.Where(d => d.Sha256 is null).Select(d => $"{d.Url} ({d.Error})")), digests);
                return;
            }
            await clusters.RecordFetchedInstallerAsync(context.ClusterId, master, media, node.Name, CancellationToken.None);
            await context.SetNodeAsync(node.Id, NodeJobState.Succeeded,
                $"master {master}, media {media}: compare them with what you trust, then pin them on the cluster page", digests);
        }
        catch (SshFailureException e)
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
        }
    }

    /// <summary>
    /// For each URL, <c>ovha-sha256 &lt;role&gt; &lt;hex&gt;</c> on stdout, or <c>ovha-sha256 &lt;role&gt; failed</c> with curl's
    /// message on stderr as <c>ovha-sha256 &lt;role&gt; error: …</c>.
    /// </summary>
    internal static string Script(ClusterDefinition cluster, IEnumerable<(string Role, string Url)> urls)
    {
        var lines = new List<string>
        {
            "set -o pipefail",
            $"fetch() {{ local s e; e=$(mktemp); if s=$(curl {InstallCommandsArtifact.CurlOptions(cluster)} \"$2\" 2>\"$e\" | sha256sum); then echo \"{Marker} $1 ${{s%% *}}\"; " +
            $"else echo \"{Marker} $1 failed\"; echo \"{Marker} $1 error: $(tail -n 1 \"$e\")\" >&2; fi; rm -f \"$e\"; }}",
        };
        lines.AddRange(urls.Select(u => $"fetch {u.Role} {ShellQuote.Quote(u.Url)}"));
        return string.Join('\n', lines);
    }

    internal static IReadOnlyList<InstallerDigest> Parse(string stdout, string stderr, IEnumerable<(string Role, string Url)> urls) =>
        urls.Select(u =>
        {
            var answer = Find(stdout, u.Role);
            if (answer is { Length: 64 } hex && hex.All(char.IsAsciiHexDigitLower)) return new InstallerDigest(u.Role, u.Url, hex, null);
            var error = Find(stderr, u.Role) is { } e && e.StartsWith("error: ", StringComparison.Ordinal) ? e["error: ".Length..] : null;
            return new InstallerDigest(u.Role, u.Url, null, string.IsNullOrWhiteSpace(error) ? "no answer" : error);
        }).ToList();

    private static string? Find(string text, string role) =>
        text.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.StartsWith($"{Marker} {role} ", StringComparison.Ordinal))?[$"{Marker} {role} ".Length..];
}
