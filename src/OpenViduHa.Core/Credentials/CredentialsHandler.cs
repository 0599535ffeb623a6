using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Credentials;

public enum CredentialStatus
{
    Equal,
    Different,
    Missing,
}

/// <summary>One key on one node. Carries no value: only whether it matches the panel's.</summary>
public sealed record CredentialComparison(string File, string Key, CredentialStatus Status);

/// <summary>
/// check-credentials reads every node's config back and compares each credential with the cluster's;
/// distribute-credentials writes the panel's values into every node (backup first, mode 0600, atomic replace),
/// then restarts the nodes one at a time.
/// </summary>
public sealed class CredentialsHandler(NodeOps ops, PrivateFiles privateFiles, ServiceHandler service) : IJobHandler
{
    public IEnumerable<JobKind> Kinds => [JobKind.CheckCredentials, JobKind.DistributeCredentials];

    public async Task RunAsync(JobRun run)
    {
        if (run.Kind == JobKind.CheckCredentials)
        {
            await ops.ForEachAsync(run.Scope, node => CheckAsync(run, node));
            return;
        }

        // New values take effect through the rolling restart, which never takes a master down while another is down: with
        // a master down it would restart nothing and leave the nodes with new values on disk and the old ones in memory.
        var unhealthy = await service.UnhealthyMastersAsync(run);
        if (unhealthy.Count > 0)
        {
            var reason = $"Not written: the new values take effect through a rolling restart, which needs every master healthy first, and {string.Join(", ", unhealthy)} {(unhealthy.Count == 1 ? "is" : "are")} not.";
            foreach (var node in run.Scope) await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, reason);
            return;
        }

        var written = new List<JobNode>();
        await ops.ForEachAsync(run.Scope, async node =>
        {
            if (await DistributeAsync(run, node)) lock (written) written.Add(node);
        });
        if (written.Count == 0) return;
        await run.Context.LogAsync(null, "Rolling restart so every node reads its new values: masters one at a time, then media nodes.");
        await service.RollingRestartAsync(run, written, finalState: "Credentials written and node restarted");
    }

    private async Task CheckAsync(JobRun run, JobNode node)
    {
        try
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "Reading config files");
            await using var session = await ops.ConnectAsync(run, node);
            var comparisons = await CompareAsync(run, session, node);
            var off = comparisons.Where(c => c.Status != CredentialStatus.Equal).ToList();
            foreach (var c in off) await run.Context.LogAsync(node.Name, $"{c.Key} in {c.File}: {c.Status.ToString().ToLowerInvariant()}");
            await run.Context.SetNodeAsync(node.Id, off.Count == 0 ? NodeJobState.Succeeded : NodeJobState.Failed,
                off.Count == 0 ? $"All {comparisons.Count} values equal the cluster's"
                    : $"{off.Count} of {comparisons.Count} differ or are missing: {string.Join(", ", off.Select(c => c.Key).Distinct())}",
                comparisons);
        }
        catch (SshFailureException e)
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
        }
    }

    internal async Task<List<CredentialComparison>> CompareAsync(JobRun run, ISshSession session, JobNode node)
    {
        var result = new List<CredentialComparison>();
        foreach (var group in CredentialLayout.For(run.Cluster, node.Definition).GroupBy(e => e.File))
        {
            var content = await ReadAsync(run, session, group.Key);
            var values = content is null ? [] : EnvFile.Parse(content);
            foreach (var entry in group)
            {
                var status = !values.TryGetValue(entry.Key, out var actual) ? CredentialStatus.Missing
                    : string.Equals(actual, entry.Expected, StringComparison.Ordinal) ? CredentialStatus.Equal
                    : CredentialStatus.Different;
                result.Add(new(entry.File, entry.Key, status));
            }
        }
        return result;
    }

    private async Task<bool> DistributeAsync(JobRun run, JobNode node)
    {
        var context = run.Context;
        try
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Writing config files");
            await using var session = await ops.ConnectAsync(run, node);
            var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
            foreach (var group in CredentialLayout.For(run.Cluster, node.Definition).GroupBy(e => e.File))
            {
                var file = group.Key;
                var current = await ReadAsync(run, session, file)
                              ?? throw new InvalidOperationException($"{file} does not exist on {node.Name}: is the node installed? Reinstall it instead.");
                var updated = EnvFile.Update(current, group.Select(e => KeyValuePair.Create(e.Key, e.Expected)));
                if (updated == current)
                {
                    await context.LogAsync(node.Name, $"{file}: already equal, left as is");
                    continue;
                }
                await WriteAtomicAsync(run, session, file, updated, stamp);
                await context.LogAsync(node.Name, $"{file}: updated (backup {file}.bak-{stamp})");
            }
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Written; waiting for the rolling restart");
            return true;
        }
        catch (Exception e) when (e is SshFailureException or InvalidOperationException)
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
            return false;
        }
    }

    private async Task<string?> ReadAsync(JobRun run, ISshSession session, string file)
    {
        // Root-only files: read through the root shell (sudo for other users), not SFTP as the login user.
        var result = await ops.RunQuietAsync(run, session, $"if [ -f {ShellQuote.Quote(file)} ]; then cat {ShellQuote.Quote(file)}; else exit 3; fi", $"read {file}");
        return result.ExitStatus == 3 ? null
            : result.Succeeded ? result.Stdout
            : throw new InvalidOperationException($"Reading {file} failed: {result.LastMessage()}");
    }

    /// <summary>
    /// The new content goes to the node as a root-only file (<see cref="PrivateFiles"/>: never on a command line); then, as
    /// root, the old file is backed up and the new one installed mode 0600 beside the target and renamed over it (a rename
    /// in one directory is atomic: no reader sees half a file).
    /// </summary>
    private async Task WriteAtomicAsync(JobRun run, ISshSession session, string file, string content, string stamp)
    {
        var q = ShellQuote.Quote;
        var staged = await privateFiles.PutAsync(run, session, Path.GetFileName(file), content);
        try
        {
            var dir = Path.GetDirectoryName(file)!.Replace('\\', '/');
            var next = $"{dir}/.{Path.GetFileName(file)}.ovha-new";
            var script = $"set -e; cp -p {q(file)} {q(file + ".bak-" + stamp)}; chmod 600 {q(file + ".bak-" + stamp)}; " +
                         $"install -m 0600 -o root -g root {q(staged)} {q(next)}; mv -f {q(next)} {q(file)}";
            var result = await ops.RunQuietAsync(run, session, script, $"replace {file}");
            if (!result.Succeeded) throw new InvalidOperationException($"Replacing {file} failed: {result.LastMessage()}");
        }
        finally
        {
            // The staged file holds every secret of the file: it goes whatever happened (failure, cancel).
            await privateFiles.RemoveAsync(session, staged);
        }
    }
}
