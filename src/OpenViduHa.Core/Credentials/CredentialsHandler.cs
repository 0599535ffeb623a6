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
/// distribute-credentials writes the panel's values into every node (backup first, mode 0600, atomic replace, the last
/// <see cref="BackupsKept"/> backups of each file kept), then restarts the nodes one at a time. If any node could not take
/// the new files, nothing restarts and the nodes that took them get their previous files back: never a half-rotated cluster.
/// </summary>
public sealed class CredentialsHandler(NodeOps ops, PrivateFiles privateFiles, ServiceHandler service) : IJobHandler
{
    /// <summary>Backups of one config file kept on a node (the newest; older ones are removed as a new one is made).</summary>
    public const int BackupsKept = 3;

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

        // One stamp for the whole job: every backup it makes has the same name, and a restore knows which to take.
        var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", System.Globalization.CultureInfo.InvariantCulture);
        var written = new Dictionary<JobNode, IReadOnlyList<string>>();
        var failed = new List<string>();
        await ops.ForEachAsync(run.Scope, async node =>
        {
            var replaced = await DistributeAsync(run, node, stamp);
            lock (written)
            {
                if (replaced is null) failed.Add(node.Name);
                else written[node] = replaced;
            }
        });
        if (failed.Count > 0)
        {
            await UndoAsync(run, written, [.. failed.Order(StringComparer.Ordinal)], stamp);
            return;
        }
        await run.Context.LogAsync(null, "Rolling restart so every node reads its new values: masters one at a time, then media nodes.");
        await service.RollingRestartAsync(run, [.. written.Keys], finalState: "Credentials written and node restarted");
    }

    /// <summary>
    /// Some nodes could not take the new files: nothing restarts, and every node that took them gets its previous files
    /// back, so the cluster keeps running on one set of values (the old one, on disk and in memory alike).
    /// </summary>
    private async Task UndoAsync(JobRun run, Dictionary<JobNode, IReadOnlyList<string>> written, IReadOnlyList<string> failed, string stamp)
    {
        var who = string.Join(", ", failed);
        await run.Context.LogAsync(null, $"{who} could not take the new files: no node is restarted, and the nodes that took them get their previous files back.");
        await ops.ForEachAsync(written.Keys, async node =>
        {
            var files = written[node];
            if (files.Count == 0)
            {
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, $"Not restarted: {who} could not take the new files (this node's were already equal).");
                return;
            }
            try
            {
                await using var session = await ops.ConnectAsync(run, node);
                foreach (var file in files)
                {
                    await RestoreAsync(run, session, file, stamp);
                    await run.Context.LogAsync(node.Name, $"{file}: previous file restored from {file}.bak-{stamp}");
                }
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, $"Previous files restored, not restarted: {who} could not take the new files.");
            }
            catch (Exception e) when (e is SshFailureException or InvalidOperationException)
            {
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed,
                    $"The new files could not be taken back ({e.Message}): this node has the new values on disk, still runs the old ones, and is not restarted. " +
                    $"Run distribute-credentials again once {who} can take the new files, or put back {string.Join(", ", files.Select(f => $"{f}.bak-{stamp}"))} by hand.");
            }
        });
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

    internal Task<List<CredentialComparison>> CompareAsync(JobRun run, ISshSession session, JobNode node) =>
        CompareAsync(run, session, CredentialLayout.For(run.Cluster, node.Definition));

    /// <summary>Each of <paramref name="entries"/> read from the node and compared with what it must be.</summary>
    internal async Task<List<CredentialComparison>> CompareAsync(JobRun run, ISshSession session, IEnumerable<CredentialEntry> entries)
    {
        var result = new List<CredentialComparison>();
        foreach (var group in entries.GroupBy(e => e.File))
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

    /// <returns>The files replaced (empty: all were equal already), or null when the node could not take them (it failed).</returns>
    private async Task<IReadOnlyList<string>?> DistributeAsync(JobRun run, JobNode node, string stamp)
    {
        var context = run.Context;
        var replaced = new List<string>();
        ISshSession? session = null;
        try
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Writing config files");
            session = await ops.ConnectAsync(run, node);
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
                replaced.Add(file);
                await context.LogAsync(node.Name, $"{file}: updated (backup {file}.bak-{stamp})");
            }
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Written; waiting for the rolling restart");
            return replaced;
        }
        catch (Exception e) when (e is SshFailureException or InvalidOperationException)
        {
            // A node that took some of its files and not the others gets those back at once: it is this node that failed.
            var restored = "";
            if (session is not null && replaced.Count > 0)
            {
                try
                {
                    foreach (var file in replaced) await RestoreAsync(run, session, file, stamp);
                    restored = $" Its files already replaced were restored ({string.Join(", ", replaced)}).";
                }
                catch (Exception undo) when (undo is SshFailureException or InvalidOperationException)
                {
                    restored = $" {string.Join(", ", replaced)} could not be restored ({undo.Message}): put back the .bak-{stamp} files by hand.";
                }
            }
            await context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message + restored);
            return null;
        }
        finally
        {
            if (session is not null) await session.DisposeAsync();
        }
    }

    /// <summary>
    /// Sets <paramref name="values"/> in one of a node's config files the way distribution does (a backup first, the new
    /// content through a root-only file, installed 0600 and renamed over the old one); other keys stay as they are.
    /// </summary>
    internal async Task SetValuesAsync(JobRun run, ISshSession session, string file, IEnumerable<KeyValuePair<string, string>> values, string stamp)
    {
        var current = await ReadAsync(run, session, file) ?? throw new InvalidOperationException($"{file} does not exist.");
        var updated = EnvFile.Update(current, values);
        if (updated != current) await WriteAtomicAsync(run, session, file, updated, stamp);
    }

    /// <summary>Puts a file's backup of this job back in its place, atomically, keeping the backup.</summary>
    internal async Task RestoreAsync(JobRun run, ISshSession session, string file, string stamp)
    {
        var q = ShellQuote.Quote;
        var next = $"{Path.GetDirectoryName(file)!.Replace('\\', '/')}/.{Path.GetFileName(file)}.ovha-new";
        var result = await ops.RunQuietAsync(run, session, $"set -e; cp -p {q(file + ".bak-" + stamp)} {q(next)}; mv -f {q(next)} {q(file)}", $"restore {file}");
        if (!result.Succeeded) throw new InvalidOperationException($"Restoring {file} failed: {result.LastMessage()}");
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
            // Backups are named by their UTC stamp, so sorting by name is sorting by age: all but the newest few go. A
            // file this job already backed up keeps that first backup (it holds what the file was before the job).
            var backup = q(file + ".bak-" + stamp);
            var script = $"set -e; [ -e {backup} ] || cp -p {q(file)} {backup}; chmod 600 {backup}; " +
                         $"install -m 0600 -o root -g root {q(staged)} {q(next)}; mv -f {q(next)} {q(file)}; " +
                         $"ls -1d -- {q(file)}.bak-[0-9]* | sort -r | tail -n +{BackupsKept + 1} | xargs -r -d '\\n' rm -f --";
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
