using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Install;

/// <summary>
/// start, stop and restart of one node's <c>openvidu</c> service, and the rolling restart: masters one at a time,
/// each healthy again before the next (never two masters down), then media nodes one at a time.
/// </summary>
public sealed class ServiceHandler(NodeOps ops) : IJobHandler
{
    public IEnumerable<JobKind> Kinds => [JobKind.Start, JobKind.Stop, JobKind.Restart, JobKind.RollingRestart];

    public async Task RunAsync(JobRun run)
    {
        if (run.Kind == JobKind.RollingRestart)
        {
            await RollingRestartAsync(run, run.Scope, "Restarted and healthy");
            return;
        }

        var node = run.Scope.Single();
        if (node.Role == NodeRole.Master && run.Kind is JobKind.Stop or JobKind.Restart)
            await RequireOtherMastersHealthyAsync(run, node);
        var verb = run.Kind switch { JobKind.Start => "start", JobKind.Stop => "stop", _ => "restart" };
        await ControlAsync(run, node, verb, run.Kind == JobKind.Stop ? "Stopped" : $"{(verb == "start" ? "Started" : "Restarted")} and healthy");
    }

    public async Task RollingRestartAsync(JobRun run, IReadOnlyCollection<JobNode> nodes, string finalState)
    {
        var ordered = nodes.OrderBy(n => n.Role).ThenBy(n => n.Name, StringComparer.Ordinal).ToList();
        for (var i = 0; i < ordered.Count; i++)
        {
            var node = ordered[i];
            run.Cancellation.ThrowIfCancellationRequested();
            if (node.Role == NodeRole.Master)
            {
                // Before each master goes down, the other three must be up: never two masters down at once.
                string? refused = null;
                try { await RequireOtherMastersHealthyAsync(run, node); }
                catch (InvalidOperationException e) { refused = e.Message; }
                if (refused is not null)
                {
                    await SkipFromAsync(run, ordered.Skip(i), refused);
                    return;
                }
            }
            // A media node that fails is recorded and the restart goes on; a master that fails stops it.
            if (await ControlAsync(run, node, "restart", finalState) || node.Role != NodeRole.Master) continue;
            await SkipFromAsync(run, ordered.Skip(i + 1), $"{node.Name} did not come back healthy, and a second master down would affect the cluster.");
            return;
        }
    }

    private static async Task SkipFromAsync(JobRun run, IEnumerable<JobNode> nodes, string reason)
    {
        foreach (var node in nodes) await run.Context.SetNodeAsync(node.Id, NodeJobState.Skipped, $"Not restarted: {reason}");
    }

    /// <summary>Runs systemctl, then (unless stopping) waits for the health endpoint. Records the node's outcome.</summary>
    private async Task<bool> ControlAsync(JobRun run, JobNode node, string verb, string success)
    {
        var context = run.Context;
        try
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Running, $"systemctl {verb} openvidu");
            await using var session = await ops.ConnectAsync(run, node);
            if (verb == "stop")
            {
                var result = await ops.RunLoggedAsync(run, session, node, "systemctl stop openvidu", "systemctl stop openvidu");
                if (!result.Succeeded)
                {
                    await context.SetNodeAsync(node.Id, NodeJobState.Failed, $"systemctl stop openvidu failed: {result.LastMessage()}");
                    return false;
                }
            }
            else
            {
                var (_, healthy, message) = await ops.ControlAndWaitHealthyAsync(run, session, node, verb);
                if (!healthy)
                {
                    await context.SetNodeAsync(node.Id, NodeJobState.Failed, message);
                    return false;
                }
                // Started and healthy: a media node a remove-node job left half-way (marked leaving) is back in service.
                if (node.Role == NodeRole.Media) await ops.SetLeavingAsync(node.Id, null);
            }
            await context.SetNodeAsync(node.Id, NodeJobState.Succeeded, success);
            return true;
        }
        catch (SshFailureException e)
        {
            await context.SetNodeAsync(node.Id, NodeJobState.Failed, e.Message);
            return false;
        }
    }

    /// <summary>Refuses to take a master down while another master is not healthy.</summary>
    public async Task RequireOtherMastersHealthyAsync(JobRun run, JobNode target)
    {
        var unhealthy = await UnhealthyMastersAsync(run, except: target);
        if (unhealthy.Count > 0)
            throw new InvalidOperationException($"Not taking {target.Name} down: the other masters must be healthy first, and {string.Join(", ", unhealthy)} are not. A second master down affects the cluster.");
    }

    /// <summary>The masters (but <paramref name="except"/>) whose health endpoint does not answer 200, as "name (why)", in name order.</summary>
    public async Task<IReadOnlyList<string>> UnhealthyMastersAsync(JobRun run, JobNode? except = null)
    {
        var masters = run.AllNodes.Where(n => n.Role == NodeRole.Master && n.Id != except?.Id).ToList();
        var unhealthy = new List<string>();
        await ops.ForEachAsync(masters, async node =>
        {
            try
            {
                await using var session = await ops.ConnectAsync(run, node);
                var answer = (await ops.RunQuietAsync(run, session, NodeOps.HealthCommand(node), "health check")).Stdout.Trim();
                if (answer != "200") lock (unhealthy) unhealthy.Add($"{node.Name} (HTTP {(answer is "" or "000" ? "no answer" : answer)})");
            }
            catch (SshFailureException e)
            {
                lock (unhealthy) unhealthy.Add($"{node.Name} ({e.Kind})");
            }
        });
        return unhealthy.Order(StringComparer.Ordinal).ToList();
    }
}
