using System.Globalization;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Upgrade;

/// <summary>
/// upgrade: OpenVidu's updater, one hop of its chain at a time on every node (<see cref="UpgradePlan"/>). Checks every node
/// first (reachable, on the cluster's version, room for the images), stops them all (media nodes, then masters), runs
/// each hop on all nodes at once and checks the version each reports, then starts the masters, waits for their health,
/// and starts the media nodes. A hop that fails on any node stops the job there with every node stopped; the cluster's
/// version is the last hop every node finished, and rollback-upgrade puts the failed hop's backups back.
/// rollback-upgrade: every node back on the cluster's version from the updater's backup of it, then started.
/// </summary>
public sealed partial class UpgradeHandler(NodeOps ops, PrivateFiles privateFiles, ClusterService clusters, Credentials.CredentialsHandler credentials) : IJobHandler
{
    public const string DeploymentInfo = "/opt/openvidu/deployment-info.yaml";
    public const string Backups = "/opt/openvidu/backups";

    public IEnumerable<JobKind> Kinds => [JobKind.Upgrade, JobKind.RollbackUpgrade];

    public async Task RunAsync(JobRun run)
    {
        await using var sessions = new SessionPool(ops, run);
        await new Run(ops, privateFiles, clusters, credentials, run, sessions).RunAsync();
    }

    /// <summary>
    /// One upgrade or rollback: its job, its SSH sessions (one per node, kept from the checks to the last start) and the
    /// nodes that failed so far.
    /// </summary>
    private sealed class Run(NodeOps ops, PrivateFiles privateFiles, ClusterService clusters, Credentials.CredentialsHandler credentials, JobRun run, SessionPool sessions)
    {
        public async Task RunAsync()
        {
            if (run.Kind == JobKind.RollbackUpgrade)
            {
                await RollbackAsync();
                return;
            }
            var (plan, refusal) = UpgradeChain.Plan(run.Cluster.Version, run.Parameters.TargetVersion);
            if (plan is null) throw new InvalidOperationException(refusal);
            await run.Context.LogAsync(null, $"Upgrade plan, OpenVidu {plan.From} to {plan.To}:");
            foreach (var step in plan.Steps()) await run.Context.LogAsync(null, "  - " + step);

            if (!await EveryNodeAsync(run.Scope, node => CheckAsync(node, plan))) return;
            try
            {
                await UpgradeAsync(plan);
            }
            catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested && !run.Context.Stopping)
            {
                // Said before the runner marks the nodes cancelled: where the cluster stands, and the two ways on.
                var version = (await clusters.LoadDefinitionAsync(run.Context.ClusterId, CancellationToken.None))?.Version ?? plan.From;
                await run.Context.LogAsync(null, $"Cancelled: the nodes may be stopped, and a hop may have finished on some of them only; the cluster's version stays {version}. " +
                    $"Start a rollback-upgrade to put every node back on {version} and start it, or retry the upgrade to go on.");
                throw;
            }
        }

        private async Task UpgradeAsync(UpgradePlan plan)
        {
            if (!await StopAllAsync()) return;
            foreach (var hop in plan.Hops)
            {
                run.Cancellation.ThrowIfCancellationRequested();
                await run.Context.LogAsync(null, $"Hop {hop}: OpenVidu's {hop.To} updater on every node.");
                if (!await EveryNodeAsync(run.Scope, node => HopAsync(node, hop)))
                {
                    await run.Context.LogAsync(null, $"The hop {hop} failed: every node is stopped and the cluster stays on {hop.From}. " +
                        $"Start a rollback-upgrade to put the nodes back on {hop.From} from the updater's backup and start them, or fix the cause and retry.");
                    await StoppedAsync($"Stopped on {hop.From} or {hop.To}: the hop {hop} failed elsewhere. Roll back, or retry.");
                    return;
                }
                var newSecrets = await NewGenerationAsync(hop);
                if (newSecrets is null)
                {
                    await StoppedAsync($"Stopped on {hop.To}: the new settings could not be written everywhere. Roll back, or retry.");
                    return;
                }
                await clusters.RecordUpgradeAsync(run.Context.ClusterId, hop.To, $"job {run.Context.JobId}", newSecrets, run.Cancellation);
                await run.Context.LogAsync(null, $"Every node reports {hop.To}: the cluster's version is now {hop.To}.");
                if (hop.StartBeforeNext)
                {
                    await run.Context.LogAsync(null, $"OpenVidu {hop.To} initialises once before the next hop: starting every node, then stopping them again.");
                    if (!await StartAllAsync($"Started on {hop.To}") || !await StopAllAsync()) return;
                }
            }
            if (!await StartAllAsync($"Upgraded to {plan.To}, started and healthy")) return;
            if (plan.LoadBalancerChanges)
                await run.Context.LogAsync(null, $"The load balancer's topology changed with {plan.To}: download nginx.conf or haproxy.cfg again and replace the load balancer's config.");
        }

        /// <summary>
        /// The hop into the current generation replaces the default app (<c>app</c> becomes <c>openviduMeet</c>): the panel
        /// makes the new app's initial credentials as it would at an install and writes them into every master's meet.env,
        /// which the app reads on its first start. Null when a master could not take them; empty for any other hop.
        /// </summary>
        private async Task<IReadOnlyDictionary<string, string>?> NewGenerationAsync(UpgradeHop hop)
        {
            if (hop.From.Generation == hop.To.Generation) return new Dictionary<string, string>();
            var added = Secrets.SecretCatalog.For(hop.To.Generation).Where(d => !run.Cluster.Secrets.ContainsKey(d.Key))
                .ToDictionary(d => d.Key, Secrets.SecretGenerator.For, StringComparer.Ordinal);
            run.Context.AddSecrets(added.Values);
            var values = new List<KeyValuePair<string, string>>
            {
                KeyValuePair.Create("MEET_INITIAL_ADMIN_PASSWORD", added.GetValueOrDefault(Secrets.SecretCatalog.MeetInitialAdminPassword) ?? ""),
                KeyValuePair.Create("MEET_INITIAL_API_KEY", added.GetValueOrDefault(Secrets.SecretCatalog.MeetInitialApiKey) ?? ""),
            }.Where(v => v.Value.Length > 0).ToList();
            var stamp = DateTimeOffset.UtcNow.ToString("yyyyMMddHHmmss", CultureInfo.InvariantCulture);
            var ok = await EveryNodeAsync(run.Scope.Where(n => n.Role == NodeRole.Master), async node =>
            {
                var session = await sessions.GetAsync(node);
                await credentials.SetValuesAsync(run, session, Credentials.CredentialLayout.MeetEnv, values, stamp);
                await run.Context.LogAsync(node.Name, $"{Credentials.CredentialLayout.MeetEnv}: the openviduMeet app's initial credentials written (the panel's credentials.env has them).");
                return true;
            });
            return ok ? added : null;
        }

        /// <summary>Runs <paramref name="work"/> on each node at once; true when every node succeeded at it.</summary>
        private async Task<bool> EveryNodeAsync(IEnumerable<JobNode> nodes, Func<JobNode, Task<bool>> work)
        {
            var failed = 0;
            var failedNodes = _failed;
            await ops.ForEachAsync(nodes, async node =>
            {
                bool ok;
                try
                {
                    ok = await work(node);
                }
                catch (Exception e) when (e is SshFailureException or InvalidOperationException)
                {
                    await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
                    ok = false;
                }
                if (ok) return;
                Interlocked.Increment(ref failed);
                failedNodes.TryAdd(node.Id, 0);
            });
            return failed == 0;
        }

        private async Task<bool> CheckAsync(JobNode node, UpgradePlan plan)
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "Checking: version and free disk");
            var session = await sessions.GetAsync(node);
            var version = await ReadVersionAsync(session);
            // A node one hop ahead finished that hop in an earlier attempt: the retry goes on from there.
            var ahead = plan.Hops.Count > 0 && version == plan.Hops[0].To;
            if (version != plan.From && !ahead)
                return await FailAsync(node, $"{node.Name} reports OpenVidu {Shown(version)} in {DeploymentInfo}, the panel believes {plan.From}: nothing was changed. Check the node (a hand-made upgrade?) before upgrading.");
            var free = await FreeGiBAsync(session);
            if (free < ops.Options.UpgradeMinFreeDiskGiB)
                return await FailAsync(node, $"{node.Name} has {free:0.#} GiB free under /opt/openvidu; the new images need at least {ops.Options.UpgradeMinFreeDiskGiB} GiB (Jobs:UpgradeMinFreeDiskGiB). Nothing was changed.");
            await run.Context.LogAsync(node.Name, $"On OpenVidu {version}, {free:0.#} GiB free.");
            return true;
        }

        private async Task<bool> StopAllAsync()
        {
            foreach (var role in new[] { NodeRole.Media, NodeRole.Master })
            {
                var ok = await EveryNodeAsync(run.Scope.Where(n => n.Role == role), async node =>
                {
                    await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "systemctl stop openvidu");
                    var session = await sessions.GetAsync(node);
                    var result = await ops.RunLoggedAsync(run, session, node, "systemctl stop openvidu", "systemctl stop openvidu");
                    return result.Succeeded || await FailAsync(node, $"systemctl stop openvidu failed: {result.LastMessage()}");
                });
                if (!ok)
                {
                    await run.Context.LogAsync(null, "A node could not be stopped: nothing was upgraded. Start the stopped nodes again (start job), or fix the node and retry.");
                    return false;
                }
            }
            return true;
        }

        /// <summary>Masters at once, each healthy; then media nodes.</summary>
        private async Task<bool> StartAllAsync(string success)
        {
            foreach (var role in new[] { NodeRole.Master, NodeRole.Media })
            {
                var ok = await EveryNodeAsync(run.Scope.Where(n => n.Role == role), async node =>
                {
                    await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, "systemctl start openvidu, waiting for health");
                    var session = await sessions.GetAsync(node);
                    var (_, healthy, message) = await ops.ControlAndWaitHealthyAsync(run, session, node, "start");
                    if (!healthy) return await FailAsync(node, message);
                    await run.Context.LogAsync(node.Name, message);
                    await run.Context.SetNodeAsync(node.Id, NodeJobState.Succeeded, success);
                    return true;
                });
                if (!ok) return false;
            }
            return true;
        }

        private async Task<bool> HopAsync(JobNode node, UpgradeHop hop)
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, $"Updating {hop}");
            var session = await sessions.GetAsync(node);
            var before = await ReadVersionAsync(session);
            if (before == hop.To)
            {
                await run.Context.LogAsync(node.Name, $"Already on {hop.To} (an earlier attempt finished this hop here).");
                return true;
            }
            if (before != hop.From)
                return await FailAsync(node, $"{node.Name} reports {Shown(before)} before the hop {hop}: not updated.");

            var script = await privateFiles.PutAsync(run, session, "update.sh", UpdaterScript(run.Cluster, hop.To));
            SshCommandResult result;
            try
            {
                await run.Context.LogAsync(node.Name, $"Running OpenVidu's {hop.To} updater ({UpdaterUrl(run.Cluster, hop.To)}) with --no-tty");
                result = await ops.RunLoggedAsync(run, session, node, $"bash {ShellQuote.Quote(script)}", $"OpenVidu {hop.To} updater", timeout: ops.Options.InstallTimeout);
            }
            finally
            {
                await privateFiles.RemoveAsync(session, script);
            }
            if (!result.Succeeded)
                return await FailAsync(node, $"The {hop.To} updater failed (exit {result.ExitStatus}): {result.LastMessage()}");
            var after = await ReadVersionAsync(session);
            if (after != hop.To)
                return await FailAsync(node, $"The {hop.To} updater exited 0, but {node.Name} reports {Shown(after)} in {DeploymentInfo}.");
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, $"On {hop.To}, stopped");
            return true;
        }

        /// <summary>
        /// Every node back on the cluster's version: the newest backup the updater made of that version goes back into
        /// /opt/openvidu (a node without one, still on that version, is left as it is); then the nodes start, masters first.
        /// </summary>
        private async Task RollbackAsync()
        {
            var version = run.Cluster.Version;
            await run.Context.LogAsync(null, $"Rolling back to OpenVidu {version}: every node stopped, the updater's newest backup of {version} put back where there is one, then started.");
            if (!await StopAllAsync()) return;
            var restored = await EveryNodeAsync(run.Scope, async node =>
            {
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, $"Restoring the backup of {version}");
                var session = await sessions.GetAsync(node);
                var q = ShellQuote.Quote;
                // The backup folders are <date>_<version>: the newest by name is the last attempt from this version.
                var find = $"ls -1d -- {q(Backups)}/*_{version}/ 2>/dev/null | sort | tail -n 1";
                var found = await ops.RunQuietAsync(run, session, find, "find the backup");
                var backup = found.Stdout.Trim();
                if (backup.Length == 0)
                {
                    var current = await ReadVersionAsync(session);
                    if (current == version)
                    {
                        await run.Context.LogAsync(node.Name, $"No backup of {version} and already on {version}: left as it is.");
                        return true;
                    }
                    return await FailAsync(node, $"{node.Name} reports {Shown(current)} and has no backup of {version} under {Backups}: restore it by hand or reinstall it.");
                }
                var copy = await ops.RunLoggedAsync(run, session, node, $"cp -a -- {q(backup.TrimEnd('/'))}/. /opt/openvidu/", $"restore {backup}");
                if (!copy.Succeeded) return await FailAsync(node, $"Restoring {backup} failed: {copy.LastMessage()}");
                var after = await ReadVersionAsync(session);
                if (after != version) return await FailAsync(node, $"{backup} was put back, but {node.Name} reports {Shown(after)}.");
                await run.Context.LogAsync(node.Name, $"Restored {backup}: on {version} again.");
                return true;
            });
            if (!restored)
            {
                await StoppedAsync("Stopped: another node could not be rolled back, and the cluster runs one version or none.");
                return;
            }
            await StartAllAsync($"Back on {version}, started and healthy");
        }

        /// <summary>The nodes that failed so far in this run.</summary>
        private readonly System.Collections.Concurrent.ConcurrentDictionary<int, byte> _failed = new();

        /// <summary>The nodes that did not fail end as stopped, saying why.</summary>
        private async Task StoppedAsync(string message)
        {
            var failed = _failed;
            foreach (var node in run.Scope.Where(n => !failed.ContainsKey(n.Id)))
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, message);
        }

        private async Task<bool> FailAsync(JobNode node, string message)
        {
            await run.Context.SetNodeAsync(node.Id, NodeJobState.Failed, message);
            return false;
        }

        private async Task<OpenViduVersion?> ReadVersionAsync(ISshSession session)
        {
            var result = await ops.RunQuietAsync(run, session, $"cat {DeploymentInfo}", "read deployment-info.yaml");
            if (!result.Succeeded) throw new InvalidOperationException($"Reading {DeploymentInfo} failed: {result.LastMessage()}");
            return ParseDeploymentInfo(result.Stdout);
        }

        private async Task<double> FreeGiBAsync(ISshSession session)
        {
            var result = await ops.RunQuietAsync(run, session, "df -Pk /opt/openvidu", "free disk");
            var fields = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault()?.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (!result.Succeeded || fields is not { Length: >= 4 } || !long.TryParse(fields[3], NumberStyles.None, CultureInfo.InvariantCulture, out var kib))
                throw new InvalidOperationException($"Reading the free disk under /opt/openvidu failed: {result.LastMessage()}");
            return kib / 1024.0 / 1024.0;
        }

        private static string Shown(OpenViduVersion? version) => version?.ToString() ?? "no readable version";
    }

    public static string UpdaterUrl(ClusterDefinition cluster, OpenViduVersion version) =>
        $"{cluster.InstallerBaseUrl.TrimEnd('/')}/update/{version}/update.sh";

    /// <summary>
    /// The guide's <c>sh &lt;(curl -fsSL …/update/X/update.sh)</c>, made verifiable: downloaded to a private temporary
    /// folder first (https only when the base URL is https), its SHA-256 logged, then run with <c>--no-tty</c>.
    /// </summary>
    public static string UpdaterScript(ClusterDefinition cluster, OpenViduVersion version) => string.Join('\n',
    [
        "#!/usr/bin/env bash",
        $"# OpenVidu HA panel: runs OpenVidu's {version} updater on this node.",
        "set -euo pipefail",
        // One update at a time on a node: an updater an interrupted job left running (the panel restarted) finishes
        // before another starts, and if it reached this version there is nothing left to do.
        $"exec 9>>{PrivateFiles.Directory}/openvidu-update.lock",
        "if ! flock -w 3600 9; then echo 'Another OpenVidu update has been running on this node for an hour: not started.' >&2; exit 1; fi",
        $"if grep -Eq '^version:[[:space:]]*\"?{version}\"?[[:space:]]*$' {DeploymentInfo}; then echo 'Already on {version}: an update that was still running finished it.'; exit 0; fi",
        "ovha_dir=\"$(mktemp -d)\"",
        "trap 'rm -rf -- \"$ovha_dir\"' EXIT",
        $"url={ShellQuote.Quote(UpdaterUrl(cluster, version))}",
        $"curl {InstallCommandsArtifact.CurlOptions(cluster)} -o \"$ovha_dir/update.sh\" \"$url\"",
        "actual=\"$(sha256sum \"$ovha_dir/update.sh\")\"",
        "printf 'Updater %s, SHA-256 %s\\n' \"$url\" \"${actual%% *}\"",
        "sh \"$ovha_dir/update.sh\" --no-tty",
        "",
    ]);

    /// <summary>The version a node's deployment-info.yaml names (what OpenVidu's updater reads), or null.</summary>
    public static OpenViduVersion? ParseDeploymentInfo(string text)
    {
        var match = VersionLine().Match(text);
        return match.Success && OpenViduVersion.TryParse(match.Groups[1].Value, out var version) ? version : null;
    }

    [GeneratedRegex(@"^version:\s*""?([0-9.]+)""?\s*$", RegexOptions.Multiline)]
    private static partial Regex VersionLine();
}
