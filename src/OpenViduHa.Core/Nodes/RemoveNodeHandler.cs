using System.Diagnostics;
using System.Globalization;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Nodes;

/// <summary>
/// remove-node: a media node leaves the cluster gracefully. It is marked leaving (the status counts it as leaving, not
/// down), then its media server drains: <c>docker stop --time &lt;drainTimeout&gt; openvidu</c> sends it SIGTERM, on
/// which LiveKit's server stops taking rooms (the masters place new ones elsewhere) and waits for its participants to
/// leave, exiting when none remain; docker kills it when the timeout passes. Meanwhile the rooms still on it are
/// counted from its Prometheus metrics (<c>livekit_room_total</c>). Then <c>systemctl stop</c> and <c>disable</c>
/// openvidu (the unit would start the node again at boot), optionally <c>/opt/openvidu</c> deleted, and the node leaves
/// the definition. <c>force</c> skips the drain: the rooms end at once.
/// Stopping the unit directly would not drain: its stop runs <c>docker compose down</c>, which gives each container
/// 10 s before killing it, inside systemd's 90 s stop timeout; the media server is therefore stopped first, on its own
/// timeout, and the unit after it.
/// A failed, cancelled or interrupted run leaves the node in the cluster, marked leaving, and says so: a retry goes on
/// (a drained server stays stopped), a start job takes the node back into service.
/// </summary>
public sealed class RemoveNodeHandler(NodeOps ops, ClusterService clusters, TimeProvider clock) : IJobHandler
{
    /// <summary>The media server's container on a media node (OpenVidu's LiveKit-based server).</summary>
    public const string MediaServer = "openvidu";

    private const string RoomsPrefix = "ovha-rooms=";

    public IEnumerable<JobKind> Kinds => [JobKind.RemoveNode];

    public async Task RunAsync(JobRun run)
    {
        var node = run.Scope.Single();
        var p = run.Parameters;
        var drain = p.DrainTimeout ?? ops.Options.DrainTimeout;
        await run.Context.LogAsync(null, $"Removing {node.Name} ({node.Definition.PrivateIp}) from the cluster: " +
            (p.Force ? "stopped at once (force): its rooms end now" : $"its media server drains first (no new rooms; up to {drain:c} for its rooms to end)") +
            $", then openvidu stopped and disabled{(p.Wipe ? ", /opt/openvidu deleted" : " (/opt/openvidu kept)")}, then the node leaves the definition.");
        await ops.SetLeavingAsync(node.Id, clock.GetUtcNow());
        try
        {
            await using var session = await ops.ConnectAsync(run, node);
            if (!p.Force && !await DrainAsync(run, session, node, drain)) return;
            if (!await StepAsync(run, session, node, "systemctl stop openvidu", "Stopping openvidu")) return;
            if (!await StepAsync(run, session, node, "systemctl disable openvidu", "Disabling openvidu (no start at boot)")) return;
            if (p.Wipe && !await StepAsync(run, session, node, "rm -rf --one-file-system -- /opt/openvidu", "Deleting /opt/openvidu")) return;
        }
        catch (SshFailureException e)
        {
            await LeftAsync(run, node, NodeJobState.Failed, e.Message);
            return;
        }
        catch (OperationCanceledException) when (run.Cancellation.IsCancellationRequested && !run.Context.Stopping)
        {
            await LeftAsync(run, node, NodeJobState.Cancelled, "Cancelled");
            throw;
        }

        var renamed = await clusters.RemoveNodeAsync(run.Context.ClusterId, node.Id, $"job {run.Context.JobId}", CancellationToken.None);
        await run.Context.SetNodeAsync(node.Id, NodeJobState.Succeeded, $"Removed from the cluster{(p.Wipe ? ", /opt/openvidu deleted" : "")}");
        await run.Context.LogAsync(null, $"{node.Name} left the cluster's definition.");
        if (renamed.Count > 0)
            await run.Context.LogAsync(null, "The nodes after it moved up: " + string.Join(", ", renamed.Select(r => $"{r.From} is now {r.To}")) + ".");
        if (run.Cluster.Generation == InstallerGeneration.V30)
            await run.Context.LogAsync(null, $"The load balancer config changed: OpenVidu {run.Cluster.Version} sends RTMP and TURN over TLS to the media nodes, and {node.Name} was one. Download nginx.conf or haproxy.cfg again and replace the load balancer's config.");
        await run.Context.LogAsync(null, "The firewall rules of the other nodes changed (they allowed this node): download them again.");
    }

    /// <summary>
    /// SIGTERM to the media server, then its room count until it exits (all rooms ended) or the drain timeout passes
    /// (docker kills it, the rooms left end). One command on the node: the count is printed when it changes.
    /// </summary>
    private async Task<bool> DrainAsync(JobRun run, ISshSession session, JobNode node, TimeSpan drain)
    {
        var seconds = (long)Math.Ceiling(drain.TotalSeconds);
        var poll = ops.Options.DrainPollInterval.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);
        var metrics = $"http://{node.Definition.PrivateIp}:{ops.Options.MediaMetricsPort}/metrics";
        var script =
            $"docker stop --time {seconds} {MediaServer} >/dev/null &\n" +
            "pid=$!; last=''\n" +
            "while kill -0 $pid 2>/dev/null; do\n" +
            $"  rooms=$(curl -s --max-time 2 {metrics} 2>/dev/null | awk '/^livekit_room_total/ {{ n += $NF; seen = 1 }} END {{ if (seen) print n; else print \"?\" }}')\n" +
            // Once counted, a count that goes away is the server exiting: not worth a line.
            $"  if [ \"$rooms\" != \"$last\" ] && {{ [ \"$rooms\" != '?' ] || [ -z \"$last\" ]; }}; then echo \"{RoomsPrefix}$rooms\"; last=$rooms; fi\n" +
            $"  sleep {poll}\n" +
            "done\n" +
            "wait $pid";
        await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, $"Draining: no new rooms, up to {drain:c} for its rooms to end");
        var started = Stopwatch.GetTimestamp();
        var result = await ops.RunLoggedAsync(run, session, node, script, "drain the media server", timeout: drain + ops.Options.CommandTimeout,
            rewrite: async line =>
            {
                if (!line.StartsWith(RoomsPrefix, StringComparison.Ordinal)) return line;
                var rooms = line[RoomsPrefix.Length..].Trim();
                var text = rooms == "?"
                    ? $"Draining: the rooms cannot be counted ({metrics} does not answer); waiting for the media server to stop"
                    : $"Draining: {rooms} room{(rooms == "1" ? "" : "s")} still on {node.Name}";
                await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, text);
                return text;
            });
        var took = Stopwatch.GetElapsedTime(started);
        if (!result.Succeeded)
        {
            await LeftAsync(run, node, NodeJobState.Failed, $"docker stop {MediaServer} failed (exit {result.ExitStatus}): {result.LastMessage()}");
            return false;
        }
        // 137 is docker's SIGKILL: the timeout passed with rooms left.
        var exit = (await ops.RunQuietAsync(run, session, $"docker inspect --format '{{{{.State.ExitCode}}}}' {MediaServer}", "media server exit code")).Stdout.Trim();
        await run.Context.LogAsync(node.Name, exit == "137"
            ? $"The drain timeout ({drain:c}) passed with rooms left: the media server was killed and those rooms ended."
            : $"Drained in {took.TotalSeconds:0} s: no room left, the media server stopped by itself.");
        return true;
    }

    private async Task<bool> StepAsync(JobRun run, ISshSession session, JobNode node, string command, string what)
    {
        await run.Context.SetNodeAsync(node.Id, NodeJobState.Running, what);
        var result = await ops.RunLoggedAsync(run, session, node, command, what);
        if (result.Succeeded) return true;
        await LeftAsync(run, node, NodeJobState.Failed, $"{command} failed (exit {result.ExitStatus}): {result.LastMessage()}");
        return false;
    }

    /// <summary>The job ends with the node still in the cluster: it says so, and what comes next.</summary>
    private static async Task LeftAsync(JobRun run, JobNode node, NodeJobState state, string why)
    {
        var message = $"{why}. {node.Name} is still part of the cluster, marked leaving: retry to finish removing it, or restart it (restart job) to take it back into service.";
        await run.Context.SetNodeAsync(node.Id, state, message);
        await run.Context.LogAsync(node.Name, message);
    }
}
