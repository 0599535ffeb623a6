using System.Globalization;
using MudBlazor;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Components.Pages.Status;

/// <summary>How the status tab names and colours things: one place, so the chip, the card, the picture and the matrix agree.</summary>
internal static class StatusText
{
    /// <summary>
    /// Up to this many nodes the tab draws every node (tile, card, matrix row). Above it, it summarizes: the picture and
    /// the media nodes' matrix draw what is not green or not open and count the rest, the cards and the containers start
    /// narrowed to trouble (a switch shows them all).
    /// </summary>
    public const int DetailedUpTo = 120;

    /// <summary>Red first, then amber, grey, green: the order trouble is shown in when not everything is.</summary>
    public static int Severity(NodeHealth health) => health switch
    {
        NodeHealth.Red => 0,
        NodeHealth.Amber => 1,
        NodeHealth.Unknown => 2,
        _ => 3,
    };

    /// <summary>green, amber, red, grey: the colour key of CSS classes and of the <c>data-health</c> attribute (never shown as text).</summary>
    public static string Word(NodeHealth health) => health switch
    {
        NodeHealth.Green => "green",
        NodeHealth.Amber => "amber",
        NodeHealth.Red => "red",
        _ => "grey",
    };

    public static string Word(ClusterHealth health) => health.Lower();

    /// <summary>What a person reads: a state, not a colour (the colour carries no meaning for everyone).</summary>
    public static string State(NodeHealth health) => health switch
    {
        NodeHealth.Green => "healthy",
        NodeHealth.Amber => "warning",
        NodeHealth.Red => "failing",
        _ => "not checked",
    };

    public static string State(ClusterHealth health) => health == ClusterHealth.Unknown ? "not checked" : health.Lower();

    public static Color Color(NodeHealth health) => health switch
    {
        NodeHealth.Green => MudBlazor.Color.Success,
        NodeHealth.Amber => MudBlazor.Color.Warning,
        NodeHealth.Red => MudBlazor.Color.Error,
        _ => MudBlazor.Color.Default,
    };

    public static Color Color(ClusterHealth health) => health switch
    {
        ClusterHealth.Healthy => MudBlazor.Color.Success,
        ClusterHealth.Degraded => MudBlazor.Color.Warning,
        ClusterHealth.Down => MudBlazor.Color.Error,
        _ => MudBlazor.Color.Default,
    };

    public static string Icon(NodeHealth health) => health switch
    {
        NodeHealth.Green => Icons.Material.Filled.CheckCircle,
        NodeHealth.Amber => Icons.Material.Filled.Warning,
        NodeHealth.Red => Icons.Material.Filled.Error,
        _ => Icons.Material.Filled.HelpOutline,
    };

    public static string Icon(ClusterHealth health) => health switch
    {
        ClusterHealth.Healthy => Icons.Material.Filled.CheckCircle,
        ClusterHealth.Degraded => Icons.Material.Filled.Warning,
        ClusterHealth.Down => Icons.Material.Filled.Error,
        _ => Icons.Material.Filled.HelpOutline,
    };

    /// <summary>A history row's health (stored as the enum's lower-case name) as a colour.</summary>
    public static NodeHealth ParseNode(string health) => Enum.TryParse<NodeHealth>(health, ignoreCase: true, out var h) ? h : NodeHealth.Unknown;

    public static ClusterHealth ParseCluster(string health) => Enum.TryParse<ClusterHealth>(health, ignoreCase: true, out var h) ? h : ClusterHealth.Unknown;

    /// <summary>A node that is not watched is grey whatever its last verdict.</summary>
    public static NodeHealth Shown(NodeStatus node) => node.NotWatched is null ? node.Health : NodeHealth.Unknown;

    public static string Role(NodeRole role) => role == NodeRole.Master ? "master" : "media";

    public static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Seconds(TimeSpan span) => span.TotalSeconds < 10
        ? span.TotalSeconds.ToString("0.0", CultureInfo.InvariantCulture) + " s"
        : span.TotalSeconds.ToString("0", CultureInfo.InvariantCulture) + " s";

    /// <summary>"5 min", "30 s", "every sweep" (0): a schedule in words.</summary>
    public static string Interval(TimeSpan span) =>
        span <= TimeSpan.Zero ? "sweep"
        : span.TotalSeconds < 60 || span.Seconds != 0 ? Number(span.TotalSeconds, "0.#") + " s"
        : span.TotalMinutes < 60 || span.Minutes != 0 ? Number(span.TotalMinutes, "0") + " min"
        : Number(span.TotalHours, "0.#") + " h";

    public static string Number(double value, string format = "0.##") => value.ToString(format, CultureInfo.InvariantCulture);

    /// <summary>1.5 GiB, 980 MiB: kibibytes as the kernel reports them.</summary>
    public static string Size(long kb)
    {
        if (kb >= 1024L * 1024 * 1024) return Number(kb / (1024.0 * 1024 * 1024), "0.#") + " TiB";
        if (kb >= 1024L * 1024) return Number(kb / (1024.0 * 1024), "0.#") + " GiB";
        return Number(kb / 1024.0, "0") + " MiB";
    }

    /// <summary>
    /// A container that is restarting or exited with an error (error colour), or has restarted before (warning); null when
    /// it is fine. Exited (0) is how every container looks while the service is stopped, and how init containers end.
    /// </summary>
    public static string? Trouble(ContainerStatus container) =>
        container.IsRestarting ? "restarting"
        : container.State is "exited" or "dead" && !container.Status.StartsWith("Exited (0)", StringComparison.Ordinal) ? "failed"
        : container.RestartCount > 0 ? "restarted"
        : null;
}
