using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>The SSH steps jobs share: connect, run with live output, control and probe the service.</summary>
public sealed class NodeOps(ISshConnector ssh, PrivateFiles privateFiles, IOptions<JobOptions> options, IDbContextFactory<PanelDbContext> dbFactory)
{
    public JobOptions Options => options.Value;

    /// <summary>
    /// Connects; a host key that is not the pinned one is recorded for the operator (confirm or re-pin), never trusted.
    /// A changing job's first connection to a node also removes what earlier jobs left in its private folders.
    /// </summary>
    public async Task<ISshSession> ConnectAsync(JobRun run, JobNode node)
    {
        ISshSession session;
        try
        {
            session = await ssh.ConnectAsync(node.Ssh, new SshConnectOptions { ConnectTimeout = Options.ConnectTimeout, PreferPostQuantum = Options.PreferPostQuantumKeyExchange }, run.Cancellation);
        }
        catch (SshFailureException e) when (e.PresentedFingerprint is not null)
        {
            await RecordPresentedKeyAsync(node, e.PresentedFingerprint);
            throw;
        }
        if (!run.Kind.Changes() || !run.LeftoversChecked.TryAdd(node.Id, 0)) return session;
        try
        {
            var removed = await privateFiles.CleanLeftoversAsync(run, session);
            if (removed > 0) await run.Context.LogAsync(node.Name, $"Removed {removed} file(s) an earlier job left in {PrivateFiles.Directory} or /tmp.");
            return session;
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Keeps what a host presented (first contact or mismatch) for the operator to confirm or re-pin.</summary>
    public async Task RecordPresentedKeyAsync(JobNode node, string fingerprint)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        var row = await db.Nodes.FirstOrDefaultAsync(n => n.Id == node.Id, CancellationToken.None);
        if (row is null) return;
        row.PresentedHostKeyFingerprint = fingerprint;
        await db.SaveChangesAsync(CancellationToken.None);
    }

    /// <summary>Runs a command as root, every output line into the job's log under the node's name.</summary>
    /// <param name="onFirstOutput">Called once, when the command prints its first line (it is running on the node).</param>
    /// <param name="rewrite">Each line goes through it first, in order: it returns what the log gets (null: nothing).</param>
    public Task<SshCommandResult> RunLoggedAsync(JobRun run, ISshSession session, JobNode node, string command, string description, TimeSpan? timeout = null,
        Action? onFirstOutput = null, Func<string, Task<string?>>? rewrite = null)
    {
        var first = 0;
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
                Timeout = timeout ?? Options.CommandTimeout,
                OnLine = (_, line) =>
                {
                    if (Interlocked.Exchange(ref first, 1) == 0) onFirstOutput?.Invoke();
                    lock (gate) pending = pending.ContinueWith(_ => LogLineAsync(line), TaskScheduler.Default).Unwrap();
                },
            }, run.Cancellation);
            Task last;
            lock (gate) last = pending;
            await last;
            return result;
        }

        async Task LogLineAsync(string line)
        {
            var text = rewrite is null ? line : await rewrite(line);
            if (text is not null) await context.LogAsync(node.Name, text);
        }
    }

    /// <summary>Marks a media node as leaving the cluster (a remove-node job drains it), or back in service (null).</summary>
    public async Task SetLeavingAsync(int nodeId, DateTimeOffset? since)
    {
        await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
        await db.Nodes.Where(n => n.Id == nodeId).ExecuteUpdateAsync(u => u.SetProperty(n => n.LeavingSince, since), CancellationToken.None);
    }

    public Task<SshCommandResult> RunQuietAsync(JobRun run, ISshSession session, string command, string description) =>
        session.RunAsync(command, new SshRunOptions { Description = description, Timeout = Options.CommandTimeout }, run.Cancellation);

    /// <summary>The health endpoint the facts file names for the node's role, asked from the node itself.</summary>
    public static string HealthCommand(JobNode node) => node.Role == NodeRole.Master
        ? $"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{node.Definition.PrivateIp}:7880/health/caddy"
        : $"curl -s -o /dev/null -w '%{{http_code}}' --max-time 5 http://{node.Definition.PrivateIp}:7880/";

    /// <summary>
    /// <c>systemctl {verb} openvidu</c>, then the health endpoint polled on the node itself until it answers 200 or
    /// <see cref="JobOptions.HealthTimeout"/> passes: one round trip instead of one per poll. Output goes to the log.
    /// </summary>
    public async Task<(bool Started, bool Healthy, string Message)> ControlAndWaitHealthyAsync(JobRun run, ISshSession session, JobNode node, string verb)
    {
        var timeout = (int)Math.Ceiling(Options.HealthTimeout.TotalSeconds);
        var interval = Options.HealthPollInterval.TotalSeconds.ToString("0.###", System.Globalization.CultureInfo.InvariantCulture);
        var script = $"systemctl {verb} openvidu || exit $?\n" +
                     $"end=$(( $(date +%s) + {timeout} )); delay=0.05\n" +
                     $"while :; do code=$({HealthCommand(node)}); [ \"$code\" = 200 ] && break; [ $(date +%s) -ge $end ] && break; " +
                     $"sleep $delay; delay={interval}; done\n" +
                     "echo \"ovha-health=$code\"";
        var result = await RunLoggedAsync(run, session, node, script, $"systemctl {verb} openvidu and wait for health", timeout: Options.HealthTimeout + Options.CommandTimeout);
        if (!result.Succeeded) return (false, false, $"systemctl {verb} openvidu failed: {result.LastMessage()}");
        var code = result.Stdout.Split('\n').LastOrDefault(l => l.StartsWith("ovha-health=", StringComparison.Ordinal))?["ovha-health=".Length..].Trim() ?? "";
        var answer = code is "" or "000" ? "no answer" : $"HTTP {code}";
        return code == "200"
            ? (true, true, $"Healthy ({answer})")
            : (true, false, $"{HealthCommand(node).Split(' ')[^1]} did not answer 200 within {Options.HealthTimeout.TotalSeconds:0} s after {verb} (last: {answer}).");
    }

    /// <summary>Runs <paramref name="work"/> for each node, at most <see cref="JobOptions.MaxParallelNodes"/> at once.</summary>
    public Task ForEachAsync(IEnumerable<JobNode> nodes, Func<JobNode, Task> work) =>
        Parallel.ForEachAsync(nodes, new ParallelOptions { MaxDegreeOfParallelism = Options.MaxParallelNodes }, async (node, _) => await work(node));
}
