using System.Globalization;

/// <summary>
/// Resident memory from <c>/proc/&lt;pid&gt;/status</c>, and its peak (VmHWM) reset: of this process, or of another one
/// (by pid: the panel's own process in the watch benchmark).
/// </summary>
internal static class ProcessMemory
{
    /// <summary>Resident set size now, bytes.</summary>
    public static long Rss => Field("self", "VmRSS:");

    /// <summary>Peak resident set size since start or since the last <see cref="ResetPeak"/>, bytes.</summary>
    public static long Peak => Field("self", "VmHWM:");

    /// <summary>Sets VmHWM to the current RSS (writing 5 to <c>/proc/self/clear_refs</c>, Linux 4.0+). False if refused.</summary>
    public static bool ResetPeak() => ResetPeak("self");

    /// <summary><see cref="Rss"/> of another process.</summary>
    public static long RssOf(int pid) => Field(pid.ToString(CultureInfo.InvariantCulture), "VmRSS:");

    /// <summary><see cref="Peak"/> of another process.</summary>
    public static long PeakOf(int pid) => Field(pid.ToString(CultureInfo.InvariantCulture), "VmHWM:");

    /// <summary><see cref="ResetPeak()"/> of another process (root, or its owner).</summary>
    public static bool ResetPeakOf(int pid) => ResetPeak(pid.ToString(CultureInfo.InvariantCulture));

    private static bool ResetPeak(string process)
    {
        try
        {
            File.WriteAllText($"/proc/{process}/clear_refs", "5");
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }
    }

    private static long Field(string process, string name)
    {
        foreach (var line in File.ReadLines($"/proc/{process}/status"))
        {
            if (!line.StartsWith(name, StringComparison.Ordinal)) continue;
            var kb = line[name.Length..].Trim().Split(' ')[0];
            return long.Parse(kb, CultureInfo.InvariantCulture) * 1024;
        }
        throw new InvalidOperationException($"/proc/{process}/status has no {name}");
    }
}

/// <summary>CPU seconds from <c>/proc/self/stat</c>: this process's, and its reaped children's (with their own children).</summary>
internal static class ProcessCpu
{
    internal const double TicksPerSecond = 100; // USER_HZ on Linux

    public static (double Self, double Children) Read()
    {
        var fields = StatFields();
        // After "pid (comm) ": state is field 3, so utime (14) is index 11, stime 12, cutime 13, cstime 14.
        double Ticks(int i) => long.Parse(fields[i], CultureInfo.InvariantCulture) / TicksPerSecond;
        return (Ticks(11) + Ticks(12), Ticks(13) + Ticks(14));
    }

    /// <summary>Of this process's CPU, the kernel's part (stime, seconds), and the minor page faults it took so far.</summary>
    public static (double System, long MinorFaults) Kernel()
    {
        var fields = StatFields();
        // minflt is field 10 (index 7), stime field 15 (index 12).
        return (long.Parse(fields[12], CultureInfo.InvariantCulture) / TicksPerSecond, long.Parse(fields[7], CultureInfo.InvariantCulture));
    }

    /// <summary>The fields of <c>/proc/self/stat</c> after "pid (comm) " (the command name may hold spaces).</summary>
    private static string[] StatFields()
    {
        var stat = File.ReadAllText("/proc/self/stat");
        return stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
    }
}

/// <summary>The whole machine's busy CPU seconds (every core, every process, the kernel's too) from <c>/proc/stat</c>.</summary>
internal static class MachineCpu
{
    public static double Busy()
    {
        // "cpu  user nice system idle iowait irq softirq steal guest guest_nice": busy = all but idle and iowait
        // (guest time is already counted in user).
        var fields = File.ReadLines("/proc/stat").First().Split(' ', StringSplitOptions.RemoveEmptyEntries).Skip(1).Take(8)
            .Select(f => long.Parse(f, CultureInfo.InvariantCulture)).ToArray();
        return (fields.Sum() - fields[3] - fields[4]) / ProcessCpu.TicksPerSecond;
    }
}

/// <summary>This process's threads from <c>/proc/self/task</c>: how many, and the JIT's background CPU.</summary>
internal static class ProcessThreads
{
    public static int Count => Directory.GetDirectories("/proc/self/task").Length;

    /// <summary>
    /// CPU seconds so far of the runtime's tiered-compilation worker (".NET Tiered Com…", it comes and goes; a worker
    /// that ended between two readings drops out, so differences are a lower bound): re-JIT of hot methods while
    /// the process is young, not the panel's own work.
    /// </summary>
    public static double JitCpu()
    {
        double total = 0;
        foreach (var task in Directory.GetDirectories("/proc/self/task"))
        {
            try
            {
                var stat = File.ReadAllText(Path.Combine(task, "stat"));
                var open = stat.IndexOf('(');
                var close = stat.LastIndexOf(')');
                if (!stat.AsSpan(open + 1, close - open - 1).StartsWith(".NET Tiered Com", StringComparison.Ordinal)) continue;
                var fields = stat[(close + 2)..].Split(' ');
                total += (long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture)) / 100.0;
            }
            catch (IOException)
            {
                // the thread ended while being read
            }
        }
        return total;
    }
}

/// <summary>
/// Samples the thread pool every 10 ms on a thread of its own (so a starved pool cannot hide it): the most worker
/// threads and the longest queue of work items seen. A queue that stays long means work waits for a thread.
/// </summary>
internal sealed class ThreadPoolMonitor : IDisposable
{
    private readonly Thread _thread;
    private volatile bool _stop;

    public ThreadPoolMonitor()
    {
        _thread = new Thread(() =>
        {
            while (!_stop)
            {
                MaxThreads = Math.Max(MaxThreads, ThreadPool.ThreadCount);
                MaxQueue = Math.Max(MaxQueue, ThreadPool.PendingWorkItemCount);
                Thread.Sleep(10);
            }
        }) { IsBackground = true, Name = "bench pool monitor" };
        _thread.Start();
    }

    public int MaxThreads { get; private set; }
    public long MaxQueue { get; private set; }

    public void Dispose()
    {
        _stop = true;
        _thread.Join();
    }
}
