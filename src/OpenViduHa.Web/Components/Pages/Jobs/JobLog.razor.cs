using System.Globalization;
using Microsoft.AspNetCore.Components;
using Microsoft.JSInterop;
using MudBlazor;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Web.Components.Pages.Jobs;

/// <summary>
/// A job's log: one row per line (number, time, node, text), only the rows in view rendered (<c>Virtualize</c>: a
/// 10,000-line log costs what 60 rows cost), a filter by node, copy, download, and follow mode: the view stays at the
/// end while new lines arrive until the reader scrolls up, and "Follow" brings it back (<c>wwwroot/joblog.js</c>).
/// </summary>
public sealed partial class JobLog : IAsyncDisposable
{
    private const string AllNodes = "";

    /// <summary>The job whose lines these are (its nodes fill the filter).</summary>
    [Parameter, EditorRequired] public JobView Job { get; set; } = default!;

    /// <summary>Every line of the job loaded so far, in order; the parent appends to it as lines arrive.</summary>
    [Parameter, EditorRequired] public List<JobLogLineView> Lines { get; set; } = default!;

    [Inject] private IJSRuntime JS { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private ElementReference _box;
    private DotNetObjectReference<JobLog>? _self;
    private bool _attached;
    private bool _toEnd; // another job was selected: its end is shown once it has rendered
    private bool _following = true;
    private string _node = AllNodes;
    private int _jobId;

    // The lines shown: Lines itself for every node, else the lines of one node, extended as lines arrive.
    private List<JobLogLineView> _shown = [];
    private readonly List<JobLogLineView> _filtered = [];
    private int _scanned;

    private string CountText => _node == AllNodes
        ? Lines.Count == 1 ? "1 line" : $"{Lines.Count.ToString("N0", CultureInfo.InvariantCulture)} lines"
        : $"{_shown.Count.ToString("N0", CultureInfo.InvariantCulture)} of {Lines.Count.ToString("N0", CultureInfo.InvariantCulture)} lines";

    private string DownloadUrl => _node == AllNodes ? $"api/jobs/{Job.Id}/log?format=text" : $"api/jobs/{Job.Id}/log?format=text&node={Uri.EscapeDataString(_node)}";

    private static string NodeLabel(string? node) => string.IsNullOrEmpty(node) ? "all nodes" : node;

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    protected override void OnParametersSet()
    {
        if (Job.Id != _jobId)
        {
            // Another job: every node, following its end.
            _jobId = Job.Id;
            _node = AllNodes;
            _following = true;
            _toEnd = _attached;
        }
        Filter();
    }

    private void Filter()
    {
        if (_node == AllNodes)
        {
            _shown = Lines;
            return;
        }
        if (_scanned > Lines.Count || !ReferenceEquals(_shown, _filtered))
        {
            _filtered.Clear();
            _scanned = 0;
        }
        for (; _scanned < Lines.Count; _scanned++)
            if ((Lines[_scanned].Node ?? JobLogText.PanelNode) == _node) _filtered.Add(Lines[_scanned]);
        _shown = _filtered;
    }

    private async Task FilterAsync(string node)
    {
        _node = node ?? AllNodes;
        _shown = Lines; // forces a fresh scan for the new node
        Filter();
        await FollowAsync(true);
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (firstRender)
        {
            _self = DotNetObjectReference.Create(this);
            await JS.InvokeVoidAsync("ovhaJobLog.attach", _box, _self);
            _attached = true;
        }
        else if (_toEnd)
        {
            _toEnd = false;
            await FollowAsync(true);
        }
    }

    /// <summary>Called by the page's script when the reader scrolls away from the end (false) or back to it (true).</summary>
    [JSInvokable]
    public Task FollowChanged(bool following) => InvokeAsync(() =>
    {
        _following = following;
        StateHasChanged();
    });

    private Task ToggleFollowAsync() => FollowAsync(!_following);

    private async Task FollowAsync(bool on)
    {
        _following = on;
        try
        {
            await JS.InvokeVoidAsync("ovhaJobLog.follow", _box, on);
        }
        catch (JSDisconnectedException)
        {
            // The circuit is gone; nothing to scroll.
        }
    }

    private async Task CopyAsync()
    {
        var text = string.Join('\n', _shown.Select(JobLogText.Line));
        var copied = await JS.InvokeAsync<bool>("ovhaJobLog.copy", text);
        if (copied) Snackbar.Add($"Copied {_shown.Count.ToString("N0", CultureInfo.InvariantCulture)} lines.", Severity.Success);
        else Snackbar.Add("The browser refused the clipboard here: use Download.", Severity.Warning);
    }

    public async ValueTask DisposeAsync()
    {
        if (_attached)
        {
            try
            {
                await JS.InvokeVoidAsync("ovhaJobLog.detach", _box);
            }
            catch (JSDisconnectedException)
            {
                // The page is already gone.
            }
        }
        _self?.Dispose();
    }
}
