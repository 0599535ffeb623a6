using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Instances;

/// <summary>
/// Keeps this instance's row in <c>PanelInstances</c> fresh, and on every beat: marks interrupted the running jobs of
/// instances that stopped beating (a killed process never says goodbye), and passes on cancels asked on another
/// instance for jobs running here (they come at once over the instances' channel; this is for one it missed).
/// </summary>
public sealed class InstanceMonitor(
    IDbContextFactory<PanelDbContext> dbFactory,
    PanelInstance instance,
    JobService jobs,
    JobCancellations cancellations,
    IOptions<InstanceOptions> options,
    IOptions<Status.StatusOptions> status,
    TimeProvider clock,
    ILogger<InstanceMonitor> logger) : BackgroundService
{
    /// <summary>Registers this instance; called before jobs can start here.</summary>
    public async Task RegisterAsync(CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        db.PanelInstances.Add(new PanelInstanceEntity { Id = instance.Id, Host = instance.Host, StartedAt = now, LastSeenAt = now, Sweeps = status.Value.Enabled });
        // Rows of instances gone for a day tell nobody anything any more.
        await db.PanelInstances.Where(i => i.LastSeenAt < now.AddDays(-1)).ExecuteDeleteAsync(ct);
        await db.SaveChangesAsync(ct);
        logger.LogInformation("Panel instance {Instance} started", instance);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.HeartbeatInterval, clock);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await BeatAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // The database may be away for a moment: the next beat tries again.
                logger.LogWarning(e, "Instance heartbeat failed");
            }
        }
    }

    internal async Task BeatAsync(CancellationToken ct)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            var now = clock.GetUtcNow();
            if (await db.PanelInstances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.LastSeenAt, now), ct) == 0)
                db.PanelInstances.Add(new PanelInstanceEntity { Id = instance.Id, Host = instance.Host, StartedAt = now, LastSeenAt = now, Sweeps = status.Value.Enabled });
            await db.SaveChangesAsync(ct);
            foreach (var jobId in await db.Jobs.Where(j => j.RunningOn == instance.Id && j.State == JobState.Running && j.CancelRequested).Select(j => j.Id).ToListAsync(ct))
                cancellations.CancelHere(jobId);
        }
        // Alone (SQLite), what another instance id left running was interrupted at start; nobody else can start jobs.
        if (!instance.Alone) await jobs.InterruptOrphansAsync(instance, options.Value.DeadAfter, ct);
    }
}
