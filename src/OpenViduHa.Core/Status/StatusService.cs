using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace OpenViduHa.Core.Status;

/// <summary>
/// Runs a sweep of every installed cluster on <see cref="StatusOptions.Interval"/>, the first one at start; as the host
/// stops, saves the port answers for the next start (<see cref="PortAnswersStore"/>).
/// </summary>
public sealed class StatusService(StatusCollector collector, IOptions<StatusOptions> options, ILogger<StatusService> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (!options.Value.Enabled)
        {
            logger.LogInformation("Status sweeps are off (Status:Enabled false): status is collected on demand only");
            return;
        }
        // Let the host finish starting (migrations, Kestrel) before the first sweep.
        await Task.Yield();
        using var timer = new PeriodicTimer(options.Value.Interval);
        do
        {
            try
            {
                await collector.SweepAllAsync(stoppingToken);
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

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        await collector.SavePortAnswersAsync(cancellationToken);
    }
}
