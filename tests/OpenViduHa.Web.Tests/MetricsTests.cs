using System.Text.RegularExpressions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;
using OpenViduHa.Web.Status;

namespace OpenViduHa.Web.Tests;

public sealed partial class MetricsTests
{
    private static ClusterStatus Sample(string clusterName = "prod") => new()
    {
        ClusterId = 1,
        ClusterName = clusterName,
        CheckedAt = DateTimeOffset.FromUnixTimeSeconds(1_800_000_000),
        Health = ClusterHealth.Degraded,
        Reason = "warnings on media-1.",
        SweepDuration = TimeSpan.FromMilliseconds(250),
        Nodes =
        [
            new NodeStatus
            {
                NodeId = 1, Name = "master-1", Role = NodeRole.Master, PrivateIp = "10.0.0.1", Reachable = true, RttMs = 12.5, Service = "active",
                Health = NodeHealth.Green, CheckedAt = DateTimeOffset.UnixEpoch,
                Containers = [new ContainerStatus("caddy", "img", "running", "Up", 0)],
                Ports = [new PortCheck(7880, "http", "panel", true), new PortCheck(7000, "tcp", "media-1", false)],
            },
            new NodeStatus
            {
                NodeId = 2, Name = "media-1", Role = NodeRole.Media, PrivateIp = "10.0.0.11", Reachable = false, Service = "unknown",
                Health = NodeHealth.Red, CheckedAt = DateTimeOffset.UnixEpoch,
            },
            new NodeStatus { NodeId = 3, Name = "media-2", Role = NodeRole.Media, PrivateIp = "10.0.0.12", NotWatched = "not installed yet" },
        ],
    };

    [Fact]
    public void Render_Sample_EveryLineIsValidPrometheusText()
    {
        var text = MetricsEndpoint.Render([Sample()], [("install", "succeeded", 2), ("stop", "failed", 1)], sweeps: 42, openConnections: 1);

        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        string? family = null;
        foreach (var line in text.TrimEnd('\n').Split('\n'))
        {
            if (line.StartsWith("# HELP ", StringComparison.Ordinal)) { family = line.Split(' ')[2]; continue; }
            if (line.StartsWith("# TYPE ", StringComparison.Ordinal)) { Assert.Equal(family, line.Split(' ')[2]); continue; }
            Assert.Matches(SampleLine(), line);
            Assert.StartsWith(family!, line, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Render_Sample_HasTheFacts()
    {
        var text = MetricsEndpoint.Render([Sample()], [("install", "succeeded", 2)], sweeps: 42, openConnections: 1);

        Assert.Contains("ovha_node_up{cluster=\"prod\",node=\"master-1\",role=\"master\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_node_up{cluster=\"prod\",node=\"media-1\",role=\"media\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_node_health{cluster=\"prod\",node=\"media-1\",role=\"media\",health=\"red\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_node_health{cluster=\"prod\",node=\"media-1\",role=\"media\",health=\"green\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_cluster_health{cluster=\"prod\",health=\"degraded\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_node_rtt_seconds{cluster=\"prod\",node=\"master-1\",role=\"master\"} 0.0125\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_port_open{cluster=\"prod\",node=\"master-1\",role=\"master\",port=\"7000\",protocol=\"tcp\",from=\"media-1\"} 0\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_jobs{kind=\"install\",state=\"succeeded\"} 2\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_status_sweeps_total 42\n", text, StringComparison.Ordinal);
        Assert.Contains("ovha_status_last_sweep_timestamp_seconds{cluster=\"prod\"} 1800000000\n", text, StringComparison.Ordinal);
        Assert.DoesNotContain("media-2", text, StringComparison.Ordinal); // not watched: no samples that would read as down
    }

    [Fact]
    public void Render_LabelValues_AreEscaped()
    {
        var text = MetricsEndpoint.Render([Sample("a\"b\\c\nd")], [], sweeps: 0, openConnections: 0);

        Assert.Contains("cluster=\"a\\\"b\\\\c\\nd\"", text, StringComparison.Ordinal);
    }

    [GeneratedRegex("""^[a-zA-Z_:][a-zA-Z0-9_:]*(\{([a-zA-Z_][a-zA-Z0-9_]*="([^"\\\n]|\\["\\n])*",?)*\})? -?[0-9.eE+-]+$""")]
    private static partial Regex SampleLine();
}
