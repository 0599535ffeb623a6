using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Components.Pages.Jobs;

/// <summary>
/// A cluster's jobs: start one, follow it live. Updates arrive through <see cref="JobNotifier"/> (no polling from the
/// browser); log lines are numbered, and the view asks only for lines after the last number it shows, so a view that
/// opens late or reconnects shows every line exactly once.
/// </summary>
public sealed partial class ClusterJobs
{
    [Parameter, EditorRequired] public int ClusterId { get; set; }

    /// <summary>The cluster's nodes: a job that interrupts service names them when it asks for confirmation.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<NodeView> Nodes { get; set; } = [];

    /// <summary>The cluster's OpenVidu version: where an upgrade starts.</summary>
    [Parameter, EditorRequired] public string Version { get; set; } = "";

    /// <summary>A job started elsewhere on the page (a node's menu, "Fetch digests"): shown selected, and again whenever it changes.</summary>
    [Parameter] public int? FollowJobId { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;
    [Inject] private JobService Jobs { get; set; } = default!;
    [Inject] private ClusterService Clusters { get; set; } = default!;
    [Inject] private JobNotifier Notifier { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;
    [Inject] private IDialogService Dialogs { get; set; } = default!;

    private const int LogPage = 5000;

    private readonly SemaphoreSlim _refresh = new(1, 1);
    private IReadOnlyList<JobView> _jobs = [];
    private JobView? _selected;
    private int _selectedId;
    private readonly List<JobLogLineView> _log = [];
    private IDisposable? _subscription;
    private string? _error;
    private int? _followed;

    /// <summary>The cluster-wide jobs of the buttons (the page asks <see cref="JobService.WhyNotAsync"/> about them).</summary>
    public static readonly JobKind[] ButtonKinds = [JobKind.Preflight, JobKind.CheckCredentials, JobKind.Install, JobKind.DistributeCredentials, JobKind.RollingRestart];

    /// <summary>Why each of <see cref="ButtonKinds"/> cannot run now (null: it can), from the page, which asks again whenever a job is queued or ends.</summary>
    [Parameter, EditorRequired] public IReadOnlyDictionary<JobKind, string?> WhyNotNow { get; set; } = new Dictionary<JobKind, string?>();

    private string? WhyNot(JobKind kind) => WhyNotNow.GetValueOrDefault(kind);

    protected override async Task OnInitializedAsync()
    {
        _subscription = Notifier.SubscribeCluster(ClusterId, change => InvokeAsync(() => OnChangedAsync(change)));
        await ReloadAsync();
        if (FollowJobId is null && _jobs.Count > 0) await SelectAsync(_jobs[0].Id);
    }

    protected override async Task OnParametersSetAsync()
    {
        if (FollowJobId is not { } follow || follow == _followed) return;
        _followed = follow;
        await ReloadAsync();
        await SelectAsync(follow);
    }

    /// <summary>The newest upgrade of the cluster did not finish: its rollback is offered (the cluster is on the hop's old version).</summary>
    private bool FailedUpgrade => _jobs.FirstOrDefault(j => j.Kind is JobKind.Upgrade or JobKind.RollbackUpgrade) is { Kind: JobKind.Upgrade, State: JobState.Failed or JobState.Cancelled or JobState.Interrupted };

    private async Task UpgradeAsync()
    {
        if (!OpenViduVersion.TryParse(Version, out var from)) return;
        if (await UpgradeDialog.AskAsync(Dialogs, from, JobImpacts.Of(JobKind.Upgrade, Nodes)) is not { } target) return;
        await EnqueueAsync(JobKind.Upgrade, null, new JobParameters { TargetVersion = target });
    }

    private async Task ReconfigureAsync()
    {
        if (await Clusters.LoadDefinitionAsync(ClusterId) is not { } cluster) return;
        if (await ReconfigureDialog.AskAsync(Dialogs, cluster) is not { } parameters) return;
        await EnqueueAsync(JobKind.Reconfigure, null, parameters);
    }

    private async Task StartAsync(JobKind kind, int? nodeId = null)
    {
        if (!await ConfirmJobDialog.AskAsync(Dialogs, JobImpacts.Of(kind, Nodes, Nodes.FirstOrDefault(n => n.Id == nodeId)))) return;
        await EnqueueAsync(kind, nodeId, null);
    }

    private async Task EnqueueAsync(JobKind kind, int? nodeId, JobParameters? parameters)
    {
        var actor = (await AuthenticationState).User.Actor();
        var result = await Jobs.EnqueueAsync(ClusterId, kind, nodeId, actor, parameters: parameters);
        if (!result.Succeeded)
        {
            _error = result.Message;
            StateHasChanged();
            return;
        }
        _error = null;
        Snackbar.Add($"{kind.Name()} queued as job {result.Id}.", Severity.Info);
        await ReloadAsync();
        await SelectAsync(result.Id!.Value);
    }

    private async Task OnChangedAsync(JobChanged change)
    {
        try
        {
            await ReloadAsync();
            if (change.JobId == _selectedId) await RefreshSelectedAsync();
            StateHasChanged();
        }
        catch (Exception e)
        {
            await DispatchExceptionAsync(e);
        }
    }

    private async Task ReloadAsync() => _jobs = await Jobs.ListAsync(ClusterId);

    private async Task SelectAsync(int jobId)
    {
        _selectedId = jobId;
        _log.Clear();
        await RefreshSelectedAsync();
    }

    private async Task RefreshSelectedAsync()
    {
        await _refresh.WaitAsync();
        try
        {
            _selected = await Jobs.GetAsync(_selectedId);
            // A page at a time until the end: a long log (10,000 lines and more) arrives whole.
            while (true)
            {
                var after = _log.Count == 0 ? 0 : _log[^1].Seq;
                var lines = await Jobs.LogAsync(_selectedId, after, LogPage);
                _log.AddRange(lines);
                if (lines.Count < LogPage) break;
            }
        }
        finally
        {
            _refresh.Release();
        }
    }

    private async Task CancelAsync()
    {
        var result = await Jobs.CancelAsync(_selectedId, (await AuthenticationState).User.Actor());
        _error = result.Message;
    }

    private async Task RetryAsync()
    {
        var result = await Jobs.RetryAsync(_selectedId, (await AuthenticationState).User.Actor());
        if (!result.Succeeded)
        {
            _error = result.Message;
            return;
        }
        await ReloadAsync();
        await SelectAsync(result.Id!.Value);
    }

    internal static Color StateColor(JobState state) => state switch
    {
        JobState.Succeeded => Color.Success,
        JobState.Failed => Color.Error,
        JobState.Interrupted or JobState.Cancelled => Color.Warning,
        JobState.Running => Color.Info,
        _ => Color.Default,
    };

    internal static Color StateColor(NodeJobState state) => state switch
    {
        NodeJobState.Succeeded => Color.Success,
        NodeJobState.Failed => Color.Error,
        NodeJobState.Warning or NodeJobState.Interrupted or NodeJobState.Cancelled => Color.Warning,
        NodeJobState.Running => Color.Info,
        _ => Color.Default,
    };

    public void Dispose()
    {
        _subscription?.Dispose();
        _refresh.Dispose();
    }
}
