using System.Text.RegularExpressions;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Nodes;

/// <summary>
/// set-public-ip: the install guide's first troubleshooting line (no media in calls: the media node guessed its public
/// IP wrong). The media node is installed again with <c>--public-ip</c> and restarted; its config must then name that
/// address; the panel records it. On the current generation the masters are then installed again with
/// <c>--force-media-node-public-ip</c>, one at a time, each only while the other three are healthy (never two masters
/// down). Last, the media node's config is read back once more. A retry runs it all again; a media node that already
/// announces the address and answers its health endpoint is not reinstalled twice.
/// </summary>
public sealed partial class SetPublicIpHandler(NodeOps ops, InstallHandler installer, ServiceHandler service, ClusterService clusters) : IJobHandler
{
    /// <summary>The key the media node's installer writes its public IP under.</summary>
    public const string PublicIpKey = "MEDIA_NODE_PUBLIC_IP";

    public IEnumerable<JobKind> Kinds => [JobKind.SetPublicIp];

    /// <summary>Where a media node's config keeps the public IP it announces, by generation.</summary>
    public static string ConfigFile(InstallerGeneration generation) =>
        generation == InstallerGeneration.V30 ? Credentials.CredentialLayout.V30Env : "/opt/openvidu/config/node/media_node.env";

    public async Task RunAsync(JobRun run)
    {
        var ip = run.Parameters.PublicIp ?? throw new InvalidOperationException("set-public-ip needs a publicIp.");
        var media = run.Scope.Single(n => n.Role == NodeRole.Media);
        var masters = run.Scope.Where(n => n.Role == NodeRole.Master).ToList();
        var cluster = run.Cluster with { Nodes = run.Cluster.Nodes.Select(n => n.Name == media.Name ? n with { PublicIp = ip } : n).ToList() };
        var target = media with { Definition = media.Definition with { PublicIp = ip } };
        await run.Context.LogAsync(null, $"Setting {media.Name}'s public IP to {ip}: {media.Name} installed again with --public-ip {ip} and restarted" +
            (masters.Count > 0 ? $", then {NodeList.Of(masters.Select(m => m.Name))} installed again with --force-media-node-public-ip, one at a time, each only while the other masters are healthy" : " (OpenVidu 3.0.x: the masters need nothing)") +
            $", then {media.Name}'s {ConfigFile(cluster.Generation)} read back.");

        if (!await MediaAsync(run, cluster, target, ip)) return;
        await clusters.RecordPublicIpAsync(run.Context.ClusterId, media.Id, ip, $"job {run.Context.JobId}", CancellationToken.None);
        await run.Context.LogAsync(null, $"{media.Name} announces {ip}: recorded in the cluster's definition.");

        for (var i = 0; i < masters.Count; i++)
        {
            var master = masters[i];
            await ThrowIfCancelledAsync(run, $"{media.Name} announces {ip}; {NodeList.Of(masters.Skip(i).Select(m => m.Name))} not installed again with --force-media-node-public-ip yet");
            var unhealthy = await service.UnhealthyMastersAsync(run, except: master);
            if (unhealthy.Count > 0)
            {
                var why = $"Not installed again: the other masters must be healthy first, and {string.Join(", ", unhealthy)} {(unhealthy.Count == 1 ? "is" : "are")} not. Retry once they are.";
                foreach (var rest in masters.Skip(i)) await run.Context.SetNodeAsync(rest.Id, NodeJobState.Skipped, why);
                return;
            }
            if (await installer.ReinstallAsync(run, cluster, master))
            {
                await run.Context.SetNodeAsync(master.Id, NodeJobState.Succeeded, "Installed again with --force-media-node-public-ip, healthy");
                continue;
            }
            await ThrowIfCancelledAsync(run, $"{media.Name} announces {ip}; {master.Name} was being installed again when the cancel came, " +
                $"{NodeList.Of(masters.Skip(i + 1).Select(m => m.Name))} not yet");
            var stop = $"Not installed again: {master.Name} did not come back healthy, and a second master down would affect the cluster.";
            foreach (var rest in masters.Skip(i + 1)) await run.Context.SetNodeAsync(rest.Id, NodeJobState.Skipped, stop);
            return;
        }

        // Last: what the node announces, read from its config once the masters are done (nothing rewrote it since).
        await using var session = await ops.ConnectAsync(run, target);
        var announced = await AnnouncedAsync(run, session, cluster.Generation);
        if (announced != ip)
        {
            await run.Context.SetNodeAsync(media.Id, NodeJobState.Failed, $"{ConfigFile(cluster.Generation)} names {announced ?? "no public IP"} at the end, not {ip}.");
            return;
        }
        await run.Context.SetNodeAsync(media.Id, NodeJobState.Succeeded, $"Announces {ip} ({PublicIpKey} in {ConfigFile(cluster.Generation)}), healthy");
    }

    /// <summary>An operator's cancel ends the job here, after saying where the cluster stands (the runner marks the rest cancelled).</summary>
    private static async Task ThrowIfCancelledAsync(JobRun run, string where)
    {
        if (!run.Cancellation.IsCancellationRequested) return;
        // The panel stopping is not a cancel: the runner marks the job interrupted, with the nodes as they are.
        if (!run.Context.Stopping) await run.Context.LogAsync(null, $"Cancelled: {where}. Retry the job to finish.");
        run.Cancellation.ThrowIfCancellationRequested();
    }

    /// <summary>The media node on the new address and healthy; its outcome recorded on it when it is not.</summary>
    private async Task<bool> MediaAsync(JobRun run, ClusterDefinition cluster, JobNode media, string ip)
    {
        try
        {
            await using (var session = await ops.ConnectAsync(run, media))
            {
                if (await AnnouncedAsync(run, session, cluster.Generation) == ip
                    && (await ops.RunQuietAsync(run, session, NodeOps.HealthCommand(media), "health check")).Stdout.Trim() == "200")
                {
                    await run.Context.LogAsync(media.Name, $"Already announces {ip} and is healthy (an earlier attempt got this far): not installed again.");
                    await run.Context.SetNodeAsync(media.Id, NodeJobState.Running, $"Announces {ip}, healthy");
                    return true;
                }
            }
            if (!await installer.ReinstallAsync(run, cluster, media))
            {
                await ThrowIfCancelledAsync(run, $"{media.Name} was being installed again with --public-ip {ip}; no master was touched");
                return await SkipMastersAsync(run);
            }
            await using (var session = await ops.ConnectAsync(run, media))
            {
                var announced = await AnnouncedAsync(run, session, cluster.Generation);
                if (announced == ip) return true;
                await run.Context.SetNodeAsync(media.Id, NodeJobState.Failed,
                    $"Installed again with --public-ip {ip}, but {ConfigFile(cluster.Generation)} names {announced ?? "no public IP"}: the installer did not take it.");
                return await SkipMastersAsync(run);
            }
        }
        catch (SshFailureException e)
        {
            await run.Context.SetNodeAsync(media.Id, NodeJobState.Failed, e.Message);
            return await SkipMastersAsync(run);
        }
    }

    /// <summary>The masters stay as they are when the media node did not take its address; the runner fails them as not done.</summary>
    private static async Task<bool> SkipMastersAsync(JobRun run)
    {
        foreach (var master in run.Scope.Where(n => n.Role == NodeRole.Master))
            await run.Context.SetNodeAsync(master.Id, NodeJobState.Skipped, "Not installed again: the media node did not take its new public IP.");
        return false;
    }

    /// <summary>The public IP the media node's config names, or null (none, or the file cannot be read).</summary>
    private async Task<string?> AnnouncedAsync(JobRun run, ISshSession session, InstallerGeneration generation)
    {
        var result = await ops.RunQuietAsync(run, session, $"cat -- {ShellQuote.Quote(ConfigFile(generation))}", "read the announced public IP");
        if (!result.Succeeded) return null;
        var match = PublicIpLine().Match(result.Stdout);
        return match.Success && match.Groups[1].Value.Length > 0 ? match.Groups[1].Value : null;
    }

    [GeneratedRegex(@"^MEDIA_NODE_PUBLIC_IP=""?([0-9.]*)""?\s*$", RegexOptions.Multiline)]
    private static partial Regex PublicIpLine();
}
