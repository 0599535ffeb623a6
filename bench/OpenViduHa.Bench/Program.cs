using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Runtime.Versioning;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;

[assembly: SupportedOSPlatform("linux")]

// Install benchmark (issue: install over SSH). For each size: a lab of real sshd nodes whose stand-in installer takes
// T seconds, the real panel (Hangfire, SQLite, SSH.NET), one install job. Prints wall time and the overhead over the
// ideal: the slowest master's installer run plus the slowest media node's, as seen from the panel's own log.
internal static class InstallBench
{
    private static async Task<int> RunAgainWithArenaCapAsync(string[] args)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
        // Started as `dotnet OpenViduHa.Bench.dll …` rather than through its own executable: the dll comes first.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet") start.ArgumentList.Add(Environment.GetCommandLineArgs()[0]);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        start.Environment["MALLOC_ARENA_MAX"] = OpenViduHa.Core.Ssh.MallocArenas.Max.ToString(CultureInfo.InvariantCulture);
        using var child = Process.Start(start)!;
        await child.WaitForExitAsync();
        return child.ExitCode;
    }

    public static async Task<int> Main(string[] args)
    {
        // The panel's image runs it with MALLOC_ARENA_MAX=2 (glibc reads it before any thread starts); the panel in this
        // process runs under the same setting: without it, the bench starts itself again with it.
        if (Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") is null && Environment.GetEnvironmentVariable("BENCH_DEFAULT_ARENAS") is null)
            return await RunAgainWithArenaCapAsync(args);
        if (Environment.GetEnvironmentVariable("BENCH_MINTHREADS") is { } min) ThreadPool.SetMinThreads(int.Parse(min), int.Parse(min));
        var args2 = args.Length == 0 ? ["install"] : args;
        if (args2[0] == "status") return await StatusBench.RunAsync(args2);
        if (args2[0] == "ha") return await HaBench.RunAsync(args2);
        if (args2[0] == "watch") return await WatchBench.RunAsync(args2);
        if (args2[0] != "install")
        {
            Console.Error.WriteLine("usage: dotnet run -c Release --project bench/OpenViduHa.Bench -- install [--delay SECONDS] [--sizes 2,20] [--runs N]");
            Console.Error.WriteLine("       dotnet run -c Release --project bench/OpenViduHa.Bench -- status [--sizes 6,50,100] [--runs 5] [--cold-runs 3] [--ansible-runs 2]");
            Console.Error.WriteLine("       dotnet run -c Release --project bench/OpenViduHa.Bench -- ha [--clusters 3] [--nodes 24] [--steady 60]");
            Console.Error.WriteLine("       dotnet run -c Release --project bench/OpenViduHa.Bench -- watch [--nodes 1000] [--minutes 6] [--restart-minutes 2]");
            return 2;
        }
        var delay = TimeSpan.FromSeconds(double.Parse(Option(args2, "--delay", "3"), CultureInfo.InvariantCulture));
        var sizes = Option(args2, "--sizes", "2,20").Split(',').Select(int.Parse).ToArray();
        var runs = int.Parse(Option(args2, "--runs", "3"), CultureInfo.InvariantCulture);

        Console.WriteLine($"install benchmark: stand-in installer T = {delay.TotalSeconds:0.##} s, {Environment.ProcessorCount} cores, {runs} runs per size");
        Console.WriteLine($"{"nodes",6} {"run",4} {"wall s",8} {"ideal s",8} {"overhead s",11} {"job s",7}");
        foreach (var media in sizes)
        {
            for (var run = 1; run <= runs; run++)
            {
                var result = await InstallOnceAsync(4, media, delay, run);
                Console.WriteLine($"{4 + media,6} {run,4} {result.Wall,8:0.00} {result.Ideal,8:0.00} {result.Wall - result.Ideal,11:0.00} {result.Job,7:0.00}");
            }
        }
        return 0;
    }

    internal static string Option(string[] args2, string name, string fallback)
    {
        var i = Array.IndexOf(args2, name);
        return i >= 0 && i + 1 < args2.Length ? args2[i + 1] : fallback;
    }

    static async Task<(double Wall, double Ideal, double Job)> InstallOnceAsync(int masters, int media, TimeSpan delay, int run)
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = masters + media, InstallerDelay = delay });
        using var panel = new PanelFactory
        {
            Settings = new() { ["Jobs:HealthPollInterval"] = "00:00:00.250", ["Jobs:MaxParallelNodes"] = "64" },
            LogLevel = "Warning",
        };
        var api = panel.ApiClient();
        object Node(string role, LabNode n) => new
        {
            role, privateIp = n.Address,
            ssh = new { host = n.Address, port = n.Port, username = "root", privateKey = lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
        };
        var body = new
        {
            name = $"bench-{masters + media}-{run}", openviduVersion = "3.8.0", domainName = "openvidu.example.io", licenseKey = "BENCHLICENSE",
            modules = new[] { "observability" }, installerBaseUrl = lab.InstallerHttpsBaseUrl,
            nodes = lab.Nodes.Take(masters).Select(n => Node("master", n)).Concat(lab.Nodes.Skip(masters).Select(n => Node("media", n))).ToArray(),
        };
        var created = await api.PostAsJsonAsync("/api/clusters", body, json);
        created.EnsureSuccessStatusCode();
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();

        var clock = Stopwatch.StartNew();
        var started = await api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "install" }, json);
        started.EnsureSuccessStatusCode();
        var jobId = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        JsonObject job;
        while (true)
        {
            job = (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;
            if (job["state"]!.GetValue<string>() is not ("queued" or "running")) break;
            await Task.Delay(20);
        }
        var wall = clock.Elapsed.TotalSeconds;
        if (job["state"]!.GetValue<string>() != "succeeded") throw new InvalidOperationException($"install did not succeed: {job.ToJsonString()}");

        // The ideal: each node's installer run as the node itself timed it (start to exit), slowest master plus slowest media.
        var runs = lab.Nodes.Select((n, i) => (Master: i < masters, Run: n.InstallerRunTimes.Single())).ToList();
        var ideal = runs.Where(r => r.Master).Max(r => (r.Run.Ended - r.Run.Started).TotalSeconds)
                  + runs.Where(r => !r.Master).Max(r => (r.Run.Ended - r.Run.Started).TotalSeconds);
        var log = (await api.GetFromJsonAsync<JsonArray>($"/api/jobs/{jobId}/log?after=0"))!;
        var jobSeconds = (job["finishedAt"]!.GetValue<DateTimeOffset>() - job["startedAt"]!.GetValue<DateTimeOffset>()).TotalSeconds;
        if (Environment.GetEnvironmentVariable("BENCH_TIMELINE") == "1")
        {
            // Where the time goes: every log line, seconds after the job started.
            var t0 = job["startedAt"]!.GetValue<DateTimeOffset>();
            foreach (var (node, i) in lab.Nodes.Select((n, i) => (n, i)))
            {
                var r = node.InstallerRunTimes.Single();
                Console.WriteLine($"  node {i + 1,2} installer {(r.Started - t0).TotalSeconds,6:0.00} .. {(r.Ended - t0).TotalSeconds,6:0.00}");
            }
            foreach (var line in log.Where(l => l!["text"]!.GetValue<string>().StartsWith("Healthy", StringComparison.Ordinal) || l["text"]!.GetValue<string>().StartsWith("Running", StringComparison.Ordinal)))
                Console.WriteLine($"  {(line!["at"]!.GetValue<DateTimeOffset>() - t0).TotalSeconds,7:0.000} {line["node"]?.GetValue<string>(),-9} {line["text"]!.GetValue<string>()}");
        }
        return (wall, ideal, jobSeconds);
    }
}
