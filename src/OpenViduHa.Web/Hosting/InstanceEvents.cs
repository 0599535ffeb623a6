using System.Globalization;
using System.Text;
using System.Threading.Channels;
using Npgsql;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Hosting;

/// <summary>
/// The channel between instances sharing PostgreSQL, on PostgreSQL's own <c>LISTEN/NOTIFY</c> (no broker to run): job
/// changes published on one instance reach the views open on every other, and so do new status pictures of the clusters
/// an instance sweeps (<see cref="StatusSharing"/>). Messages carry ids only (what changed, never
/// a value); views read the rest from the database. Sent in batches (one NOTIFY holds many changes, up to PostgreSQL's
/// 8000-byte payload), so a job logging fast does not become a query per line. A dropped listening connection is
/// opened again; changes sent meanwhile are missed, and views catch up at the job's next change.
/// </summary>
public sealed class InstanceEvents(StorageOptions storage, JobNotifier jobs, JobCancellations cancellations, StatusSharing status, PanelInstance instance,
    ILogger<InstanceEvents> logger) : BackgroundService
{
    public const string Channel = "ovha_events";
    private const int MaxPayload = 7000;

    private readonly Channel<string> _outgoing = System.Threading.Channels.Channel.CreateBounded<string>(
        new BoundedChannelOptions(100_000) { FullMode = BoundedChannelFullMode.DropOldest, SingleReader = true });
    private NpgsqlDataSource? _source;

    public override Task StartAsync(CancellationToken cancellationToken)
    {
        _source = NpgsqlDataSource.Create(storage.ConnectionString!);
        jobs.Relay = change => _outgoing.Writer.TryWrite(string.Create(CultureInfo.InvariantCulture,
            $"j {change.JobId} {change.ClusterId} {change.LastSeq} {(change.Ended ? 1 : 0)}"));
        status.Relay = message => _outgoing.Writer.TryWrite(message);
        cancellations.Relay = jobId => _outgoing.Writer.TryWrite(string.Create(CultureInfo.InvariantCulture, $"c {jobId}"));
        return base.StartAsync(cancellationToken);
    }

    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        jobs.Relay = null;
        status.Relay = null;
        cancellations.Relay = null;
        _outgoing.Writer.TryComplete();
        await base.StopAsync(cancellationToken);
        if (_source is not null) await _source.DisposeAsync();
    }

    protected override Task ExecuteAsync(CancellationToken stoppingToken) => Task.WhenAll(ListenAsync(stoppingToken), SendAsync(stoppingToken));

    private async Task ListenAsync(CancellationToken ct)
    {
        while (!ct.IsCancellationRequested)
        {
            try
            {
                await using var connection = await _source!.OpenConnectionAsync(ct);
                connection.Notification += (_, e) => Receive(e.Payload);
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection)) await listen.ExecuteNonQueryAsync(ct);
                logger.LogInformation("Listening for the other instances' changes on PostgreSQL channel {Channel}", Channel);
                while (!ct.IsCancellationRequested) await connection.WaitAsync(ct);
            }
            catch (OperationCanceledException) when (ct.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                logger.LogWarning("The channel to the other instances dropped ({Reason}): listening again in 1 s", e.Message);
                await Task.Delay(TimeSpan.FromSeconds(1), ct).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            }
        }
    }

    private async Task SendAsync(CancellationToken ct)
    {
        var batch = new StringBuilder();
        try
        {
            while (await _outgoing.Reader.WaitToReadAsync(ct))
            {
                batch.Clear().Append(instance.Id);
                while (batch.Length < MaxPayload && _outgoing.Reader.TryRead(out var message)) batch.Append(';').Append(message);
                try
                {
                    await using var notify = _source!.CreateCommand("SELECT pg_notify(@channel, @payload)");
                    notify.Parameters.AddWithValue("channel", Channel);
                    notify.Parameters.AddWithValue("payload", batch.ToString());
                    await notify.ExecuteNonQueryAsync(ct);
                }
                catch (Exception e) when (e is NpgsqlException or InvalidOperationException)
                {
                    // Views elsewhere miss these changes and catch up at the next: a job is never held up by its views.
                    logger.LogWarning("Could not tell the other instances of {Count} changes: {Reason}", batch.ToString().Count(c => c == ';'), e.Message);
                }
            }
        }
        catch (OperationCanceledException) when (ct.IsCancellationRequested)
        {
        }
    }

    /// <summary>
    /// <c>origin;j job cluster seq ended;c job;s cluster;r cluster ports;…</c>: job changes, a cancel for a job running
    /// wherever it runs, a cluster's new status picture, a refresh asked of the cluster's sweeping instance. This
    /// instance's own messages come back too, and are skipped.
    /// </summary>
    private void Receive(string payload)
    {
        var parts = payload.Split(';');
        if (parts[0] == instance.Id) return;
        foreach (var part in parts.Skip(1))
        {
            if (part.StartsWith("s ", StringComparison.Ordinal) || part.StartsWith("r ", StringComparison.Ordinal))
            {
                _ = status.ReceiveAsync(part);
                continue;
            }
            var f = part.Split(' ');
            if (f is ["c", var cancelled] && int.TryParse(cancelled, CultureInfo.InvariantCulture, out var cancelledId))
            {
                if (cancellations.CancelHere(cancelledId)) logger.LogInformation("Job {JobId} cancelled from another instance", cancelledId);
                continue;
            }
            if (f is ["j", var job, var cluster, var seq, var ended]
                && int.TryParse(job, CultureInfo.InvariantCulture, out var jobId)
                && int.TryParse(cluster, CultureInfo.InvariantCulture, out var clusterId)
                && int.TryParse(seq, CultureInfo.InvariantCulture, out var lastSeq))
                jobs.PublishLocal(new JobChanged(jobId, clusterId, lastSeq, ended == "1"));
        }
    }
}
