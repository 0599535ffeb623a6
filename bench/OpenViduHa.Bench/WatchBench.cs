using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;

/// <summary>
/// Issue 10's memory row, in the shape the panel runs in production: one panel process of its own (not hosted in the
/// bench), its scheduled sweeps on (<c>Status:Interval</c> and <c>Status:PortCheckInterval</c> at their defaults), one
/// cluster of N nodes installed on the lab, its status read every 15 s as an open status page or a script would. The
/// process's resident memory sampled every second, its peak (VmHWM, reset after the install), then the same after a
/// restart on the same data (a new process's first sweep: new connections, a young runtime).
/// </summary>
internal static class WatchBench
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private sealed record StatusAnswer(DateTimeOffset? CheckedAt, double SweepMs, int PortChecksRun, List<NodeAnswer> Nodes);

    private sealed record NodeAnswer(bool Reachable, string Health);

    private sealed record Phase(string Name, double Minutes, long RssMedian, long RssMax, long Peak, int Threads, int Sweeps, double SweepMsMedian, string Nodes);

    public static async Task<int> RunAsync(string[] args)
    {
        var size = int.Parse(InstallBench.Option(args, "--nodes", "1000"), CultureInfo.InvariantCulture);
        var minutes = double.Parse(InstallBench.Option(args, "--minutes", "6"), CultureInfo.InvariantCulture);
        var afterRestart = double.Parse(InstallBench.Option(args, "--restart-minutes", "2"), CultureInfo.InvariantCulture);
        var arenas = Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX");
        Console.WriteLine($"watch benchmark: {size} nodes (4 masters), one panel process, sweeps every 15 s (defaults), status read every 15 s, " +
                          $"{minutes:0.#} min watched, {afterRestart:0.#} min after a restart, MALLOC_ARENA_MAX={arenas ?? "unset"}, {Environment.ProcessorCount} cores");

        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = size, InstallerDelay = TimeSpan.Zero });
        var settings = new Dictionary<string, string?>
        {
            ["Clusters:MaxNodes"] = size.ToString(CultureInfo.InvariantCulture),
            ["Jobs:MaxParallelNodes"] = "64",
            ["Jobs:HealthPollInterval"] = "00:00:00.250",
            ["Serilog:MinimumLevel:Default"] = "Warning",
            // Their memory trims (after a large job, between sweeps), printed at the end.
            ["Serilog:MinimumLevel:Override:OpenViduHa.Core.Jobs.JobRunner"] = "Information",
            ["Serilog:MinimumLevel:Override:OpenViduHa.Core.Status.StatusService"] = "Debug",
        };
        // The image's setting reaches the panel's process as it would in the container (glibc reads it at start).
        if (arenas is not null) settings["MALLOC_ARENA_MAX"] = arenas;
        // Runtime knobs to try (--env DOTNET_gcConcurrent=0,…): environment variables of the panel's process.
        foreach (var pair in InstallBench.Option(args, "--env", "").Split(',', StringSplitOptions.RemoveEmptyEntries))
        {
            var (key, value) = (pair[..pair.IndexOf('=', StringComparison.Ordinal)], pair[(pair.IndexOf('=', StringComparison.Ordinal) + 1)..]);
            settings[key] = value;
            Console.WriteLine($"  panel environment: {key}={value}");
        }

        // The data outlives the first process (its own temporary folder goes with it): the restart reads it back.
        var data = Directory.CreateTempSubdirectory("ovha-watch-").FullName;
        settings["Storage:DataDirectory"] = data;
        var phases = new List<Phase>();
        var trims = new List<string>();
        PanelProcess? panel = null;
        try
        {
            panel = await PanelProcess.StartAsync("watch", settings);
            var api = panel.Api();
            var clusterId = await StatusBench.CreateClusterAsync(api, lab, size);
            await StatusBench.InstallAsync(api, clusterId);
            Console.WriteLine($"  installed: resident {Mb(ProcessMemory.RssOf(panel.ProcessId))} MB, peak so far {Mb(ProcessMemory.PeakOf(panel.ProcessId))} MB");
            phases.Add(await WatchAsync("watched", panel, clusterId, TimeSpan.FromMinutes(minutes), checkPortsAtEnd: true));

            // Stopped as a service manager stops it (the port answers are saved), started again on the same data.
            await panel.StopAsync();
            trims.AddRange(Trims(panel));
            await panel.DisposeAsync();
            var clock = Stopwatch.StartNew();
            panel = await PanelProcess.StartAsync("watch", settings);
            var answering = clock.Elapsed.TotalSeconds;
            var first = await FirstSweepAsync(panel.Api(), clusterId, size);
            Console.WriteLine($"  restarted: /healthz answered {answering:0.0} s after the start, a sweep had reached every node {clock.Elapsed.TotalSeconds:0.0} s after it " +
                              $"(that sweep took {first / 1000:0.0} s)");
            phases.Add(await WatchAsync("after a restart", panel, clusterId, TimeSpan.FromMinutes(afterRestart), checkPortsAtEnd: false, resetPeak: false));
        }
        finally
        {
            if (panel is not null)
            {
                trims.AddRange(Trims(panel));
                await panel.DisposeAsync();
            }
            Directory.Delete(data, recursive: true);
        }

        Console.WriteLine();
        foreach (var line in trims) Console.WriteLine($"  panel: {line}");
        Console.WriteLine($"| phase | minutes | resident MB, median / max of 1 s samples | peak MB (VmHWM) | threads | sweeps | sweep s, median | nodes reachable / green |");
        Console.WriteLine("|---|---|---|---|---|---|---|---|");
        foreach (var p in phases)
            Console.WriteLine($"| {p.Name} | {p.Minutes:0.#} | {Mb(p.RssMedian)} / {Mb(p.RssMax)} | {Mb(p.Peak)} | {p.Threads} | {p.Sweeps} | {p.SweepMsMedian / 1000:0.00} | {p.Nodes} |");
        return 0;
    }

    /// <summary>Waits for the first status whose sweep reached every node; answers that sweep's own duration, ms.</summary>
    private static async Task<double> FirstSweepAsync(HttpClient api, int clusterId, int size)
    {
        var clock = Stopwatch.StartNew();
        DateTimeOffset? seen = null;
        while (clock.Elapsed < TimeSpan.FromMinutes(5))
        {
            // Before the first scheduled sweep a GET sweeps itself; after it, it reads the scheduled sweep's picture.
            var status = await ReadAsync(api, clusterId);
            if (status?.CheckedAt is { } at && at != seen)
            {
                seen = at;
                var reachable = status.Nodes.Count(n => n.Reachable);
                Console.WriteLine($"    {clock.Elapsed.TotalSeconds,5:0.0} s: a sweep of {status.SweepMs / 1000:0.0} s reached {reachable} nodes, {status.Nodes.Count(n => n.Health == "green")} green");
                if (reachable == size) return status.SweepMs;
            }
            await Task.Delay(250);
        }
        throw new InvalidMeasurementException("no sweep reached every node within 5 min of the restart");
    }

    private static async Task<Phase> WatchAsync(string name, PanelProcess panel, int clusterId, TimeSpan length, bool checkPortsAtEnd, bool resetPeak = true)
    {
        var api = panel.Api();
        var pid = panel.ProcessId;
        if (resetPeak && !ProcessMemory.ResetPeakOf(pid)) throw new InvalidMeasurementException($"the peak of process {pid} cannot be reset (root?)");
        var samples = new List<long>();
        var sweeps = new Dictionary<DateTimeOffset, double>();
        StatusAnswer? last = null;
        var clock = Stopwatch.StartNew();
        var nextRead = TimeSpan.Zero;
        while (clock.Elapsed < length)
        {
            samples.Add(ProcessMemory.RssOf(pid));
            if (clock.Elapsed >= nextRead)
            {
                nextRead += TimeSpan.FromSeconds(15);
                last = await ReadAsync(api, clusterId) ?? last;
                if (last?.CheckedAt is { } at) sweeps[at] = last.SweepMs;
                Console.WriteLine($"    {clock.Elapsed.TotalSeconds,5:0} s: resident {Mb(samples[^1])} MB, peak {Mb(ProcessMemory.PeakOf(pid))} MB, last sweep {last?.SweepMs / 1000:0.0} s");
            }
            await Task.Delay(1000);
        }
        if (checkPortsAtEnd)
        {
            // An operator's "check ports now": every port check of every node in one sweep.
            using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/clusters/{clusterId}/status/refresh?ports=true");
            using var response = await api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
            response.EnsureSuccessStatusCode();
            last = await JsonSerializer.DeserializeAsync<StatusAnswer>(await response.Content.ReadAsStreamAsync(), Json);
            samples.Add(ProcessMemory.RssOf(pid));
            Console.WriteLine($"  {name}: check ports now ran {last!.PortChecksRun} port checks in {last.SweepMs / 1000:0.0} s");
        }
        samples.Sort();
        var threads = Directory.GetDirectories($"/proc/{pid}/task").Length;
        var nodes = last is null ? "-" : $"{last.Nodes.Count(n => n.Reachable)} / {last.Nodes.Count(n => n.Health == "green")}";
        var durations = sweeps.Values.Order().ToList();
        var phase = new Phase(name, clock.Elapsed.TotalMinutes, samples[samples.Count / 2], samples[^1], ProcessMemory.PeakOf(pid), threads, sweeps.Count,
            durations.Count == 0 ? double.NaN : durations[durations.Count / 2], nodes);
        Console.WriteLine($"  {name}: resident median {Mb(phase.RssMedian)} MB, max {Mb(phase.RssMax)} MB, peak {Mb(phase.Peak)} MB, {threads} threads, {sweeps.Count} sweeps seen, nodes reachable / green {nodes}");
        return phase;
    }

    private static async Task<StatusAnswer?> ReadAsync(HttpClient api, int clusterId)
    {
        using var response = await api.GetAsync($"/api/clusters/{clusterId}/status", HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode) return null;
        return await JsonSerializer.DeserializeAsync<StatusAnswer>(await response.Content.ReadAsStreamAsync(), Json);
    }

    private static IEnumerable<string> Trims(PanelProcess panel) =>
        panel.Output.Split('\n').Where(l => l.Contains("memory collected", StringComparison.OrdinalIgnoreCase) || l.Contains("Memory the GC held", StringComparison.Ordinal));

    private static string Mb(long bytes) => (bytes / 1e6).ToString("0", CultureInfo.InvariantCulture);
}
