using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>The SSH steps jobs share: connect, run with live output, control and probe the service.</summary>
public sealed class NodeOps(ISshConnector ssh, IOptions<JobOptions> options, IDbContextFactory<PanelDbContext> dbFactory)
{
    public JobOptions Options => options.Value;

    /// <summary>Connects; a host key that is not the pinned one is recorded for the operator (confirm or re-pin), never trusted.</summary>
    public async Task<ISshSession> ConnectAsync(JobNode node, CancellationToken ct)
    {
        try
        {
            return await ssh.ConnectAsync(node.Ssh, new SshConnectOptions { ConnectTimeout = Options.ConnectTimeout }, ct);
        }
        catch (SshFailureException e) when (e.PresentedFingerprint is not null)
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var row = await db.Nodes.FirstOrDefaultAsync(n => n.Id == node.Id, CancellationToken.None);
            if (row is not null)
            {
                row.PresentedHostKeyFingerprint = e.PresentedFingerprint;
                await db.SaveChangesAsync(CancellationToken.None);
            }
            throw;
        }
    }

    /// <summary>Runs a command as root, every output line into the job's log under the node's name.</summary>
    public Task<SshCommandResult> RunLoggedAsync(JobRun run, ISshSession session, JobNode node, string command, string description, bool sensitive = false, TimeSpan? timeout = null)
    {
        var context = run.Context;
        // Lines are written in order: each waits for the previous one (the log keeps the node's own order).
        var pending = Task.CompletedTask;
        var gate = new object();
        return RunAsync();

        async Task<SshCommandResult> RunAsync()
        {
            var result = await session.RunAsync(command, new SshRunOptions
            {
                Description = description,
                Sensitive = sensitive,
                Timeout = timeout ?? Options.CommandTimeout,
                OnLine = (_, line) =>
                {
                    lock (gate) pending = pending.ContinueWith(_ => context.LogAsync(node.Name, line), TaskScheduler.Default).Unwrap();
                },
            }, run.Cancellation);
            Task last;
            lock (gate) last = pending;
            await last;
            return result;
        }
    }

    public Task<SshCommandResult> RunQuietAsync(JobRun run, ISshSession session, string command, string description) =>
        session.RunAsync(command, new SshRunOptions { Description = description, Timeout = Options.CommandTimeout }, run.Cancellation);

    /// <summary>The health endpoint the facts file names for the node's role, asked from the node itself.</summary>
    public static string HealthCommand(JobNode node) => node.Role == NodeRole.Master
        ? $"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{node.Definition.PrivateIp}:7880/health/caddy"
        : $"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{node.Definition.PrivateIp}:7880/";

    /// <summary>Polls the health endpoint until it answers 200 or the timeout passes. Returns the last answer.</summary>
    public async Task<(bool Healthy, string LastAnswer)> WaitHealthyAsync(JobRun run, ISshSession session, JobNode node)
    {
        var deadline = DateTimeOffset.UtcNow + Options.HealthTimeout;
        var last = "no answer";
        // Quick first looks (a service often answers within a second), then every HealthPollInterval.
        var delay = TimeSpan.FromMilliseconds(50);
        while (true)
        {
            var result = await RunQuietAsync(run, session, HealthCommand(node), "health check");
            var code = result.Stdout.Trim();
            last = code is "" or "000" ? "no answer" : $"HTTP {code}";
            if (code == "200") return (true, last);
            if (DateTimeOffset.UtcNow >= deadline) return (false, last);
            await Task.Delay(delay, run.Cancellation);
            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, Options.HealthPollInterval.Ticks));
        }
    }

    /// <summary>Runs <paramref name="work"/> for each node, at most <see cref="JobOptions.MaxParallelNodes"/> at once.</summary>
    public Task ForEachAsync(IEnumerable<JobNode> nodes, Func<JobNode, Task> work) =>
        Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelNodes }, async (node, _) => await work(node));
}
