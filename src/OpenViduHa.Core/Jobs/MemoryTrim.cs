using System.Diagnostics;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Jobs;

/// <summary>
/// Gives back to the system the memory a large job leaves behind. A job over hundreds of nodes holds their SSH sessions,
/// buffers, threads and logs for minutes; most of it reaches the GC's oldest generation, which a panel that then only
/// sweeps collects rarely, and in the background, without compacting. Measured with the watch benchmark (bench/README.md)
/// at 1,000 nodes: the panel that had just installed them stayed at ~525 MB resident and grew to ~580 MB over the next
/// sweeps, with 59 MB of it live objects; one full collection took it to 438 MB. So after such a job: one blocking,
/// compacting collection that decommits what it frees (<see cref="GCCollectionMode.Aggressive"/>), then glibc's
/// <c>malloc_trim</c> for the native side (OpenSSL's and the runtime's buffers): 530 -> 354 MB after that install, a
/// 0.17 s pause.
/// <para>
/// The same happens between sweeps when the GC holds far more than its heap (<see cref="IfSlack"/>): a full port check
/// of a large cluster, or the first sweep after an install, commits tens of megabytes the GC keeps for itself for long.
/// </para>
/// </summary>
public static class MemoryTrim
{
    /// <summary>At most one trim between sweeps in this time.</summary>
    public static readonly TimeSpan SlackInterval = TimeSpan.FromMinutes(1);

    /// <summary>How much more than its heap the GC may hold committed before a sweep round trims it.</summary>
    public const long SlackBytes = 64L << 20;

    private static long _lastTrim = Stopwatch.GetTimestamp();

    /// <summary>
    /// Trims (<see cref="Now"/>) when the GC holds <paramref name="slackBytes"/> more committed than its heap held at its
    /// last collection, and no trim ran within <paramref name="interval"/>; null when it did not. Each trim pauses the
    /// process (0.12–0.23 s at 1,000 nodes, measured), so at most one per interval; a small panel never holds that much.
    /// </summary>
    public static (long Before, long After, TimeSpan Took)? IfSlack(TimeSpan interval, long slackBytes)
    {
        if (Stopwatch.GetElapsedTime(Interlocked.Read(ref _lastTrim)) < interval) return null;
        var gc = GC.GetGCMemoryInfo();
        return gc.TotalCommittedBytes - gc.HeapSizeBytes < slackBytes ? null : Now();
    }

    /// <summary>Collects and trims now; the resident size before and after, and how long the process was paused.</summary>
    public static (long Before, long After, TimeSpan Took) Now()
    {
        Interlocked.Exchange(ref _lastTrim, Stopwatch.GetTimestamp());
        var before = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        MallocArenas.Trim(); // the native side: glibc, where there is one
        return (before, Environment.WorkingSet, clock.Elapsed);
    }
}
