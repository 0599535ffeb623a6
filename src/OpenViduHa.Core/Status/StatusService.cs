using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Runs a sweep of every installed cluster this instance sweeps (<see cref="SweepOwnership"/>: all of them when alone) on
/// <see cref="StatusOptions.Interval"/>, the first one at start; as the host stops, saves the port answers for the next
/// start (<see cref="PortAnswersStore"/>).
/// </summary>
public sealed class StatusService(StatusCollector collector, SweepOwnership ownership, StatusSharing sharing, IOptions<StatusOptions> options, ILogger<StatusService> logger)
    : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        // Let the host finish starting (migrations, Kestrel) before the first sweep.
        await Task.Yield();
        if (!options.Value.Enabled)
        {
            logger.LogInformation("Status sweeps are off (Status:Enabled false): status is collected on demand only");
            // Sharing a database, the pages here still show what the sweeping instances publish.
            if (sharing.Shared) await CatchUpLoopAsync(stoppingToken);
            return;
        }
        if (ownership.Shared)
        {
            sharing.RefreshRequested = (clusterId, allPorts) => collector.SweepClusterAsync(clusterId, force: true, allPorts, stoppingToken);
            await ownership.RoundAsync(stoppingToken);
            await Task.WhenAll(SweepLoopAsync(stoppingToken), OwnershipLoopAsync(stoppingToken));
        }
        else await SweepLoopAsync(stoppingToken);
    }

    private async Task SweepLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            try
            {
                await collector.SweepAllAsync(stoppingToken);
                if (Jobs.MemoryTrim.IfSlack(Jobs.MemoryTrim.SlackInterval, Jobs.MemoryTrim.SlackBytes) is var (before, after, took))
                    logger.LogDebug("Memory the GC held beyond its heap collected after a sweep: resident {BeforeMb} MB -> {AfterMb} MB ({PauseMs} ms)",
                        before / 1_000_000, after / 1_000_000, (int)took.TotalMilliseconds);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogError(e, "Status sweep failed");
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false));
    }

    /// <summary>
    /// Sharing a database: leases renewed and taken every third of an interval; a cluster taken over (its instance died)
    /// is swept at once, and the others' pictures are caught up.
    /// </summary>
    private async Task OwnershipLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ownership.RoundInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                foreach (var clusterId in await ownership.RoundAsync(stoppingToken))
                    _ = SweepTakenAsync(clusterId, stoppingToken);
                await sharing.CatchUpAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Sweep ownership round failed");
            }
        }
    }

    private async Task CatchUpLoopAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(ownership.RoundInterval);
        while (await timer.WaitForNextTickAsync(stoppingToken).ConfigureAwait(false))
        {
            try
            {
                await sharing.CatchUpAsync(stoppingToken);
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning(e, "Status catch-up failed");
            }
        }
    }

    private async Task SweepTakenAsync(int clusterId, CancellationToken ct)
    {
        try
        {
            await collector.SweepClusterAsync(clusterId, force: false, allPorts: false, ct);
        }
        catch (Exception e) when (e is not OperationCanceledException)
        {
            logger.LogError(e, "Status sweep of cluster {ClusterId} failed", clusterId);
        }
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await collector.SavePortAnswersAsync(cancellationToken);
    }
}
