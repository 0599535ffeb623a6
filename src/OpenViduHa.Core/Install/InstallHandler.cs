using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Install;

/// <summary>
/// Install, add-node and reinstall-node: the node's generated install script (<see cref="InstallCommandsArtifact.NodeScript"/>,
/// uploaded as a root-only file and run by its path, so that no secret is ever on a command line the panel sends),
/// masters in parallel, then
/// <c>systemctl start openvidu</c> on the masters and a wait for their health, then the media nodes the same way.
/// Success means the installer exited 0 AND printed its success banner: a script that is not OpenVidu's installer (a
/// mirror's error page that passed as a script, a wrapper that gave up early) can exit 0 too.
/// </summary>
public sealed class InstallHandler(NodeOps ops, PrivateFiles privateFiles, ServiceHandler service, IDbContextFactory<PanelDbContext> dbFactory, TimeProvider clock) : IJobHandler
{
    public const string MasterBanner = "OpenVidu HA 'Master Node' Installation Finished Successfully!";
    public const string MediaBanner = "OpenVidu HA 'Media Node' Installation Finished Successfully!";

    /// <summary>With three masters up the cluster works (one down has no effect): media nodes may join.</summary>
    private const int MastersNeededForMedia = 3;

    public IEnumerable<JobKind> Kinds => [JobKind.Install, JobKind.AddNode, JobKind.ReinstallNode];

    public async Task RunAsync(JobRun run)
    {
        var masters = run.Scope.Where(n => n.Role == NodeRole.Master).ToList();
        var media = run.Scope.Where(n => n.Role == NodeRole.Media).ToList();

        if (run.Kind == JobKind.ReinstallNode && masters.Count == 1)
            await service.RequireOtherMastersHealthyAsync(run, masters[0]);

        // The masters' connections open first; the media nodes' open once every master's installer has started
        // (its first output line), so their handshakes happen while the masters work, off the critical path.
        await using var sessions = new SessionPool(ops, run);
        sessions.Open(masters);
        var mastersStarted = masters.Count;
        void MasterStarted()
        {
            if (Interlocked.Decrement(ref mastersStarted) == 0) sessions.Open(media);
        }
        if (masters.Count == 0) sessions.Open(media);

        var mastersUp = 0;
        if (masters.Count > 0)
        {
            await ops.ForEachAsync(masters, async node =>
            {
                if (await InstallAndStartAsync(run, run.Cluster, node, sessions, MasterStarted)) Interlocked.Increment(ref mastersUp);
            });
        }

        if (media.Count == 0) return;
        run.Cancellation.ThrowIfCancellationRequested(); // a cancel during the masters leaves the media nodes cancelled, not skipped
        // Masters outside this run (a retry of media nodes only) count when they were installed before.
        var installedElsewhere = await InstalledMastersOutsideAsync(run, masters);
        if (mastersUp + installedElsewhere < MastersNeededForMedia)
        {
            foreach (var node in media)
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, $"Not installed: only {mastersUp + installedElsewhere} of 4 masters are up, media nodes need at least {MastersNeededForMedia}. Retry after fixing the masters.");
            return;
        }
        await ops.ForEachAsync(media, node => InstallAndStartAsync(run, run.Cluster, node, sessions, installerStarted: null));
    }

    /// <summary>
    /// One installed node installed again from <paramref name="cluster"/> (which may differ from the run's: a new public
    /// IP), restarted and healthy. The node's outcome is recorded on it (running while it works, failed when it fails);
    /// true when it is healthy again.
    /// </summary>
    public async Task<bool> ReinstallAsync(JobRun run, ClusterDefinition cluster, JobNode node)
    {
        await using var sessions = new SessionPool(ops, run);
        sessions.Open([node]);
        return await InstallAndStartAsync(run, cluster, node, sessions, installerStarted: null, reinstall: true, finalState: NodeJobState.Running);
    }

    /// <summary>One node, start to finish. Never throws for the node's own failure: it is recorded on the node.</summary>
    /// <param name="installerStarted">Called once: when the installer prints its first line, or when the node is done without it.</param>
    /// <param name="reinstall">The node may run the old service: it is restarted, not started, to read the new config.</param>
    /// <param name="finalState">The node's state when it is healthy (running: the caller's job goes on with it).</param>
    private async Task<bool> InstallAndStartAsync(JobRun run, ClusterDefinition cluster, JobNode node, SessionPool sessions, Action? installerStarted,
        bool? reinstall = null, NodeJobState finalState = NodeJobState.Succeeded)
    {
        var context = run.Context;
        var signalled = 0;
        void Started()
        {
            if (Interlocked.Exchange(ref signalled, 1) == 0) installerStarted?.Invoke();
        }
        try
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Connecting");
            var session = await sessions.GetAsync(node);

            await context.SetNodeAsync(node.Id, NodeJobState.Running, "Running the installer");
            var script = await privateFiles.PutAsync(run, session, "install.sh", InstallCommandsArtifact.NodeScript(cluster, node.Definition));
            SshCommandResult result;
            try
            {
                await context.LogAsync(node.Name, $"Running the OpenVidu {cluster.Version} {(node.Role == NodeRole.Master ? "master" : "media")} installer through {script} (root-only: it holds the cluster's secrets)");
                result = await ops.RunLoggedAsync(run, session, node, $"bash {ShellQuote.Quote(script)}", "OpenVidu installer", timeout: ops.Options.InstallTimeout, onFirstOutput: Started);
            }
            finally
            {
                await privateFiles.RemoveAsync(session, script);
            }
            if (!result.Succeeded)
            {
                await context.SetNodeAsync(node.Id, NodeJobState.Failed, $"The installer failed (exit {result.ExitStatus}): {result.LastMessage()}");
                return false;
            }
            var banner = node.Role == NodeRole.Master ? MasterBanner : MediaBanner;
            if (!result.Stdout.Contains(banner, StringComparison.Ordinal))
            {
                await context.SetNodeAsync(node.Id, NodeJobState.Failed, $"The installer exited 0 without its success banner: {result.LastMessage()}");
                return false;
            }
            await MarkInstalledAsync(node);

            // A reinstalled node may still run the old service: restart it so it reads the new config.
            var verb = (reinstall ?? run.Kind == JobKind.ReinstallNode) ? "restart" : "start";
            await context.SetNodeAsync(node.Id, NodeJobState.Running, $"systemctl {verb} openvidu, waiting for health");
            var (started, healthy, message) = await ops.ControlAndWaitHealthyAsync(run, session, node, verb);
            if (!healthy)
            {
                await context.SetNodeAsync(node.Id, NodeJobState.Failed, started ? $"Installed and started, but {message}" : $"Installed, but {message}");
                return false;
            }
            await context.LogAsync(node.Name, message);
            await context.SetNodeAsync(node.Id, finalState, "Installed, started and healthy");
            return true;
        }
        catch (SshFailureException e)
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
            await context.LogAsync(node.Name, e.Message);
            return false;
        }
        catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested)
        {
            // An operator's cancel ends the node here; the panel stopping leaves it running, to be marked interrupted.
            if (!context.Stopping) await context.SetNodeAsync(node.Id, NodeJobState.Cancelled, "Cancelled");
            return false;
        }
        finally
        {
            Started();
        }
    }

    private async Task<int> InstalledMastersOutsideAsync(JobRun run, IReadOnlyCollection<JobNode> inRun)
    {
        var outside = run.AllNodes.Where(n => n.Role == NodeRole.Master && inRun.All(m => m.Id != n.Id)).Select(n => n.Id).ToList();
        if (outside.Count == 0) return 0;
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        return await db.Nodes.CountAsync(n => outside.Contains(n.Id) && n.InstalledAt != null);
    }

    private async Task MarkInstalledAsync(JobNode node)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var row = await db.Nodes.FirstAsync(n => n.Id == node.Id);
        row.InstalledAt = clock.GetUtcNow();
        await db.SaveChangesAsync(CancellationToken.None);
    }
}
