using System.Text.Json;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// What a running job writes: numbered log lines (with every secret value of the cluster blanked out), node states
/// and its own state. A write returns once it is committed and announced, so a view that opens late sees all of it.
/// Writes that arrive while another commit runs are committed together (group commit): 24 nodes logging at once cost
/// a few transactions, not hundreds.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001",
    Justification = "The write gate is a SemaphoreSlim that never hands out its wait handle (nothing to release), and lines may still arrive from output threads after the run: the gate must outlive it.")]
public sealed class JobContext(
    int jobId,
    int clusterId,
    IDbContextFactory<PanelDbContext> dbFactory,
    JobNotifier notifier,
    TimeProvider clock,
    IReadOnlyCollection<string> secretValues,
    int lastSeq,
    CancellationToken cancellation,
    CancellationToken stopping = default)
{
    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly object _gate = new();
    private readonly string[] _secrets = secretValues.Where(s => s.Length >= 4).OrderByDescending(s => s.Length).ToArray();
    private List<JobLogLine> _pendingLines = [];
    private List<(int NodeId, NodeJobState State, string? Message, string? Details, DateTimeOffset At)> _pendingNodes = [];
    private int _seq = lastSeq;

    public int JobId => jobId;
    public int ClusterId => clusterId;
    public CancellationToken Cancellation => cancellation;

    /// <summary>The panel is shutting down: work stops, and the job is marked interrupted rather than cancelled.</summary>
    public bool Stopping => stopping.IsCancellationRequested;

    public Task LogAsync(string? node, string text)
    {
        lock (_gate)
            _pendingLines.Add(new JobLogLine { JobId = jobId, Seq = ++_seq, At = clock.GetUtcNow(), NodeName = node, Text = Redact(text) });
        return FlushAsync();
    }

    public Task SetNodeAsync(int nodeId, NodeJobState state, string? message, object? details = null)
    {
        var json = details is null ? null : Redact(JsonSerializer.Serialize(details, JsonOptions));
        lock (_gate) _pendingNodes.Add((nodeId, state, message is null ? null : Redact(message), json, clock.GetUtcNow()));
        return FlushAsync();
    }

    private async Task FlushAsync()
    {
        await _write.WaitAsync(CancellationToken.None);
        try
        {
            List<JobLogLine> lines;
            List<(int NodeId, NodeJobState State, string? Message, string? Details, DateTimeOffset At)> nodes;
            int seq;
            lock (_gate)
            {
                (lines, _pendingLines) = (_pendingLines, []);
                (nodes, _pendingNodes) = (_pendingNodes, []);
                seq = _seq;
            }
            if (lines.Count == 0 && nodes.Count == 0) return; // an earlier commit took ours

            await using var db = await dbFactory.CreateDbContextAsync(CancellationToken.None);
            db.JobLog.AddRange(lines);
            if (nodes.Count > 0)
            {
                var ids = nodes.Select(n => n.NodeId).Distinct().ToList();
                var rows = await db.JobNodes.Where(n => n.JobId == jobId && ids.Contains(n.NodeId)).ToDictionaryAsync(n => n.NodeId);
                foreach (var (nodeId, state, message, details, at) in nodes)
                {
                    var row = rows[nodeId];
                    row.State = state;
                    row.Message = message;
                    if (details is not null) row.Details = details;
                    row.UpdatedAt = at;
                }
            }
            await db.SaveChangesAsync(CancellationToken.None);
            notifier.Publish(new JobChanged(jobId, clusterId, lines.Count > 0 ? lines[^1].Seq : seq));
        }
        finally
        {
            _write.Release();
        }
    }

    /// <summary>Relaxed escaping: redaction runs on the serialized text and must see values as they are, not \uXXXX.</summary>
    internal static readonly JsonSerializerOptions JsonOptions = new(JsonSerializerDefaults.Web)
    {
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
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
