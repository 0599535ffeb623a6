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
    /// <summary>How much output the job keeps (<see cref="JobLogLimits.Default"/> unless a test sets smaller ones).</summary>
    public JobLogLimits Limits { get; init; } = JobLogLimits.Default;
    private int _keptLines;
    private long _keptChars;
    private bool _cut;
    private int _panelLinesAfterCut;

    private readonly SemaphoreSlim _write = new(1, 1);
    private readonly object _gate = new();
    private string[] _secrets = secretValues.Where(s => s.Length >= 4).OrderByDescending(s => s.Length).ToArray();
    private List<JobLogLine> _pendingLines = [];
    private List<(int NodeId, NodeJobState State, string? Message, string? Details, DateTimeOffset At)> _pendingNodes = [];
    private int _seq = lastSeq;

    public int JobId => jobId;
    public int ClusterId => clusterId;
    public CancellationToken Cancellation => cancellation;

    /// <summary>The panel is shutting down: work stops, and the job is marked interrupted rather than cancelled.</summary>
    public bool Stopping => stopping.IsCancellationRequested;

    /// <summary>
    /// One line of the log. A node cannot fill the panel's memory or disk: a line is cut at <see cref="JobLogLimits.MaxLineChars"/>,
    /// and once the job's log holds <see cref="JobLogLimits.MaxLines"/> lines or <see cref="JobLogLimits.MaxChars"/>
    /// characters, one line says where it was cut and the nodes' further output is dropped. The panel's own lines (a
    /// node's end, the job's result) are still kept, up to <see cref="JobLogLimits.PanelLinesAfterCut"/> more.
    /// </summary>
    public Task LogAsync(string? node, string text)
    {
        if (text.Length > Limits.MaxLineChars)
            text = $"{text[..Limits.MaxLineChars]}… (line cut: {text.Length - Limits.MaxLineChars:N0} more characters)";
        lock (_gate)
        {
            if (!_cut && (_keptLines >= Limits.MaxLines || _keptChars + text.Length > Limits.MaxChars))
            {
                _cut = true;
                _pendingLines.Add(new JobLogLine
                {
                    JobId = jobId, Seq = ++_seq, At = clock.GetUtcNow(), NodeName = null,
                    Text = $"Log cut here: a job keeps at most {Limits.MaxLines:N0} lines and {Size(Limits.MaxChars)} of output. " +
                           "The nodes' further output is not kept (it is on the nodes: journalctl -u openvidu, /opt/openvidu); the job's own lines still are.",
                });
            }
            if (_cut && (node is not null || ++_panelLinesAfterCut > Limits.PanelLinesAfterCut))
                return _pendingLines.Count > 0 ? FlushAsync() : Task.CompletedTask; // the cut line itself is committed
            _keptLines++;
            _keptChars += text.Length;
            _pendingLines.Add(new JobLogLine { JobId = jobId, Seq = ++_seq, At = clock.GetUtcNow(), NodeName = node, Text = Redact(text) });
        }
        return FlushAsync();
    }

    private static string Size(long chars) =>
        chars >= 1024 * 1024 ? $"{chars / (1024 * 1024):N0} MiB" : $"{chars:N0} characters";

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

    /// <summary>Secrets the job made itself (an upgrade's new app credentials): redacted from then on like the cluster's.</summary>
    public void AddSecrets(IEnumerable<string> values)
    {
        lock (_gate) _secrets = _secrets.Concat(values.Where(s => s.Length >= 4)).OrderByDescending(s => s.Length).ToArray();
    }

    /// <summary>Blanks every secret of the cluster out of a line: output that echoes a value never reaches the log.</summary>
    public string Redact(string text)
    {
        foreach (var secret in Volatile.Read(ref _secrets))
        {
            if (text.Contains(secret, StringComparison.Ordinal)) text = text.Replace(secret, "***", StringComparison.Ordinal);
        }
        return text;
    }
}

/// <summary>How much of its nodes' output one job keeps (<see cref="JobContext.LogAsync"/>).</summary>
public sealed record JobLogLimits(int MaxLines, long MaxChars, int MaxLineChars, int PanelLinesAfterCut)
{
    /// <summary>50,000 lines and 16 MiB per job, 4,096 characters per line.</summary>
    public static readonly JobLogLimits Default = new(50_000, 16L * 1024 * 1024, 4096, 1000);
}
