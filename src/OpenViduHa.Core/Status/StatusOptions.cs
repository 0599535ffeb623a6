using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Core.Status;

/// <summary><c>Status</c>: how the collector watches installed clusters.</summary>
public sealed class StatusOptions
{
    public const string Section = "Status";

    /// <summary>Sweep every installed cluster on this schedule (off: only on demand).</summary>
    public bool Enabled { get; set; } = true;

    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan Interval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>
    /// The port matrix (node-to-node checks, the panel's TCP connects) runs again after this; in between, a sweep checks
    /// only what failed, what is new, and everything after a changing job or on demand (<see cref="PortResults"/>).
    /// 0: every sweep.
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00", "1.00:00:00")]
    public TimeSpan PortCheckInterval { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// Nodes one node checks toward in one sweep at most (each a short shell on that node): a master of a 1,000-node
    /// cluster spreads its checks of every media node over several sweeps instead of starting ~1,000 shells at once.
    /// A check on demand (<c>ports=true</c>) runs them all.
    /// </summary>
    [Range(1, 100000)]
    public int MaxPortTargetsPerSweep { get; set; } = 64;

    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The probe command on a node, including its port checks toward the other nodes.</summary>
    [Range(typeof(TimeSpan), "00:00:00.500", "00:05:00")]
    public TimeSpan ProbeTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>One port check: a TCP connect or a health request (OpenVidu's own templates give health 5 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan PortTimeout { get; set; } = TimeSpan.FromSeconds(3);

    /// <summary>Nodes probed at once (each a command on a kept connection: mostly waiting).</summary>
    [Range(1, 1024)]
    public int MaxParallelNodes { get; set; } = 128;

    /// <summary>New SSH handshakes at once (CPU bound on the panel).</summary>
    [Range(1, 512)]
    public int MaxParallelConnects { get; set; } = 16;

    /// <summary>After a failed connection, the next attempt waits 1 s, then doubles up to this.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "01:00:00")]
    public TimeSpan MaxReconnectBackoff { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>Recent state changes kept per node (older ones are deleted).</summary>
    [Range(1, 10000)]
    public int HistoryPerNode { get; set; } = 50;

    /// <summary>A node whose disk is fuller than this is amber.</summary>
    [Range(1, 100)]
    public int DiskWarningPercent { get; set; } = 90;

    /// <summary>A node whose memory is more used than this is amber.</summary>
    [Range(1, 100)]
    public int MemoryWarningPercent { get; set; } = 95;
}
