using Microsoft.AspNetCore.Components;
using Microsoft.AspNetCore.Components.Authorization;
using MudBlazor;
using MudBlazor.Utilities;
using OpenViduHa.Core;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Components.Pages.Clusters;

/// <summary>
/// New and edit share one wizard. Each Next runs <see cref="ClusterValidator"/> (pure and fast) and blocks while the step's
/// fields have errors; errors show at their fields and in a summary. The service validates again on save and has the last word.
/// </summary>
public sealed partial class ClusterWizard : IFieldErrors
{
    [Parameter] public int? Id { get; set; }

    [CascadingParameter] private Task<AuthenticationState> AuthenticationState { get; set; } = default!;

    [Inject] private ClusterService Clusters { get; set; } = default!;
    [Inject] private NavigationManager Navigation { get; set; } = default!;
    [Inject] private ISnackbar Snackbar { get; set; } = default!;

    private ClusterForm? _form;
    private int? _loadedId = -1;
    private bool _notFound;
    private string? _storedName;

    /// <summary>The stored revision the edit started from: the save changes nothing if someone else saved since.</summary>
    private int? _revision;

    /// <summary>Set when the save found the cluster changed by someone else: the page offers to reload it.</summary>
    private string? _changedMeanwhile;
    private int _step;
    private bool _saving;
    private ElementReference _top;
    private bool _scrollToTop;

    /// <summary>The latest validation; only the steps the operator tried to leave show their errors.</summary>
    private ValidationErrors _errors = new();
    private IReadOnlyList<ValidationWarning> _warnings = [];
    private readonly HashSet<int> _checkedSteps = [];

    protected override async Task OnParametersSetAsync()
    {
        if (_loadedId == Id) return;
        _loadedId = Id;
        _form = null;
        _notFound = false;
        _step = 0;
        _checkedSteps.Clear();
        _errors = new();
        _warnings = [];
        _changedMeanwhile = null;
        _revision = null;

        if (Id is not { } id)
        {
            _form = ClusterForm.New();
            return;
        }
        var view = await Clusters.GetAsync(id);
        var spec = view is null ? null : await Clusters.GetSpecAsync(id);
        if (view is null || spec is null)
        {
            _notFound = true;
            return;
        }
        _storedName = view.Name;
        _revision = view.Revision;
        _form = ClusterForm.Edit(spec, view);
    }

    public IReadOnlyList<string> For(string field) =>
        _checkedSteps.Contains(WizardFields.StepOf(field)) ? _errors.For(field) : [];

    /// <summary>Fields with errors on a step, or on every step the operator tried to leave when <paramref name="step"/> is null.</summary>
    private IReadOnlyList<string> ErrorFields(int? step) =>
        _errors.Fields.Where(f => step is null ? _checkedSteps.Contains(WizardFields.StepOf(f)) : WizardFields.StepOf(f) == step && _checkedSteps.Contains(step.Value))
            .OrderBy(WizardFields.StepOf)
            .ToList();

    private bool StepHasErrors(int step) => ErrorFields(step).Count > 0;

    private void Revalidate()
    {
        var result = _form!.Validate();
        _errors = result.Errors;
        _warnings = result.Warnings;
    }

    /// <summary>Validates and marks the step as checked; true when the step has no error.</summary>
    private bool TryLeave(int step)
    {
        _checkedSteps.Add(step);
        Revalidate();
        return !_errors.Fields.Any(f => WizardFields.StepOf(f) == step);
    }

    private void Next()
    {
        if (_step < WizardFields.ReviewStep && TryLeave(_step)) _step++;
        if (_step == WizardFields.ReviewStep) Revalidate();
        _scrollToTop = true;
    }

    private void Back()
    {
        if (_step > 0) _step--;
        _scrollToTop = true;
    }

    protected override async Task OnAfterRenderAsync(bool firstRender)
    {
        if (!_scrollToTop) return;
        _scrollToTop = false;
        await _top.FocusAsync();
    }

    /// <summary>Clicking a step title: going back is free, going forward passes the same checks as Next.</summary>
    private Task OnPreviewInteractionAsync(StepperInteractionEventArgs args)
    {
        if (args.Action != StepAction.Activate || args.StepIndex <= _step) return Task.CompletedTask;
        for (var step = _step; step < args.StepIndex; step++)
        {
            if (TryLeave(step)) continue;
            args.Cancel = true;
            _step = step;
            return Task.CompletedTask;
        }
        if (args.StepIndex == WizardFields.ReviewStep) Revalidate();
        return Task.CompletedTask;
    }

    /// <summary>Once a step has been checked, every change validates again so that fixed fields clear at once.</summary>
    private void OnFieldChanged(FormFieldChangedEventArgs args)
    {
        if (_checkedSteps.Count > 0) Revalidate();
    }

    private void OnNodesChanged()
    {
        if (_checkedSteps.Count > 0) Revalidate();
    }

    /// <summary>Drops this page's edits and loads the cluster as it is stored now.</summary>
    private async Task ReloadAsync()
    {
        _loadedId = -1;
        await OnParametersSetAsync();
    }

    private async Task SubmitAsync()
    {
        if (_form is null || _saving) return;
        foreach (var step in new[] { WizardFields.GeneralStep, WizardFields.NodesStep, WizardFields.SecretsStep }) _checkedSteps.Add(step);
        Revalidate();
        if (!_errors.IsEmpty)
        {
            _step = _errors.Fields.Min(WizardFields.StepOf);
            _scrollToTop = true;
            return;
        }

        _saving = true;
        try
        {
            var actor = (await AuthenticationState).User.Actor();
            var spec = _form.ToSpec();
            var result = Id is { } id ? await Clusters.UpdateAsync(id, spec, actor, _revision) : await Clusters.CreateAsync(spec, actor);
            if (result.Kind == OutcomeKind.NotFound)
            {
                _notFound = true;
                return;
            }
            if (result.Kind == OutcomeKind.PreconditionFailed)
            {
                _changedMeanwhile = result.Message;
                _scrollToTop = true;
                return;
            }
            if (!result.Succeeded)
            {
                // The service knows what the page does not (a name already taken, the stored key): show it at its field.
                _errors = result.Errors;
                _warnings = result.Warnings;
                if (!_errors.IsEmpty) _step = _errors.Fields.Min(WizardFields.StepOf);
                _scrollToTop = true;
                return;
            }
            Snackbar.Add(Id is null ? $"Cluster {spec.Name?.Trim()} created." : $"Cluster {spec.Name?.Trim()} saved.", Severity.Success);
            Navigation.NavigateTo($"clusters/{result.Id}");
        }
        finally
        {
            _saving = false;
        }
    }
}
