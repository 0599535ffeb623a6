using Microsoft.AspNetCore.Components;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Components.Pages.Status;

/// <summary>
/// The port checks of one role's nodes as a matrix: a row per node, a column per check group (port, protocol and where
/// it was checked from: the panel, the masters or the media nodes), each cell the open count of the group's checks.
/// A cell with a closed check is red and its tooltip names the sources that failed and why. Above
/// <see cref="StatusText.DetailedUpTo"/> nodes, only the rows with a closed check are drawn, and one row adds up the rest.
/// </summary>
public sealed partial class PortMatrix
{
    [Parameter, EditorRequired] public NodeRole Role { get; set; }

    /// <summary>Every node of the cluster: the rows are the ones of <see cref="Role"/>; the others name the sources.</summary>
    [Parameter, EditorRequired] public IReadOnlyList<NodeStatus> Nodes { get; set; } = [];

    internal sealed record Group(int Port, string Protocol, string From)
    {
        public string Title => $"{Port}/{Protocol}";
        public string FromText => From switch { "panel" => "from the panel", "masters" => "from masters", "media" => "from media nodes", _ => "from " + From };
    }

    /// <summary>A group's checks of one node; <see cref="CheckedAt"/> is when the oldest of them ran.</summary>
    internal sealed record Cell(Group Group, int Open, int Total, string Tooltip, DateTimeOffset? CheckedAt)
    {
        public bool AllOpen => Open == Total;
    }

    private List<NodeStatus> _rows = [];

    /// <summary>Summarized: the nodes whose checks all passed, added up per column (null: every row is drawn).</summary>
    private (int Nodes, Dictionary<Group, (int Open, int Total)> Cells)? _allOpen;
    private List<Group> _groups = [];
    private Dictionary<(int NodeId, Group Group), Cell> _cells = [];

    protected override void OnParametersSet()
    {
        var roles = Nodes.GroupBy(n => n.Name).ToDictionary(g => g.Key, g => g.First().Role);
        string FromGroup(string from) => from == PortPlan.Panel ? "panel"
            : roles.TryGetValue(from, out var role) ? (role == NodeRole.Master ? "masters" : "media")
            : "other";

        _rows = Nodes.Where(n => n.Role == Role && n.NotWatched is null).ToList();
        _cells = [];
        foreach (var node in _rows)
        {
            foreach (var checks in node.Ports.GroupBy(p => new Group(p.Port, p.Protocol, FromGroup(p.From))))
            {
                var list = checks.ToList();
                _cells[(node.NodeId, checks.Key)] = new Cell(checks.Key, list.Count(c => c.Open), list.Count, Tooltip(node, checks.Key, list), list.Min(c => c.CheckedAt));
            }
        }
        _allOpen = null;
        if (Nodes.Count > StatusText.DetailedUpTo)
        {
            var byNode = _cells.GroupBy(c => c.Key.NodeId).ToDictionary(g => g.Key, g => g.Select(c => c.Value).ToList());
            // A node with no check at all (down, not reached) is trouble too: it keeps its row.
            var quiet = _rows.Where(n => byNode.GetValueOrDefault(n.NodeId) is { } cells && cells.All(c => c.AllOpen)).ToList();
            var sums = quiet.SelectMany(n => byNode.GetValueOrDefault(n.NodeId) ?? [])
                .GroupBy(c => c.Group).ToDictionary(g => g.Key, g => (g.Sum(c => c.Open), g.Sum(c => c.Total)));
            if (quiet.Count > 0) _allOpen = (quiet.Count, sums);
            var shown = _rows.Except(quiet).ToHashSet();
            _rows = _rows.Where(shown.Contains).ToList();
        }
        string[] order = ["panel", "masters", "media", "other"];
        _groups = _cells.Keys.Select(k => k.Group).Distinct()
            .OrderBy(g => g.Port).ThenBy(g => g.Protocol, StringComparer.Ordinal).ThenBy(g => Array.IndexOf(order, g.From)).ToList();
    }

    private static string Tooltip(NodeStatus node, Group group, List<PortCheck> checks)
    {
        var closed = checks.Where(c => !c.Open).Select(Describe).ToList();
        var open = checks.Where(c => c.Open).Select(Describe).ToList();
        var text = $"{node.Name} {group.Title} {group.FromText}: ";
        if (closed.Count > 0) text += $"closed from {string.Join(", ", closed)}";
        if (closed.Count > 0 && open.Count > 0) text += "; ";
        if (open.Count > 0) text += $"open from {string.Join(", ", open)}";
        return text;
    }

    /// <summary>"media-1 (refused or unreachable, 12:03:04)": the source, why, and when the check ran.</summary>
    private static string Describe(PortCheck check)
    {
        var notes = new[] { check.Detail, check.CheckedAt is { } at ? StatusText.Time(at) : null }.Where(n => n is not null).ToList();
        return notes.Count == 0 ? check.From : $"{check.From} ({string.Join(", ", notes)})";
    }

    private Cell? CellOf(NodeStatus node, Group group) => _cells.GetValueOrDefault((node.NodeId, group));
}
