using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;

/// <summary>
/// Issue 15's row: jobs and sweeps of several clusters on one panel instance against two instances sharing one real
/// PostgreSQL (panel processes as operators run them). Per instance: CPU seconds while the clusters install (one install
/// job each, queued at once), and CPU per minute of steady sweeping; and how the clusters were shared out (the jobs'
/// instance, the sweeps' leases as SSH connections).
/// </summary>
internal static class HaBench
{
    private static readonly string[] Modules = ["observability"];

    /// <summary>utime, stime, cutime, cstime: fields 14-17 of /proc/pid/stat (0-based 11-14 after the command's field 3).</summary>
    private static readonly int[] CpuFields = [11, 12, 13, 14];

    public static async Task<int> RunAsync(string[] args)
    {
        var clusters = int.Parse(InstallBench.Option(args, "--clusters", "3"), CultureInfo.InvariantCulture);
        var perCluster = int.Parse(InstallBench.Option(args, "--nodes", "24"), CultureInfo.InvariantCulture);
        var steady = TimeSpan.FromSeconds(double.Parse(InstallBench.Option(args, "--steady", "60"), CultureInfo.InvariantCulture));
        Console.WriteLine($"ha benchmark: {clusters} clusters x {perCluster} nodes (4 masters), {Environment.ProcessorCount} cores, steady sweeping {steady.TotalSeconds:0} s, Status:Interval 15 s");
        Console.WriteLine($"{"instances",9} {"at rest CPU s/min per instance",31} {"install wall s",14} {"install CPU s per instance",27} {"sweep CPU s/min per instance",29} {"clusters swept per instance",28}");
        foreach (var instances in new[] { 1, 2 })
        {
            var row = await OnceAsync(instances, clusters, perCluster, steady);
            Console.WriteLine($"{instances,9} {string.Join(" / ", row.RestCpuPerMinute.Select(c => c.ToString("0.00", CultureInfo.InvariantCulture))),31} {row.InstallWall,14:0.0} {string.Join(" / ", row.InstallCpu.Select(c => c.ToString("0.00", CultureInfo.InvariantCulture))),27} " +
                              $"{string.Join(" / ", row.SweepCpuPerMinute.Select(c => c.ToString("0.00", CultureInfo.InvariantCulture))),29} {string.Join(" / ", row.Swept),28}");
        }
        return 0;
    }

    private static async Task<(double[] RestCpuPerMinute, double InstallWall, double[] InstallCpu, double[] SweepCpuPerMinute, int[] Swept)> OnceAsync(int instances, int clusters, int perCluster, TimeSpan steady)
    {
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = clusters * perCluster, InstallerDelay = TimeSpan.FromSeconds(1) });
        var settings = new Dictionary<string, string?>
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Panel"] = database,
            ["Jobs:HealthPollInterval"] = "00:00:00.250",
            ["Serilog:MinimumLevel:Default"] = "Warning",
        };
        var panels = new List<PanelProcess>();
        try
        {
            for (var i = 0; i < instances; i++) panels.Add(await PanelProcess.StartAsync($"bench-{(char)('a' + i)}", settings));
            // At rest: no cluster yet, only what an instance does for being up (Hangfire's workers waiting for a job, the
            // heartbeat, lease rounds, the runtime's own timers), after 30 s to settle from the start.
            await Task.Delay(TimeSpan.FromSeconds(30));
            var rest = panels.Select(p => CpuSeconds(p.ProcessId)).ToArray();
            await Task.Delay(TimeSpan.FromSeconds(60));
            var restCpu = panels.Select((p, i) => CpuSeconds(p.ProcessId) - rest[i]).ToArray();
            var api = panels[0].Api();
            var ids = new List<int>();
            for (var c = 0; c < clusters; c++)
            {
                var part = lab.Nodes.Skip(c * perCluster).Take(perCluster).ToList();
                object Node(string role, LabNode n) => new
                {
                    role, privateIp = n.Address,
                    ssh = new { host = n.Address, port = n.Port, username = "root", privateKey = lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
                };
                var created = await api.PostAsJsonAsync("/api/clusters", new
                {
                    name = $"ha-bench-{c}", openviduVersion = "3.8.0", domainName = "openvidu.example.io", licenseKey = "BENCHLICENSE",
                    modules = Modules, installerBaseUrl = lab.InstallerHttpsBaseUrl,
                    nodes = part.Take(4).Select(n => Node("master", n)).Concat(part.Skip(4).Select(n => Node("media", n))).ToArray(),
                }, json);
                created.EnsureSuccessStatusCode();
                ids.Add((await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
            }

            var before = panels.Select(p => CpuSeconds(p.ProcessId)).ToArray();
            var clock = Stopwatch.StartNew();
            var jobs = new List<int>();
            foreach (var id in ids)
            {
                var started = await api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "install" }, json);
                started.EnsureSuccessStatusCode();
                jobs.Add((await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
            }
            foreach (var jobId in jobs)
            {
                while ((await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!["state"]!.GetValue<string>() is "queued" or "running") await Task.Delay(250);
            }
            var installWall = clock.Elapsed.TotalSeconds;
            var installCpu = panels.Select((p, i) => CpuSeconds(p.ProcessId) - before[i]).ToArray();

            // Let every instance settle (leases shared out, first sweeps with their connects), then measure steady sweeping.
            await Task.Delay(TimeSpan.FromSeconds(45));
            before = panels.Select(p => CpuSeconds(p.ProcessId)).ToArray();
            await Task.Delay(steady);
            var sweepCpu = panels.Select((p, i) => (CpuSeconds(p.ProcessId) - before[i]) * 60 / steady.TotalSeconds).ToArray();
            var peers = lab.Nodes.Select(n => $"{n.Address}:{n.Port}").ToHashSet();
            var swept = panels.Select(p => p.ConnectionsTo(peers) / perCluster).ToArray();
            return (restCpu, installWall, installCpu, sweepCpu, swept);
        }
        finally
        {
            foreach (var panel in panels) await panel.DisposeAsync();
        }
    }

    /// <summary>User and system CPU of a process (and its reaped children), from <c>/proc/&lt;pid&gt;/stat</c>.</summary>
    private static double CpuSeconds(int pid)
    {
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        var ticks = CpuFields.Sum(i => long.Parse(fields[i], CultureInfo.InvariantCulture));
        return ticks / 100.0;
    }
}
