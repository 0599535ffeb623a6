using Microsoft.AspNetCore.Components;
using Microsoft.Extensions.Options;
using MudBlazor;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Components.Pages.Status;

/// <summary>
/// The cluster page's Status tab, live: every sweep's <see cref="ClusterStatus"/> arrives through
/// <see cref="StatusStore"/> (no polling from the browser, no reload). Recent changes come from the database, read again
/// only when a sweep brings a verdict different from the ones the history was read for.
/// </summary>
public sealed partial class ClusterStatusView : IDisposable
{
    /// <summary>Changes shown per node (and for the cluster).</summary>
    private const int HistoryPerNode = 10;

    [Parameter, EditorRequired] public int ClusterId { get; set; }

    [Inject] private StatusStore Store { get; set; } = default!;
    [Inject] private StatusCollector Collector { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IOptions<StatusOptions> Options { get; set; } = default!;

    private readonly CancellationTokenSource _stop = new();
    private readonly SemaphoreSlim _historyGate = new(1, 1);
    private IDisposable? _subscription;
    private int _subscribedTo;
    private ClusterStatus? _status;
    private bool _refreshing;
    private bool _checkingPorts;
    /// <summary>The operator's choice; until made, narrowed when the cluster is too big to draw every card.</summary>
    private bool? _notGreenChoice;

    private bool NotGreenOnly => _notGreenChoice ?? _status?.Nodes.Count > StatusText.DetailedUpTo;

    private ILookup<int?, StatusChange> _history = Array.Empty<StatusChange>().ToLookup(c => c.NodeId);

    /// <summary>The verdicts (each node's, and the cluster's) the shown history was read for.</summary>
    private Dictionary<int, (NodeHealth, string)> _historyNodes = [];
    private (ClusterHealth, string)? _historyCluster;

    protected override async Task OnParametersSetAsync()
    {
        if (_subscription is not null && _subscribedTo == ClusterId) return;
        _subscription?.Dispose();
        _subscribedTo = ClusterId;
        _status = null;
        _history = Array.Empty<StatusChange>().ToLookup(c => c.NodeId);
        _historyNodes = [];
        _historyCluster = null;
        // Subscribe before reading the latest: a sweep that ends in between is not missed.
        _subscription = Store.Subscribe(ClusterId, status => InvokeAsync(() => OnStatusAsync(status)));
        _status = Store.Latest(ClusterId);
        if (_status is not null) await LoadHistoryAsync(_status);
        else if (RendererInfo.IsInteractive) _ = RefreshAsync(force: false); // no picture yet (just started, or sweeps off)
    }

    private async Task OnStatusAsync(ClusterStatus status)
    {
        try
        {
            if (status.ClusterId != ClusterId) return;
            // Publishing does not wait for views: an older sweep's status may come after a newer one.
            if (_status?.CheckedAt is { } shown && status.CheckedAt is { } at && at < shown) return;
            _status = status;
            if (HistoryIsStale(status)) await LoadHistoryAsync(status);
            StateHasChanged();
        }
        catch (Exception e) when (!_stop.IsCancellationRequested)
        {
            await DispatchExceptionAsync(e);
        }
    }

    private bool HistoryIsStale(ClusterStatus status) =>
        _historyCluster != (status.Health, status.Reason)
        || status.Nodes.Count != _historyNodes.Count
        || status.Nodes.Any(n => !_historyNodes.TryGetValue(n.NodeId, out var v) || v != Verdict(n));

    private static (NodeHealth, string) Verdict(NodeStatus node) => (node.Health, node.NotWatched ?? node.Reason);

    private async Task LoadHistoryAsync(ClusterStatus status)
    {
        await _historyGate.WaitAsync(_stop.Token);
        try
        {
            // Verdicts first: a change written while this reads is caught by the next sweep's comparison.
            var cluster = (status.Health, status.Reason);
            var nodes = status.Nodes.ToDictionary(n => n.NodeId, Verdict);
            var take = Math.Min(2000, (status.Nodes.Count + 1) * HistoryPerNode * 2);
            var changes = await Collector.HistoryAsync(ClusterId, take, _stop.Token);
            _history = changes.GroupBy(c => c.NodeId).SelectMany(g => g.Take(HistoryPerNode)).ToLookup(c => c.NodeId);
            _historyCluster = cluster;
            _historyNodes = nodes;
        }
        finally
        {
            _historyGate.Release();
        }
    }

    /// <summary>
    /// Sweeps now. <paramref name="force"/>: also retry nodes whose connection waits out a backoff (the operator's
    /// refresh); <paramref name="allPorts"/>: run every port check, not only the due ones ("check ports now"). Neither
    /// (the page opened before the cluster's first picture): the sweep already running is awaited rather than repeated.
    /// </summary>
    private async Task RefreshAsync(bool force = true, bool allPorts = false)
    {
        if (_refreshing) return;
        _refreshing = true;
        _checkingPorts = allPorts;
        StateHasChanged();
        try
        {
            var status = force || allPorts
                ? await Collector.RefreshAsync(ClusterId, allPorts, force, _stop.Token)
                : await Collector.LatestAsync(ClusterId, _stop.Token);
            if (status is null) Snackbar.Add("The cluster no longer exists.", Severity.Warning);
            else await OnStatusAsync(status);
        }
        catch (OperationCanceledException) when (_stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception e)
        {
            Snackbar.Add($"The status check failed: {e.Message}", Severity.Error);
        }
        _refreshing = false;
        _checkingPorts = false;
        StateHasChanged();
    }

    private IReadOnlyList<StatusChange> HistoryOf(int? nodeId) => _history[nodeId].ToList();

    private string CheckedText => _status?.CheckedAt is { } at
        ? $"checked {StatusText.Time(at)} UTC"
        : "not checked yet";

    public void Dispose()
    {
        _subscription?.Dispose();
        // Cancelled, not disposed: a status already on its way may still look at the token and the gate.
        _stop.Cancel();
    }
}
