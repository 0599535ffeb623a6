using Microsoft.AspNetCore.Components;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Components.Pages.Status;

/// <summary>
/// The cluster as a picture: the load balancer on top, the masters in a row, the media nodes in a frame below, each
/// coloured by its verdict, lines load balancer → masters → media nodes. Inline SVG scaled to the width it gets (a fixed
/// 480-unit-wide drawing): up to 8 media nodes as boxes like the masters, more as small numbered tiles in a grid, so
/// 100 of them fit in ten rows. Above <see cref="StatusText.DetailedUpTo"/> nodes only the media nodes that are not
/// green get a tile (the worst <see cref="MaxTroubleTiles"/>), and one bar counts the rest.
/// </summary>
public sealed partial class StatusTopology
{
    private const double Width = 480;
    private const double Margin = 6;
    private const double Inner = Width - 2 * Margin;
    private const int MaxTroubleTiles = 60;

    [Parameter, EditorRequired] public ClusterStatus Status { get; set; } = default!;

    private sealed record Box(NodeStatus Node, double X, double Y, double W, double H, bool Small)
    {
        public double Cx => X + W / 2;
        public string Health => StatusText.Word(StatusText.Shown(Node));
        public string State => StatusText.State(StatusText.Shown(Node));
        public string Tooltip =>
            $"{Node.Name} ({StatusText.Role(Node.Role)}, {Node.PrivateIp}): {State}. " +
            (Node.NotWatched is { } why ? $"Not watched: {why}." : Node.Reason);
    }

    private Rect _lb = default!;
    private List<Box> _masters = [];
    private List<Box> _media = [];
    private Rect? _mediaFrame;
    private double _height;

    /// <summary>Summarized (too many media nodes to draw): the bar, and what it counts.</summary>
    private Rect? _summary;
    private int _mediaCount;
    private string _mediaCounts = "";
    private string _summaryText = "";
    private int _green;

    private readonly record struct Rect(double X, double Y, double W, double H)
    {
        public double Cx => X + W / 2;
        public double Bottom => Y + H;
    }

    protected override void OnParametersSet()
    {
        _lb = new Rect((Width - 200) / 2, 6, 200, 44);

        var masters = Status.Nodes.Where(n => n.Role == NodeRole.Master).ToList();
        const double masterY = 90, masterH = 48;
        _masters = Row(masters, Math.Max(1, masters.Count), 12, masterY, masterH, small: false);

        var media = Status.Nodes.Where(n => n.Role == NodeRole.Media).ToList();
        _mediaCount = media.Count;
        _mediaCounts = string.Join(", ", media.GroupBy(StatusText.Shown).OrderBy(g => StatusText.Severity(g.Key) == 3 ? -1 : StatusText.Severity(g.Key))
            .Select(g => $"{g.Count()} {StatusText.State(g.Key)}"));
        var below = masterY + masterH;
        _summary = null;
        if (media.Count == 0)
        {
            _media = [];
            _mediaFrame = null;
            _height = below + Margin;
            return;
        }
        if (Status.Nodes.Count > StatusText.DetailedUpTo)
        {
            var trouble = media.Where(n => StatusText.Shown(n) != NodeHealth.Green).ToList();
            var shown = trouble.OrderBy(n => StatusText.Severity(StatusText.Shown(n))).Take(MaxTroubleTiles).ToHashSet();
            _green = media.Count - trouble.Count;
            _summaryText = $"{_green} healthy (not drawn one by one)" + (trouble.Count > shown.Count ? $"; {trouble.Count - shown.Count} more not healthy" : "");
            media = media.Where(shown.Contains).ToList(); // in their own order
        }
        var (cols, gap, h) = media.Count switch
        {
            <= 8 => (4, 12.0, 48.0),
            <= 40 => (8, 6.0, 32.0),
            _ => (10, 4.0, 28.0),
        };
        var frameY = below + 30;
        var top = frameY + 24;
        _media = Row(media, cols, gap, top, h, small: media.Count > 8);
        var bottom = _media.Count == 0 ? top : _media.Max(b => b.Y + b.H) + 8;
        if (Status.Nodes.Count > StatusText.DetailedUpTo)
        {
            _summary = new Rect(Margin, bottom, Inner, 28);
            bottom += 28 + 8;
        }
        _mediaFrame = new Rect(Margin / 2, frameY, Width - Margin, bottom - frameY);
        _height = bottom + Margin;
    }

    /// <summary>Boxes left to right in rows of <paramref name="cols"/>, filling the drawing's width.</summary>
    private static List<Box> Row(List<NodeStatus> nodes, int cols, double gap, double y, double h, bool small)
    {
        var w = (Inner - (cols - 1) * gap) / cols;
        return nodes.Select((n, i) => new Box(n, Margin + i % cols * (w + gap), y + i / cols * (h + gap), w, h, small)).ToList();
    }

    private string LbHealth => Status.LoadBalancer switch
    {
        { Checked: true, Reachable: true } => "green",
        { Checked: true, Reachable: false } => "red",
        _ => "grey",
    };

    private string LbWord => Status.LoadBalancer switch
    {
        { Checked: true, Reachable: true } => "reachable",
        { Checked: true, Reachable: false } => "unreachable",
        _ => "not checked",
    };

    private string LbTooltip => Status.LoadBalancer is { } lb ? $"Load balancer {lb.Target}: {lb.Detail}" : "Load balancer: not checked yet.";

    /// <summary>A small tile shows the number at the end of the name (media-12 → 12), else its first characters.</summary>
    private static string Label(Box box)
    {
        var name = box.Node.Name;
        if (!box.Small) return name.Length <= 13 ? name : name[..12] + "…";
        var digits = name.Length - name.AsSpan().TrimEnd("0123456789").Length;
        return digits > 0 ? name[^digits..] : name.Length <= 4 ? name : name[..4];
    }

    private static string N(double value) => StatusText.Number(value, "0.#");
}
