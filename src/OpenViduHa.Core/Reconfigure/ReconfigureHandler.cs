using System.Globalization;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Reconfigure;

/// <summary>
/// reconfigure: OpenVidu's administration guide for a running cluster, as one job. The plan first (<see cref="ReconfigurePlanner"/>);
/// the new values kept encrypted as the cluster's pending secrets before any node is written (a retry after a crash
/// writes the same ones); every node stopped when a cluster-wide key changes (media, then masters); on each node every
/// config file that holds an old value (not data/, not backups/) backed up and rewritten, the settings' keys set (0600,
/// atomic); masters started and healthy, then media (or, for master-only keys, a rolling restart of the masters); every
/// node's values read back. Any failure puts every written node back on its backup and starts the old configuration;
/// only a cluster that took the new values everywhere makes them the panel's.
/// Old and new values travel in root-only files (<see cref="PrivateFiles"/>) read by grep -f and sed -f: never on a
/// command line.
/// </summary>
public sealed class ReconfigureHandler(NodeOps ops, PrivateFiles privateFiles, CredentialsHandler credentials, ServiceHandler service, ClusterService clusters) : IJobHandler
{
    private const string ChangedPrefix = "ovha-changed=";

    public IEnumerable<JobKind> Kinds => [JobKind.Reconfigure];

    public async Task RunAsync(JobRun run)
    {
        await using var sessions = new SessionPool(ops, run);
        await new Attempt(ops, privateFiles, credentials, service, clusters, run, sessions).RunAsync();
    }

    /// <summary>One run of the job: its sessions (one per node, from the stop to the check) and the nodes that failed.</summary>
    private sealed class Attempt(NodeOps ops, PrivateFiles privateFiles, CredentialsHandler credentials, ServiceHandler service, ClusterService clusters, JobRun run, SessionPool sessions)
    {
        public async Task RunAsync()
        {
            var (plan, errors) = ReconfigurePlanner.Plan(run.Cluster, run.Parameters.ReconfigureRequest());
            if (plan is null) throw new InvalidOperationException(string.Join(" ", errors!.Fields.SelectMany(errors.For)));

            // An earlier attempt (crashed, interrupted, cancelled) may have put its values on some nodes: the same ones go on.
            var pending = await clusters.LoadPendingSecretsAsync(run.Context.ClusterId, CancellationToken.None);
            // Pending values of other keys: nodes may hold them, and only that earlier job's retry knows where. Nothing starts.
            var pendingKeys = pending?.Where(p => run.Cluster.Secrets.GetValueOrDefault(p.Key) != p.Value).Select(p => p.Key).Order(StringComparer.Ordinal).ToList() ?? [];
            if (pendingKeys.Count > 0 && !pendingKeys.SequenceEqual(plan.Rotated.Order(StringComparer.Ordinal), StringComparer.Ordinal))
                throw new InvalidOperationException($"An earlier reconfigure of {string.Join(", ", pendingKeys)} did not finish, and some nodes may hold its new values: " +
                                                    "retry that job first (it writes the same values). Nothing was changed.");
            if (pending is not null && pendingKeys.Count > 0)
            {
                plan = plan with { After = plan.After with { Secrets = pending } };
                await run.Context.LogAsync(null, "An earlier reconfigure of these keys did not finish: its new values are used again, so every node ends on the same ones.");
            }
            else if (plan.Rotated.Count > 0)
            {
                await clusters.SavePendingSecretsAsync(run.Context.ClusterId, plan.After.Secrets, CancellationToken.None);
            }
            run.Context.AddSecrets(plan.Rotated.Select(k => plan.After.Secret(k)));
            await LogPlanAsync(plan);

            var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            var written = new System.Collections.Concurrent.ConcurrentDictionary<JobNode, List<string>>();
            try
            {
                if (plan.Restart == RestartMode.FullStop && !await StopAllAsync())
                {
                    await RollBackAsync(written, stamp, "A node could not be stopped");
                    return;
                }
                var failed = 0;
                await ops.ForEachAsync(run.Scope, async node =>
                {
                    var files = written.GetOrAdd(node, _ => []);
                    if (!await WriteAsync(node, plan, stamp, files)) Interlocked.Increment(ref failed);
                });
                if (failed > 0)
                {
                    await RollBackAsync(written, stamp, "A node could not take its new files");
                    return;
                }
                if (!await RestartAsync(plan))
                {
                    await RollBackAsync(written, stamp, "A node did not come back healthy on the new configuration");
                    return;
                }
                if (!await CheckAsync(plan))
                {
                    await RollBackAsync(written, stamp, "A node does not hold the new values after the restart");
                    return;
                }
            }
            catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested && !run.Context.Stopping)
            {
                var where = written.IsEmpty ? "no node was written yet" : $"{NodeList.Of(written.Keys.Select(n => n.Name).Order(StringComparer.Ordinal))} hold the new values on disk";
                await run.Context.LogAsync(null, $"Cancelled: {where}; nodes may be stopped. Retry the job to finish with the same new values (the panel keeps them), " +
                                                 "or put each node's .bak files back by hand.");
                throw;
            }

            await clusters.ApplyReconfigureAsync(run.Context.ClusterId, plan.After, plan.Rotated, plan.SettingsChanged, $"job {run.Context.JobId}", CancellationToken.None);
            foreach (var node in run.Scope) await run.Context.SetNodeAsync(node.Id, NodeJobState.Succeeded, "Reconfigured, healthy, values checked");
            await run.Context.LogAsync(null, "Every node runs the new configuration: the panel's credentials, artifacts and checks follow it.");
            if (plan.ApplicationsAffected)
                await run.Context.LogAsync(null, "The LiveKit API key or secret changed: applications must use the new ones now (download credentials.env).");
        }

        private async Task LogPlanAsync(ReconfigurePlan plan)
        {
            var what = new List<string>();
            if (plan.Rotated.Count > 0) what.Add($"new values for {string.Join(", ", plan.Rotated)}");
            if (plan.SettingsChanged.Count > 0) what.Add($"new {string.Join(" and ", plan.SettingsChanged)}");
            await run.Context.LogAsync(null, $"Reconfigure plan: {string.Join("; ", what)}.");
            foreach (var step in plan.Steps()) await run.Context.LogAsync(null, "  - " + step);
            foreach (var note in plan.Notes) await run.Context.LogAsync(null, "  Note: " + note);
            foreach (var node in plan.Changes.GroupBy(c => c.Node))
            {
                await run.Context.LogAsync(node.Key, "Will change: " + string.Join("; ", node.GroupBy(c => c.File).Select(f => $"{f.Key} ({string.Join(", ", f.Select(c => c.Key))})")));
            }
        }

        private async Task<bool> StopAllAsync()
        {
            foreach (var role in new[] { NodeRole.Media, NodeRole.Master })
            {
                var failed = 0;
                await ops.ForEachAsync(run.Scope.Where(n => n.Role == role), async node =>
                {
                    try
                    {
                        await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "systemctl stop openvidu");
                        var result = await ops.RunLoggedAsync(run, await sessions.GetAsync(node), node, "systemctl stop openvidu", "systemctl stop openvidu");
                        if (result.Succeeded) return;
                        await Fail(node, $"systemctl stop openvidu failed: {result.LastMessage()}");
                    }
                    catch (SshFailureException e)
                    {
                        await Fail(node, e.Message);
                    }
                    Interlocked.Increment(ref failed);
                });
                if (failed > 0) return false;
            }
            return true;
        }

        /// <summary>
        /// One node's files: every config file holding an old value rewritten (a backup of each first), then the settings'
        /// keys. <paramref name="changed"/> gets each file as it is written (the rollback restores them); false when the
        /// node failed (its state says why).
        /// </summary>
        private async Task<bool> WriteAsync(JobNode node, ReconfigurePlan plan, string stamp, List<string> changed)
        {
            try
            {
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "Writing the new configuration");
                var session = await sessions.GetAsync(node);
                if (plan.Rotated.Count > 0) await ReplaceAsync(session, node, plan, stamp, changed);
                foreach (var group in SettingsLayout.For(plan.After, node.Definition).GroupBy(e => e.File))
                {
                    var before = await credentials.CompareAsync(run, session, group);
                    if (before.All(c => c.Status == CredentialStatus.Equal)) continue;
                    await credentials.SetValuesAsync(run, session, group.Key, group.Select(e => KeyValuePair.Create(e.Key, e.Expected)), stamp);
                    lock (changed) if (!changed.Contains(group.Key)) changed.Add(group.Key);
                    await run.Context.LogAsync(node.Name, $"{group.Key}: {string.Join(", ", group.Select(e => e.Key))} set (backup {group.Key}.bak-{stamp})");
                }
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, changed.Count == 0 ? "Nothing to change here" : $"{changed.Count} file(s) written");
                return true;
            }
            catch (Exception e) when (e is SshFailureException or InvalidOperationException)
            {
                await Fail(node, e.Message);
                return false;
            }
        }

        /// <summary>
        /// The old values replaced by the new ones in every text file under /opt/openvidu that holds one (data/ and backups/
        /// left alone), as OpenVidu's guide does it with grep and an editor. The values go in root-only files: grep reads
        /// the old ones with -f, sed its substitutions with -f (the values are letters and digits: nothing to escape).
        /// </summary>
        private async Task ReplaceAsync(ISshSession session, JobNode node, ReconfigurePlan plan, string stamp, List<string> files)
        {
            var q = ShellQuote.Quote;
            var pairs = plan.Rotated.Select(k => (Old: run.Cluster.Secret(k), New: plan.After.Secret(k))).Where(p => p.Old != p.New).ToList();
            if (pairs.Any(p => !Secrets.SecretGenerator.IsAlphanumeric(p.Old) || !Secrets.SecretGenerator.IsAlphanumeric(p.New)))
                throw new InvalidOperationException("A value to replace is not letters and digits only: not replaced (the panel only stores such values).");
            var patterns = await privateFiles.PutAsync(run, session, "old-values", string.Concat(pairs.Select(p => p.Old + "\n")));
            var substitutions = await privateFiles.PutAsync(run, session, "substitutions.sed", string.Concat(pairs.Select(p => $"s/{p.Old}/{p.New}/g\n")));
            try
            {
                var script =
                    "set -e\n" +
                    $"grep -rlIF --exclude-dir=data --exclude-dir=backups -f {q(patterns)} /opt/openvidu | grep -v -e '\\.bak-[0-9]*$' -e '/\\.[^/]*\\.ovha-new$' | sort > \"{PrivateFiles.Directory}/changed-$$\" || true\n" +
                    $"while IFS= read -r f; do\n" +
                    $"  [ -e \"$f.bak-{stamp}\" ] || cp -p -- \"$f\" \"$f.bak-{stamp}\"; chmod 600 \"$f.bak-{stamp}\"\n" +
                    $"  sed -i -f {q(substitutions)} -- \"$f\"\n" +
                    $"  echo \"{ChangedPrefix}$f\"\n" +
                    $"done < \"{PrivateFiles.Directory}/changed-$$\"\n" +
                    $"rm -f -- \"{PrivateFiles.Directory}/changed-$$\"";
                var result = await ops.RunLoggedAsync(run, session, node, script, "replace the rotated values", rewrite: line =>
                {
                    if (!line.StartsWith(ChangedPrefix, StringComparison.Ordinal)) return Task.FromResult<string?>(line);
                    var file = line[ChangedPrefix.Length..];
                    lock (files) files.Add(file);
                    return Task.FromResult<string?>($"{file}: the rotated values replaced (backup {file}.bak-{stamp})");
                });
                if (!result.Succeeded) throw new InvalidOperationException($"Replacing the rotated values failed (exit {result.ExitStatus}): {result.LastMessage()}");
            }
            finally
            {
                await privateFiles.RemoveAsync(session, patterns);
                await privateFiles.RemoveAsync(session, substitutions);
            }
        }

        private async Task<bool> RestartAsync(ReconfigurePlan plan)
        {
            if (plan.Restart == RestartMode.FullStop) return await StartAllAsync();
            await run.Context.LogAsync(null, "Restarting the masters one at a time so each reads its new values, each only while the others are healthy.");
            foreach (var node in run.Scope.Where(n => n.Role == NodeRole.Master).OrderBy(n => n.Name, StringComparer.Ordinal))
            {
                var unhealthy = await service.UnhealthyMastersAsync(run, except: node);
                if (unhealthy.Count > 0)
                {
                    await Fail(node, $"Not restarted: {string.Join(", ", unhealthy)} {(unhealthy.Count == 1 ? "is" : "are")} not healthy, and two masters down would affect the cluster.");
                    return false;
                }
                try
                {
                    await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "systemctl restart openvidu, waiting for health");
                    var (_, healthy, message) = await ops.ControlAndWaitHealthyAsync(run, await sessions.GetAsync(node), node, "restart");
                    if (!healthy)
                    {
                        await Fail(node, message);
                        return false;
                    }
                }
                catch (SshFailureException e)
                {
                    await Fail(node, e.Message);
                    return false;
                }
            }
            return true;
        }

        /// <summary>The nodes that failed in this run.</summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> _failed = new();

        private async Task Fail(JobNode node, string message)
        {
            _failed[node.Id] = 0;
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, message);
        }

        private async Task<bool> StartAllAsync(string started = "Started on the new configuration, healthy")
        {
            foreach (var role in new[] { NodeRole.Master, NodeRole.Media })
            {
                var failed = 0;
                await ops.ForEachAsync(run.Scope.Where(n => n.Role == role), async node =>
                {
                    // A node that failed keeps its state and the reason; it is started all the same.
                    var keep = _failed.ContainsKey(node.Id);
                    try
                    {
                        if (!keep) await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "systemctl start openvidu, waiting for health");
                        var (_, healthy, message) = await ops.ControlAndWaitHealthyAsync(run, await sessions.GetAsync(node), node, "start");
                        if (healthy)
                        {
                            if (keep) await run.Context.LogAsync(node.Name, started);
                            else await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, started);
                            return;
                        }
                        await Fail(node, message);
                    }
                    catch (SshFailureException e)
                    {
                        await Fail(node, e.Message);
                    }
                    Interlocked.Increment(ref failed);
                });
                if (failed > 0) return false;
            }
            return true;
        }

        /// <summary>Every node's credentials and settings read back and compared with the new ones.</summary>
        private async Task<bool> CheckAsync(ReconfigurePlan plan)
        {
            var failed = 0;
            await ops.ForEachAsync(run.Scope, async node =>
            {
                try
                {
                    var entries = CredentialLayout.For(plan.After, node.Definition).Concat(SettingsLayout.For(plan.After, node.Definition));
                    var off = (await credentials.CompareAsync(run, await sessions.GetAsync(node), entries)).Where(c => c.Status != CredentialStatus.Equal).ToList();
                    if (off.Count == 0) return;
                    await Fail(node, $"After the restart {string.Join(", ", off.Select(c => $"{c.Key} in {c.File}"))} {(off.Count == 1 ? "is" : "are")} not the new value.");
                }
                catch (Exception e) when (e is SshFailureException or InvalidOperationException)
                {
                    await Fail(node, e.Message);
                }
                Interlocked.Increment(ref failed);
            });
            return failed == 0;
        }

        /// <summary>
        /// Every node that was written gets its backups back; then every node is started on the old configuration (masters,
        /// then media). The pending values are forgotten: no node keeps them. The job fails, saying so.
        /// </summary>
        private async Task RollBackAsync(IReadOnlyDictionary<JobNode, List<string>> written, string stamp, string why)
        {
            await run.Context.LogAsync(null, $"{why}: rolling every node back to its previous configuration.");
            var stuck = new List<string>();
            await ops.ForEachAsync(written.Keys, async node =>
            {
                try
                {
                    var session = await sessions.GetAsync(node);
                    await ops.RunLoggedAsync(run, session, node, "systemctl stop openvidu", "systemctl stop openvidu");
                    foreach (var file in written[node])
                    {
                        await credentials.RestoreAsync(run, session, file, stamp);
                        await run.Context.LogAsync(node.Name, $"{file}: previous file restored from {file}.bak-{stamp}");
                    }
                }
                catch (Exception e) when (e is SshFailureException or InvalidOperationException)
                {
                    lock (stuck) stuck.Add(node.Name);
                    await Fail(node, $"Could not be rolled back ({e.Message}): put back its .bak-{stamp} files by hand.");
                }
            });
            var started = await StartAllAsync("Started on its previous configuration, healthy");
            if (stuck.Count == 0) await clusters.ClearPendingSecretsAsync(run.Context.ClusterId, CancellationToken.None);
            foreach (var node in run.Scope.Where(n => !_failed.ContainsKey(n.Id)))
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, $"Rolled back ({why.ToLowerInvariant()} elsewhere): this node runs its previous configuration.");
            await run.Context.LogAsync(null, stuck.Count == 0
                ? $"Rolled back: every node runs its previous configuration{(started ? "" : " (not every node started: see each node)")}, and the panel keeps its previous values."
                : $"Rolled back except on {string.Join(", ", stuck)}: the panel keeps the new values as pending, so that a retry can finish.");
        }
    }
}
