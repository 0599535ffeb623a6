using System.Globalization;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Status;

/// <summary>
/// <c>GET /metrics</c> in Prometheus' text format (0.0.4), behind the same sign-in as everything else: Prometheus sends
/// an API token (<c>authorization: { credentials_file: … }</c>). Values come from the latest sweep in memory and
/// one grouped count of jobs: a scrape never starts a sweep.
/// </summary>
public static class MetricsEndpoint
{
    public const string ContentType = "text/plain; version=0.0.4; charset=utf-8";

    public static void MapMetrics(this IEndpointRouteBuilder app) =>
        app.MapGet("/metrics", async (StatusStore store, StatusCollector collector, IDbContextFactory<PanelDbContext> dbFactory, CancellationToken ct) =>
            {
                await using var db = await dbFactory.CreateDbContextAsync(ct);
                var jobs = await db.Jobs.AsNoTracking().GroupBy(j => new { j.Kind, j.State }).Select(g => new { g.Key.Kind, g.Key.State, Count = g.Count() }).ToListAsync(ct);
                var text = Render(store.All, jobs.Select(j => (j.Kind.Name(), j.State.Lower(), j.Count)).ToList(), collector.Sweeps, collector.Connections.Open);
                return Results.Text(text, ContentType, Encoding.UTF8);
            })
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .WithTags("Panel").WithName("Metrics").WithSummary("Prometheus metrics: cluster and node health, sweeps, jobs.");

    public static string Render(IReadOnlyCollection<ClusterStatus> clusters, IReadOnlyList<(string Kind, string State, int Count)> jobs, long sweeps, int openConnections)
    {
        var s = new StringBuilder();
        var ordered = clusters.OrderBy(c => c.ClusterName, StringComparer.Ordinal).ToList();

        Family(s, "ovha_cluster_health", "gauge", "1 for the cluster's current health (healthy, degraded, down, unknown).");
        foreach (var c in ordered)
            foreach (var h in Enum.GetValues<ClusterHealth>())
                Sample(s, "ovha_cluster_health", [("cluster", c.ClusterName), ("health", h.Lower())], c.Health == h ? 1 : 0);

        Family(s, "ovha_node_up", "gauge", "1 when the last sweep ran its probe on the node over SSH.");
        foreach (var (c, n) in Nodes(ordered)) Sample(s, "ovha_node_up", NodeLabels(c, n), n.Reachable ? 1 : 0);

        Family(s, "ovha_node_health", "gauge", "1 for the node's current health (green, amber, red, unknown).");
        foreach (var (c, n) in Nodes(ordered))
            foreach (var h in Enum.GetValues<NodeHealth>())
                Sample(s, "ovha_node_health", [.. NodeLabels(c, n), ("health", h.Lower())], n.Health == h ? 1 : 0);

        Family(s, "ovha_node_rtt_seconds", "gauge", "From sending the status probe to its first output line, on the kept SSH connection.");
        foreach (var (c, n) in Nodes(ordered).Where(x => x.Node.RttMs is not null))
            Sample(s, "ovha_node_rtt_seconds", NodeLabels(c, n), n.RttMs!.Value / 1000);

        Family(s, "ovha_container_restarts", "gauge", "Docker's restart count of the container.");
        foreach (var (c, n) in Nodes(ordered))
            foreach (var container in n.Containers)
                Sample(s, "ovha_container_restarts", [.. NodeLabels(c, n), ("container", container.Name)], container.RestartCount);

        Family(s, "ovha_container_running", "gauge", "1 when the container's state is running.");
        foreach (var (c, n) in Nodes(ordered))
            foreach (var container in n.Containers)
                Sample(s, "ovha_container_running", [.. NodeLabels(c, n), ("container", container.Name)], container.State == "running" ? 1 : 0);

        Family(s, "ovha_port_open", "gauge", "1 when the port answered the check run from the panel or from another node.");
        foreach (var (c, n) in Nodes(ordered))
            foreach (var port in n.Ports)
                Sample(s, "ovha_port_open", [.. NodeLabels(c, n), ("port", port.Port.ToString(CultureInfo.InvariantCulture)), ("protocol", port.Protocol), ("from", port.From)], port.Open ? 1 : 0);

        Family(s, "ovha_status_sweep_duration_seconds", "gauge", "How long the cluster's last status sweep took.");
        foreach (var c in ordered) Sample(s, "ovha_status_sweep_duration_seconds", [("cluster", c.ClusterName)], c.SweepDuration.TotalSeconds);

        Family(s, "ovha_status_last_sweep_timestamp_seconds", "gauge", "When the cluster was last swept (Unix time).");
        foreach (var c in ordered.Where(c => c.CheckedAt is not null))
            Sample(s, "ovha_status_last_sweep_timestamp_seconds", [("cluster", c.ClusterName)], c.CheckedAt!.Value.ToUnixTimeMilliseconds() / 1000.0);

        Family(s, "ovha_status_sweeps_total", "counter", "Cluster sweeps since the panel started.");
        Sample(s, "ovha_status_sweeps_total", [], sweeps);

        Family(s, "ovha_status_connections_open", "gauge", "SSH connections the collector keeps open.");
        Sample(s, "ovha_status_connections_open", [], openConnections);

        Family(s, "ovha_jobs", "gauge", "Jobs in the panel's history by kind and state.");
        foreach (var (kind, state, count) in jobs.OrderBy(j => j.Kind, StringComparer.Ordinal).ThenBy(j => j.State, StringComparer.Ordinal))
            Sample(s, "ovha_jobs", [("kind", kind), ("state", state)], count);
        return s.ToString();
    }

    private static IEnumerable<(ClusterStatus Cluster, NodeStatus Node)> Nodes(IEnumerable<ClusterStatus> clusters) =>
        clusters.SelectMany(c => c.Nodes.Where(n => n.NotWatched is null).Select(n => (c, n)));

    private static (string, string)[] NodeLabels(ClusterStatus c, NodeStatus n) =>
        [("cluster", c.ClusterName), ("node", n.Name), ("role", n.Role == NodeRole.Master ? "master" : "media")];

    private static void Family(StringBuilder s, string name, string type, string help) =>
        s.Append("# HELP ").Append(name).Append(' ').Append(help).Append('\n').Append("# TYPE ").Append(name).Append(' ').Append(type).Append('\n');

    private static void Sample(StringBuilder s, string name, (string Name, string Value)[] labels, double value)
    {
        s.Append(name);
        if (labels.Length > 0)
        {
            s.Append('{');
            for (var i = 0; i < labels.Length; i++)
            {
                if (i > 0) s.Append(',');
                s.Append(labels[i].Name).Append("=\"").Append(Escape(labels[i].Value)).Append('"');
            }
            s.Append('}');
        }
        s.Append(' ').Append(value.ToString("R", CultureInfo.InvariantCulture)).Append('\n');
    }

    private static string Escape(string value) => value.Replace("\\", "\\\\").Replace("\"", "\\\"").Replace("\n", "\\n");
}
