using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Core.Jobs;

/// <summary><c>Jobs</c>: timeouts of the SSH work jobs do.</summary>
public sealed class JobOptions
{
    public const string Section = "Jobs";

    [Range(typeof(TimeSpan), "00:00:01", "00:10:00")]
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>One node's installer run (it pulls images: minutes on a real node).</summary>
    [Range(typeof(TimeSpan), "00:00:05", "02:00:00")]
    public TimeSpan InstallTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>Short commands: service control, reading files, preflight probes.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan CommandTimeout { get; set; } = TimeSpan.FromMinutes(2);

    /// <summary>How long a started node may take to answer its health endpoint (cluster formation is slow).</summary>
    [Range(typeof(TimeSpan), "00:00:01", "01:00:00")]
    public TimeSpan HealthTimeout { get; set; } = TimeSpan.FromMinutes(5);

    [Range(typeof(TimeSpan), "00:00:00.050", "00:01:00")]
    public TimeSpan HealthPollInterval { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>Prefer the sntrup761 post-quantum key exchange where servers offer it (costs more CPU per connection).</summary>
    public bool PreferPostQuantumKeyExchange { get; set; }

    /// <summary>
    /// How often each Hangfire worker looks for a queued job. SQLite: the longest a queued job waits to start (default
    /// 1 s); every worker queries the file at this rate for as long as the panel runs, jobs or none. PostgreSQL: a queued
    /// job wakes the workers of every instance at once (<c>NOTIFY</c>), so this is only the safety net for a missed
    /// notification (default 15 s).
    /// </summary>
    [Range(typeof(TimeSpan), "00:00:00.010", "00:01:00")]
    public TimeSpan? QueuePollInterval { get; set; }

    /// <summary><see cref="QueuePollInterval"/> as set, or the default for the storage: 1 s polled (SQLite), 15 s behind notifications (PostgreSQL).</summary>
    public TimeSpan QueuePollIntervalFor(bool notified) => QueuePollInterval ?? (notified ? TimeSpan.FromSeconds(15) : TimeSpan.FromSeconds(1));

    /// <summary>
    /// After a job over at least this many nodes, the panel collects its memory and gives it back to the system
    /// (<see cref="MemoryTrim"/>: a pause of ~0.1–0.2 s at 1,000 nodes, worth it only after large jobs). 0: never.
    /// </summary>
    [Range(0, int.MaxValue)]
    public int TrimMemoryAfterNodes { get; set; } = 100;

    /// <summary>Free disk an upgrade wants under /opt/openvidu on every node before it stops anything (the new images).</summary>
    [Range(0, 10_000)]
    public int UpgradeMinFreeDiskGiB { get; set; } = 10;

    /// <summary>remove-node without a drainTimeout: how long a media node's rooms may take to end before it stops anyway.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "1.00:00:00")]
    public TimeSpan DrainTimeout { get; set; } = TimeSpan.FromMinutes(30);

    /// <summary>How often a draining media node's rooms are counted (and the log told when the count changes).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan DrainPollInterval { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The port of the media server's Prometheus metrics (LiveKit's <c>prometheus_port</c>: 6789, what OpenVidu's guide sets
    /// in the media nodes' config/livekit.yaml for the observability module), asked on the node itself for
    /// <c>livekit_room_total</c> while it drains. Unreachable: the rooms are not counted, the drain goes on.
    /// </summary>
    [Range(1, 65535)]
    public int MediaMetricsPort { get; set; } = 6789;

    /// <summary>Most nodes worked on at once.</summary>
    [Range(1, 512)]
    public int MaxParallelNodes { get; set; } = 32;
}
