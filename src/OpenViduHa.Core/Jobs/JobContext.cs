using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// What a running job writes: numbered log lines (with every secret value of the cluster blanked out), node states
/// and its own state. Every write is committed at once and announced, so a view that opens late sees all of it.
/// </summary>
public sealed class JobContext(
    int jobId,
    int clusterId,
    IDbContextFactory<PanelDbContext> dbFactory,
    JobNotifier notifier,
    TimeProvider clock,
    IReadOnlyCollection<string> secretValues,
    CancellationToken cancellation,
    CancellationToken stopping = default)
{
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly string[] _secrets = secretValues.Where(s => s.Length >= 4).OrderByDescending(s => s.Length).ToArray();
    private int _seq = -1;

    public int JobId => jobId;
    public int ClusterId => clusterId;
    public CancellationToken Cancellation => cancellation;

    /// <summary>The panel is shutting down: work stops, and the job is marked interrupted rather than cancelled.</summary>
    public bool Stopping => stopping.IsCancellationRequested;

    public async Task LogAsync(string? node, string text)
    {
        await _write.WaitAsync(CancellationToken.None);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            if (_seq < 0) _seq = await db.JobLog.Where(l => l.JobId == jobId).MaxAsync(l => (int?)l.Seq) ?? 0;
            db.JobLog.Add(new JobLogLine { JobId = jobId, Seq = ++_seq, At = clock.GetUtcNow(), NodeName = node, Text = Redact(text) });
            await db.SaveChangesAsync(CancellationToken.None);
            notifier.Publish(new JobChanged(jobId, clusterId, _seq));
        }
        finally
        {
            _write.Release();
        }
    }

    public async Task SetNodeAsync(int nodeId, NodeJobState state, string? message, object? details = null)
    {
        await _write.WaitAsync(CancellationToken.None);
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            var row = await db.JobNodes.FirstAsync(n => n.JobId == jobId && n.NodeId == nodeId);
            row.State = state;
            row.Message = message is null ? null : Redact(message);
            if (details is not null) row.Details = Redact(JsonSerializer.Serialize(details, JsonOptions));
            row.UpdatedAt = clock.GetUtcNow();
            await db.SaveChangesAsync(CancellationToken.None);
            notifier.Publish(new JobChanged(jobId, clusterId, Math.Max(_seq, 0)));
        }
        finally
        {
            _write.Release();
        }
    }

    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Converters = { new System.Text.Json.Serialization.JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>Blanks every secret of the cluster out of a line: output that echoes a value never reaches the log.</summary>
    public string Redact(string text)
    {
        foreach (var secret in _secrets)
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, "***", StringComparison.Ordinal);
        }
        return text;
    }
}
