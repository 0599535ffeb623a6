using System.Diagnostics;
using System.Globalization;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Status;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;

/// <summary>
/// Status sweep benchmark (issue 4). Per size: a lab of N real sshd nodes (4 masters, N-4 media), the real panel in
/// process installing them, then the same facts gathered three ways on the same lab: the panel
/// (<c>POST /api/clusters/{id}/status/refresh</c>, cold = a restarted panel opening new SSH connections, warm = kept
/// ones), OpenSSH with warm multiplexed connections (the floor) and Ansible. Prints numbers; fails only when a
/// measurement is invalid (a node unreachable, a probe incomplete).
/// </summary>
internal static class StatusBench
{
    private const int Masters = 4;
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    private static readonly Dictionary<string, string?> PanelSettings = new()
    {
        ["Status:Enabled"] = "false", // no background sweeps: only the refreshes measured here
        ["Clusters:MaxNodes"] = "1000", // the largest size measured (the default allows 500)
        ["Status:MaxParallelNodes"] = "128",
        ["Jobs:MaxParallelNodes"] = "64",
        ["Jobs:HealthPollInterval"] = "00:00:00.250",
    };

    // Not-healthy verdicts are the lab's business (the probe ran either way): said once per size.
    private static readonly HashSet<int> _healthNoted = [];

    private sealed record SweepSample(
        double Seconds, double SweepMs, double Cpu, double JitCpu, int Threads, int PoolThreads, long PoolQueue, int CheckTimeouts, int NotGreen,
        long BaseRss, long Peak, long Allocated, long GcHeap, long Connects, int PortChecksRun)
    {
        /// <summary>Of <see cref="Cpu"/>, the kernel's part, and the minor page faults the process took during the sweep.</summary>
        public (double System, long MinorFaults) Kernel { get; init; }

        /// <summary>Busy CPU seconds of the whole machine during the sweep: the panel's and the lab's (sshd, shells, probes).</summary>
        public double MachineCpu { get; init; }

        /// <summary>The masters' own cost during this sweep (CPU seconds, processes started), per master.</summary>
        public IReadOnlyList<NodeCost.Sample> Masters { get; init; } = [];
    }

    /// <summary>A comparison side's round: wall seconds and the CPU seconds of the processes it started (ssh clients, ansible and its forks).</summary>
    private sealed record ToolSample(double Seconds, double Cpu);

    /// <param name="Warm">Warm sweeps as scheduled: the port matrix on its tier (only due checks: none on a healthy cluster between full checks).</param>
    /// <param name="WarmAllPorts">Warm sweeps with <c>?ports=true</c>: every port check, every sweep (the sweep before the tier, issue 10).</param>
    /// <param name="Floor">OpenSSH running the full probe (every port check): the like-for-like floor of <paramref name="WarmAllPorts"/>.</param>
    /// <param name="FloorLight">OpenSSH running the probe without port checks: the floor of <paramref name="Warm"/>.</param>
    /// <param name="FloorCold">The same on a new connection per node every round: the floor of <paramref name="Cold"/>.</param>
    /// <param name="ColdAllPorts">The first sweep after a start with <c>?ports=true</c>: like for like with <paramref name="WarmAllPorts"/>.</param>
    /// <param name="WarmAlone">The last 4 warm-ups (tiered and all ports in turn), before the bench's own OpenSSH rounds ran in
    /// this process: the panel's memory alone. The measured warm sweeps come between OpenSSH rounds, whose 1,000 processes
    /// a round leave the bench's own garbage and grown heap in the same process.</param>
    private sealed record SizeResult(
        int Nodes, string LoadAtStart, string LoadAtEnd,
        List<SweepSample> Cold, List<SweepSample> ColdAllPorts, List<SweepSample> WarmAlone, List<SweepSample> Warm, List<SweepSample> WarmAllPorts, List<ToolSample> Floor, List<ToolSample> FloorLight,
        List<ToolSample> FloorCold, List<ToolSample> Ansible);

    /// <summary><c>--profile</c>: after the warm-ups, only warm panel sweeps (<c>--runs</c> of them), for a profiler attached from outside.</summary>
    private static bool Profile;

    /// <summary><c>--alloc-profile</c>: like <c>--profile</c>, tiered sweeps only, and where their allocations go (<see cref="AllocationSampler"/>).</summary>
    private static bool AllocProfile;

    public static async Task<int> RunAsync(string[] args)
    {
        Profile = args.Contains("--profile");
        AllocProfile = args.Contains("--alloc-profile");
        var sizes = InstallBench.Option(args, "--sizes", "6,50,100").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture)).ToArray();
        var runs = int.Parse(InstallBench.Option(args, "--runs", "5"), CultureInfo.InvariantCulture);
        var coldRuns = int.Parse(InstallBench.Option(args, "--cold-runs", "3"), CultureInfo.InvariantCulture);
        var warmups = int.Parse(InstallBench.Option(args, "--warmups", "3"), CultureInfo.InvariantCulture);
        var maxWarmups = int.Parse(InstallBench.Option(args, "--max-warmups", "200"), CultureInfo.InvariantCulture);
        var ansibleRuns = int.Parse(InstallBench.Option(args, "--ansible-runs", "2"), CultureInfo.InvariantCulture);
        if (sizes.Any(s => s <= Masters) || runs < 1 || coldRuns < 1 || ansibleRuns < 0 || warmups < 1)
        {
            Console.Error.WriteLine($"status: sizes must be > {Masters}, runs, cold runs and warm-ups >= 1");
            return 2;
        }
        if (ansibleRuns > 0) AnsibleRunner.CheckInstalled();

        Console.WriteLine($"status benchmark: {Environment.ProcessorCount} cores, sizes {string.Join(", ", sizes)} ({Masters} masters + the rest media), " +
                          $"at least {warmups} warm-up sweeps (not measured; until the JIT settles, at most {maxWarmups}), {coldRuns} cold and {runs} warm panel sweeps, {runs} openssh rounds, {ansibleRuns} ansible runs per size");
        Console.WriteLine("panel: in process (PanelFactory: Kestrel-less TestServer, SQLite, SSH.NET), driven by POST /api/clusters/{id}/status/refresh with the bearer token;");
        Console.WriteLine("       " + string.Join(", ", PanelSettings.Select(s => $"{s.Key}={s.Value}")) + ", other Status settings default");
        Console.WriteLine("lab: real sshd per node (own namespaces, 127.x loopback); systemctl/docker are the lab's stand-ins; all on the same cores as the panel");
        Console.WriteLine("all three sides run the same per-node probe script (StatusProbe.Script, node-to-node port checks included); the panel also does,");
        Console.WriteLine("from its own process, an HTTP health request and TCP connects per node and a load-balancer check, which the other two do not");
        Console.WriteLine();

        var results = new List<SizeResult>();
        foreach (var size in sizes)
        {
            var result = await MeasureAsync(size, runs, coldRuns, ansibleRuns, warmups, maxWarmups);
            Print(result);
            results.Add(result);
        }
        if (results.Count > 1) PrintSummary(results);
        return 0;
    }

    private static async Task<SizeResult> MeasureAsync(int size, int runs, int coldRuns, int ansibleRuns, int warmups, int maxWarmups)
    {
        var loadAtStart = LoadAverage();
        Console.WriteLine($"[{size} nodes] starting the lab (load average {loadAtStart})");
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = size, InstallerDelay = TimeSpan.Zero });
        var work = Directory.CreateTempSubdirectory("ovha-bench-status-");
        var panel = NewPanel(dataDirectory: null);
        OpenSshFloor? openssh = null;
        OpenSshFloor? opensshLight = null;
        NodeCost? masters = null;
        try
        {
            var api = panel.ApiClient();
            var clusterId = await CreateClusterAsync(api, lab, size);
            var install = Stopwatch.StartNew();
            await InstallAsync(api, clusterId);
            masters = new NodeCost(lab.Nodes.Take(Masters), work.FullName);
            Console.WriteLine($"[{size} nodes] lab {lab.Nodes[0].Address}..{lab.Nodes[^1].Address} up in {lab.StartupTime.TotalSeconds:0.0} s, installed in {install.Elapsed.TotalSeconds:0.0} s");
            var first = await SweepAsync(panel, api, clusterId, size, allPorts: false);
            Console.WriteLine($"  first sweep after the install: {first.Seconds:0.000} s, {first.Connects} connects, not measured");

            // Cold sweeps: as scheduled (the port checks due), then with every port check (like for like with a warm
            // all-ports sweep), in turn, each on a panel just started.
            var cold = new List<SweepSample>();
            var coldAll = new List<SweepSample>();
            for (var i = 0; i < 2 * coldRuns; i++)
            {
                panel = await RestartAsync(panel);
                api = panel.ApiClient();
                (await api.GetAsync($"/api/clusters/{clusterId}")).EnsureSuccessStatusCode(); // host fully started before the clock runs
                var allPorts = i % 2 == 1;
                (allPorts ? coldAll : cold).Add(await SweepAsync(panel, api, clusterId, size, allPorts));
            }

            // The last panel, started for the last cold sweep, is young: its runtime still compiles hot code again (tiered
            // JIT with dynamic PGO) for dozens of sweeps. Warm sweeps are measured once it has settled, as a panel running
            // for more than a few minutes has: at least --warmups sweeps, then until the JIT worker used at most 10 ms in
            // each of the last 4 (at most --max-warmups).
            var settled = 0;
            var warmedUp = 0;
            var alone = new Queue<SweepSample>();
            for (; warmedUp < maxWarmups && (warmedUp < warmups || settled < 4); warmedUp++)
            {
                var w = await SweepAsync(panel, api, clusterId, size, allPorts: warmedUp % 2 == 1);
                alone.Enqueue(w);
                if (alone.Count > 4) alone.Dequeue();
                settled = w.JitCpu <= 0.010 ? settled + 1 : 0;
                if (warmedUp < 3 || warmedUp % 10 == 9)
                    Console.WriteLine($"  warm-up {warmedUp + 1}: {w.Seconds:0.000} s, {w.Connects} connects, ctl CPU {w.Cpu:0.00} s (JIT {w.JitCpu:0.00}), " +
                                      $"pool threads max {w.PoolThreads}, queue max {w.PoolQueue}, panel checks timed out on {w.CheckTimeouts} nodes");
            }
            Console.WriteLine($"  {warmedUp} warm-up sweeps, {(settled >= 4 ? "JIT settled" : "JIT NOT settled: warm numbers include recompilation")}");
            if (Profile || AllocProfile)
            {
                // For a profiler attached from outside (perf, dotnet-trace): warm panel sweeps only, nothing else in the process.
                // With --alloc-profile, tiered sweeps only, their allocations sampled by type from inside.
                using var sampler = AllocProfile ? new AllocationSampler() : null;
                sampler?.Start();
                for (var i = 0; i < runs; i++)
                {
                    var allPorts = !AllocProfile && i % 2 == 1;
                    var w = await SweepAsync(panel, api, clusterId, size, allPorts);
                    Console.WriteLine($"  profile sweep {i + 1} ({(allPorts ? "all ports" : "tiered")}): {w.Seconds:0.000} s, ctl CPU {w.Cpu:0.00} s (JIT {w.JitCpu:0.00}), alloc {w.Allocated / 1e6:0.0} MB");
                }
                sampler?.Stop();
                sampler?.Print(runs);
                PrintMemory();
                Environment.Exit(0);
            }
            var nodes = await ProbeNodesAsync(panel, clusterId);
            if (nodes.Count != size) throw new InvalidMeasurementException($"{nodes.Count} of {size} nodes watched by the panel");

            masters.Adopt();
            openssh = new OpenSshFloor(work.FullName, "cm", lab.KnownHostsPath, lab.Keys.Ed25519.Path, nodes);
            await openssh.WarmUpAsync();
            var light = nodes.Select(n => n with { Script = StatusProbe.Script([], panel.Services.GetRequiredService<IOptions<StatusOptions>>().Value.PortTimeout) }).ToList();
            opensshLight = new OpenSshFloor(work.FullName, "cm-light", lab.KnownHostsPath, lab.Keys.Ed25519.Path, light);
            await opensshLight.WarmUpAsync();
            var warm = new List<SweepSample>();
            var warmAll = new List<SweepSample>();
            var floor = new List<ToolSample>();
            var floorLight = new List<ToolSample>();
            for (var i = 0; i < runs; i++)
            {
                warm.Add(await MeasuredSweepAsync(masters, panel, api, clusterId, size, allPorts: false));
                floorLight.Add(await ToolAsync(opensshLight.RoundAsync));
                warmAll.Add(await MeasuredSweepAsync(masters, panel, api, clusterId, size, allPorts: true));
                floor.Add(await ToolAsync(openssh.RoundAsync));
            }

            // The cold floor: OpenSSH with a new connection per node each round (no control master), as many rounds as cold
            // panel sweeps, after one not timed.
            var opensshCold = new OpenSshFloor(work.FullName, "cold", lab.KnownHostsPath, lab.Keys.Ed25519.Path, light, multiplexed: false);
            await opensshCold.WarmUpAsync();
            var floorCold = new List<ToolSample>();
            for (var i = 0; i < coldRuns; i++) floorCold.Add(await ToolAsync(opensshCold.RoundAsync));

            var ansible = new List<ToolSample>();
            if (ansibleRuns > 0)
            {
                var runner = new AnsibleRunner(work.FullName, lab.KnownHostsPath, lab.Keys.Ed25519.Path, nodes);
                for (var i = 0; i < ansibleRuns; i++) ansible.Add(await ToolAsync(runner.RunAsync));
            }
            PrintMemory();
            return new SizeResult(size, loadAtStart, LoadAverage(), cold, coldAll, [.. alone], warm, warmAll, floor, floorLight, floorCold, ansible);
        }
        finally
        {
            masters?.Dispose();
            if (openssh is not null) await openssh.DisposeAsync();
            if (opensshLight is not null) await opensshLight.DisposeAsync();
            await panel.DisposeAsync();
            work.Delete(recursive: true);
        }
    }

    private static PanelFactory NewPanel(string? dataDirectory) =>
        new(bootstrap: true, dataDirectory) { Settings = new(PanelSettings), LogLevel = "Warning" };

    /// <summary>A new panel on the same data: no kept connections, no pooled health connections, the collector's first sweep.</summary>
    private static async Task<PanelFactory> RestartAsync(PanelFactory panel)
    {
        var directory = panel.DataDirectory;
        await panel.DisposeAsync();
        return NewPanel(directory);
    }

    /// <summary>A cluster of every lab node (4 masters), as the watch benchmark also creates it.</summary>
    internal static async Task<int> CreateClusterAsync(HttpClient api, Lab lab, int size)
    {
        object Node(string role, LabNode n) => new
        {
            role, privateIp = n.Address,
            ssh = new { host = n.Address, port = n.Port, username = "root", privateKey = lab.Keys.Ed25519.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
        };
        var body = new
        {
            name = $"status-bench-{size}", openviduVersion = "3.8.0", domainName = "openvidu.example.io", licenseKey = "BENCHLICENSE",
            modules = new[] { "observability" }, installerBaseUrl = lab.InstallerHttpsBaseUrl,
            nodes = lab.Nodes.Take(Masters).Select(n => Node("master", n)).Concat(lab.Nodes.Skip(Masters).Select(n => Node("media", n))).ToArray(),
        };
        var created = await api.PostAsJsonAsync("/api/clusters", body, Json);
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    internal static async Task InstallAsync(HttpClient api, int clusterId)
    {
        var started = await api.PostAsJsonAsync($"/api/clusters/{clusterId}/jobs", new { kind = "install" }, Json);
        started.EnsureSuccessStatusCode();
        var jobId = (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var deadline = Stopwatch.StartNew();
        while (true)
        {
            var job = (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;
            var state = job["state"]!.GetValue<string>();
            if (state == "succeeded") return;
            if (state is not ("queued" or "running") || deadline.Elapsed > TimeSpan.FromMinutes(10))
                throw new InvalidOperationException($"install did not succeed: {job.ToJsonString()}");
            await Task.Delay(100);
        }
    }

    /// <summary>The node, address and probe script exactly as the collector builds them (same definition, same watched nodes).</summary>
    private static async Task<List<ProbeNode>> ProbeNodesAsync(PanelFactory panel, int clusterId)
    {
        var services = panel.Services;
        var definition = await services.GetRequiredService<ClusterService>().LoadDefinitionAsync(clusterId)
            ?? throw new InvalidOperationException($"cluster {clusterId} not found");
        var portTimeout = services.GetRequiredService<IOptions<StatusOptions>>().Value.PortTimeout;
        await using var db = await services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        var entities = await db.Nodes.AsNoTracking().Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync();
        var watched = entities.Where(n => n.InstalledAt is not null && n.HostKeyFingerprint is not null).ToList();
        var plan = new PortPlan(definition, watched.Select(n => new WatchedNode(n.Id, n.Name, n.Role, n.PrivateIp)).ToList());
        return watched.Select(n => new ProbeNode(n.Name, n.SshHost, StatusProbe.Script(plan.FromNode(n.Id), portTimeout))).ToList();
    }

    /// <summary>
    /// One refresh through the API, timed from the request to the parsed answer. Before it: a full GC and the peak RSS
    /// reset; after it: the peak, bytes allocated in the whole process during the sweep, the GC heap, new connections.
    /// </summary>
    private static async Task<SweepSample> MeasuredSweepAsync(NodeCost masters, PanelFactory panel, HttpClient api, int clusterId, int size, bool allPorts)
    {
        var (sample, cost) = await masters.MeasureAsync(() => SweepAsync(panel, api, clusterId, size, allPorts));
        return sample with { Masters = cost };
    }

    private static async Task<SweepSample> SweepAsync(PanelFactory panel, HttpClient api, int clusterId, int size, bool allPorts)
    {
        var connections = panel.Services.GetRequiredService<StatusCollector>().Connections;
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var connectsBefore = connections.Connects;
        var baseRss = ProcessMemory.Rss;
        var peakReset = ProcessMemory.ResetPeak();
        var allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var jitBefore = ProcessThreads.JitCpu(); // read outside the CPU window: it walks /proc/self/task
        var cpuBefore = ProcessCpu.Read().Self;
        var kernelBefore = ProcessCpu.Kernel();
        var machineBefore = MachineCpu.Busy();
        var pool = new ThreadPoolMonitor();
        var clock = Stopwatch.StartNew();
        // The answer is read from the stream as it arrives into the few fields checked here (a 1,000-node answer is
        // ~6 MB of JSON): a buffered copy, a string and a tree added ~80 MB of the bench's own to the process's peak, and
        // a JsonDocument's pooled buffers (2 x 16 MB) stayed in the process after it.
        using var request = new HttpRequestMessage(HttpMethod.Post, $"/api/clusters/{clusterId}/status/refresh{(allPorts ? "?ports=true" : "")}");
        using var response = await api.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        if (!response.IsSuccessStatusCode)
            throw new InvalidMeasurementException($"panel: refresh answered {(int)response.StatusCode}: {Cut(await response.Content.ReadAsStringAsync())}");
        var status = (await JsonSerializer.DeserializeAsync<StatusAnswer>(await response.Content.ReadAsStreamAsync(), AnswerJson))!;
        var seconds = clock.Elapsed.TotalSeconds;
        pool.Dispose();
        var cpu = ProcessCpu.Read().Self - cpuBefore;
        var kernel = ProcessCpu.Kernel();
        var machine = MachineCpu.Busy() - machineBefore;
        var jit = Math.Max(0, ProcessThreads.JitCpu() - jitBefore);
        var threads = ProcessThreads.Count;
        var peak = peakReset ? ProcessMemory.Peak : -1;
        var allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        var heap = GC.GetTotalMemory(forceFullCollection: false);

        var nodes = status.Nodes;
        var unreachable = nodes.Where(n => !n.Reachable || n.NotWatched is not null).ToList();
        if (nodes.Count != size || unreachable.Count > 0)
        {
            var example = unreachable.FirstOrDefault();
            throw new InvalidMeasurementException($"panel: {nodes.Count - unreachable.Count} of {size} nodes reachable" +
                (example is null ? "" : $", e.g. {example.Name}: {string.Join("; ", example.Reasons ?? [])} {example.NotWatched}"));
        }
        // The panel's own checks (health request, TCP connects) that got no answer in time: with the lab answering
        // within milliseconds, a timeout here is the panel's doing (and shows as a false amber or red).
        var checkTimeouts = nodes.Count(n => n.Ports.Any(p => p.From == PortPlan.Panel && p.Detail?.StartsWith("no answer", StringComparison.Ordinal) == true));
        var unhealthy = nodes.Where(n => n.Health != "green").ToList();
        if (unhealthy.Count > 0 && !_healthNoted.Contains(size) && _healthNoted.Add(size))
            Console.WriteLine($"  note: {unhealthy.Count} nodes not green (verdicts are not measured here; the probe ran on every node), e.g. {unhealthy[0].Name}: {unhealthy[0].Health} {Cut(JsonSerializer.Serialize(unhealthy[0].Reasons))}");
        return new SweepSample(seconds, status.SweepMs, cpu, jit, threads, pool.MaxThreads, pool.MaxQueue, checkTimeouts, unhealthy.Count,
            baseRss, peak, allocated, heap, connections.Connects - connectsBefore, status.PortChecksRun)
        { Kernel = (kernel.System - kernelBefore.System, kernel.MinorFaults - kernelBefore.MinorFaults), MachineCpu = machine };
    }

    private static readonly string[] Generations = ["gen0", "gen1", "gen2", "LOH", "POH"];

    /// <summary>Where the process's memory is, after a full collection: resident, the GC's committed and live bytes by generation.</summary>
    private static void PrintMemory()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        var gc = GC.GetGCMemoryInfo(GCKind.Any);
        var generations = string.Join(", ", Generations.Select((name, i) =>
            $"{name} {Mb(gc.GenerationInfo[i].SizeAfterBytes)} (free {Mb(gc.GenerationInfo[i].FragmentationAfterBytes)})"));
        Console.WriteLine($"  memory after a full collection: resident {Mb(ProcessMemory.Rss)} MB, GC committed {Mb(gc.TotalCommittedBytes)} MB, heap {Mb(gc.HeapSizeBytes)} MB: {generations}; " +
                          $"{ProcessThreads.Count} threads; MALLOC_ARENA_MAX={Environment.GetEnvironmentVariable("MALLOC_ARENA_MAX") ?? "unset"}");
    }

    private static readonly JsonSerializerOptions AnswerJson = new(JsonSerializerDefaults.Web);

    /// <summary>The fields of the refresh's answer the bench checks; the serializer skips the rest as it streams.</summary>
    private sealed record StatusAnswer(double SweepMs, int PortChecksRun, List<NodeAnswer> Nodes);

    private sealed record NodeAnswer(string Name, bool Reachable, string? NotWatched, string Health, List<string>? Reasons, List<PortAnswer> Ports);

    private sealed record PortAnswer(string From, string? Detail);

    /// <summary>A round of a comparison side, with the CPU its processes used (children are reaped before it returns).</summary>
    private static async Task<ToolSample> ToolAsync(Func<Task<double>> round)
    {
        var before = ProcessCpu.Read().Children;
        var seconds = await round();
        return new ToolSample(seconds, ProcessCpu.Read().Children - before);
    }

    private static string Cut(string text) => text.Length <= 240 ? text : text[..240] + "…";

    private static string LoadAverage() => string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3));

    private static double Median(IEnumerable<double> values)
    {
        var sorted = values.OrderBy(v => v).ToList();
        return sorted.Count % 2 == 1 ? sorted[sorted.Count / 2] : (sorted[sorted.Count / 2 - 1] + sorted[sorted.Count / 2]) / 2;
    }

    private static string Mb(double bytes) => bytes < 0 ? "n/a" : (bytes / (1024 * 1024)).ToString("0.0", CultureInfo.InvariantCulture);

    private static void Print(SizeResult r)
    {
        Console.WriteLine();
        Console.WriteLine($"== {r.Nodes} nodes ({Masters} masters + {r.Nodes - Masters} media) · load average at start {r.LoadAtStart}, at end {r.LoadAtEnd} ==");
        Console.WriteLine($"{"",-26} {"median s",8} {"min s",7} {"max s",7} {"n",2} {"ctl CPU s",9} {"JIT s",5} {"sweepMs",8} {"peak MB",8} {"+peak MB",8} {"alloc MB",8} {"heap MB",7} {"connects",8} {"port checks",11}");
        PanelRow("panel cold (first sweep)", r.Cold);
        PanelRow("panel cold (all ports)", r.ColdAllPorts);
        PanelRow("panel warm (tiered)", r.Warm);
        PanelRow("panel warm (all ports)", r.WarmAllPorts);
        ToolRow("openssh floor (all ports)", r.Floor);
        ToolRow("openssh floor (no ports)", r.FloorLight);
        ToolRow("openssh cold (no ports)", r.FloorCold);
        for (var i = 0; i < r.Ansible.Count; i++)
            Console.WriteLine($"{$"ansible run {i + 1}",-26} {r.Ansible[i].Seconds,8:0.000} {"",7} {"",7} {1,2} {r.Ansible[i].Cpu,9:0.00}");

        Console.WriteLine($"memory, the panel alone (peak): {Mb(r.Cold.Concat(r.ColdAllPorts).Max(x => x.Peak))} MB over the cold sweeps, {Mb(r.WarmAlone.Max(x => x.Peak))} MB over the last " +
                          $"{r.WarmAlone.Count} warm-ups (before any OpenSSH round in this process); the measured warm sweeps, between OpenSSH rounds: {Mb(r.Warm.Concat(r.WarmAllPorts).Max(x => x.Peak))} MB");
        Console.WriteLine($"{"panel, per sweep",-26} {"threads",8} {"pool threads max",17} {"pool queue max",15} {"kernel CPU s",12} {"minor faults",12}  panel checks timed out / nodes not green (each sweep)");
        PanelDiagnostics("panel cold (first sweep)", r.Cold);
        PanelDiagnostics("panel cold (all ports)", r.ColdAllPorts);
        PanelDiagnostics("panel warm (tiered)", r.Warm);
        PanelDiagnostics("panel warm (all ports)", r.WarmAllPorts);

        Console.WriteLine($"{"a master's share, per sweep",-26} {"CPU ms",8} {"processes",10}  (median over sweeps of the 4 masters' mean; max master in brackets)");
        MasterRow("panel warm (tiered)", r.Warm);
        MasterRow("panel warm (all ports)", r.WarmAllPorts);

        var warm = Median(r.Warm.Select(s => s.Seconds));
        var warmAll = Median(r.WarmAllPorts.Select(s => s.Seconds));
        var cold = Median(r.Cold.Select(s => s.Seconds));
        var floor = Median(r.Floor.Select(x => x.Seconds));
        var floorLight = Median(r.FloorLight.Select(x => x.Seconds));
        Console.WriteLine($"warm (all ports) / floor (all ports) = {warmAll / floor:0.00}   warm (tiered) / floor (no ports) = {warm / floorLight:0.00}  (target: <= 1.25)");
        if (r.Ansible.Count > 0)
            Console.WriteLine($"ansible / warm (all ports) = {r.Ansible.Min(x => x.Seconds) / warmAll:0.0} with the fastest ansible run, {r.Ansible.Max(x => x.Seconds) / warmAll:0.0} with the slowest;" +
                              $" / warm (tiered) = {r.Ansible.Min(x => x.Seconds) / warm:0.0}  (target: >= 6)");
        var floorCold = Median(r.FloorCold.Select(x => x.Seconds));
        var coldAll = Median(r.ColdAllPorts.Select(s => s.Seconds));
        Console.WriteLine($"cold (all ports) / warm (all ports) = {coldAll / warmAll:0.00}   cold / warm (tiered) = {cold / warm:0.00}   cold / warm (all ports) = {cold / warmAll:0.00}  (target: <= 1.5)");
        Console.WriteLine($"openssh: cold / warm (no ports) = {floorCold / floorLight:0.00}   panel cold / openssh cold = {cold / floorCold:0.00}");
        // The lab's side of each sweep (sshd, the shells, the probes, the stand-ins: the machine's busy CPU less the
        // panel's) spread over every core: the least that sweep can take on this machine with a panel that costs nothing.
        string LabFloor(List<SweepSample> x) => $"{Median(x.Select(s => s.MachineCpu - s.Cpu)):0.00} CPU s = {Median(x.Select(s => s.MachineCpu - s.Cpu)) / Environment.ProcessorCount:0.00} s";
        Console.WriteLine($"the lab's CPU per sweep (machine less panel; / {Environment.ProcessorCount} cores = the least such a sweep takes here): cold {LabFloor(r.Cold)}, " +
                          $"cold all ports {LabFloor(r.ColdAllPorts)}, warm tiered {LabFloor(r.Warm)}, warm all ports {LabFloor(r.WarmAllPorts)}");
        Console.WriteLine($"panel CPU per node per warm sweep: tiered {1000 * Median(r.Warm.Select(s => s.Cpu)) / r.Nodes:0.00} ms, all ports {1000 * Median(r.WarmAllPorts.Select(s => s.Cpu)) / r.Nodes:0.00} ms, " +
                          $"cold {1000 * Median(r.Cold.Select(s => s.Cpu)) / r.Nodes:0.00} ms, cold all ports {1000 * Median(r.ColdAllPorts.Select(s => s.Cpu)) / r.Nodes:0.00} ms  (target: <= 2, warm)");

        static void PanelDiagnostics(string name, List<SweepSample> samples) =>
            Console.WriteLine($"{name,-26} {samples.Max(x => x.Threads),8} {samples.Max(x => x.PoolThreads),17} {samples.Max(x => x.PoolQueue),15} " +
                              $"{Median(samples.Select(x => x.Kernel.System)),12:0.00} {Median(samples.Select(x => (double)x.Kernel.MinorFaults)),12:0}  {string.Join(' ', samples.Select(x => $"{x.CheckTimeouts}/{x.NotGreen}"))}");

        static void ToolRow(string name, List<ToolSample> samples)
        {
            var f = samples.Select(x => x.Seconds).ToList();
            Console.WriteLine($"{name,-26} {Median(f),8:0.000} {f.Min(),7:0.000} {f.Max(),7:0.000} {f.Count,2} {Median(samples.Select(x => x.Cpu)),9:0.00}");
        }

        static void MasterRow(string name, List<SweepSample> samples)
        {
            var cpu = samples.Select(x => 1000 * x.Masters.Average(m => m.CpuSeconds)).ToList();
            var processes = samples.Select(x => x.Masters.Average(m => (double)m.Processes)).ToList();
            Console.WriteLine($"{name,-26} {Median(cpu),8:0.0} {Median(processes),10:0.#}  [{samples.Max(x => 1000 * x.Masters.Max(m => m.CpuSeconds)):0.0} ms, {samples.Max(x => x.Masters.Max(m => m.Processes))}]");
        }

        static void PanelRow(string name, List<SweepSample> samples)
        {
            var s = samples.Select(x => x.Seconds).ToList();
            Console.WriteLine($"{name,-26} {Median(s),8:0.000} {s.Min(),7:0.000} {s.Max(),7:0.000} {s.Count,2} {Median(samples.Select(x => x.Cpu)),9:0.00} {Median(samples.Select(x => x.JitCpu)),5:0.00} " +
                              $"{Median(samples.Select(x => x.SweepMs)),8:0} {Mb(samples.Max(x => x.Peak)),8} {Mb(samples.Max(x => x.Peak - x.BaseRss)),8} " +
                              $"{Mb(Median(samples.Select(x => (double)x.Allocated))),8} {Mb(Median(samples.Select(x => (double)x.GcHeap))),7} " +
                              $"{string.Join('/', samples.Select(x => x.Connects).Distinct()),8} {Median(samples.Select(x => (double)x.PortChecksRun)),11:0}");
        }
    }

    private static void PrintSummary(List<SizeResult> results)
    {
        Console.WriteLine();
        Console.WriteLine("== summary: medians in seconds (ansible: its fastest run; all ports = every port check, like the floor and ansible) ==");
        Console.WriteLine($"{"nodes",6} {"cold",7} {"warm",7} {"warm all",8} {"floor",7} {"floor np",8} {"ssh cold",8} {"ansible",8} {"all/floor",9} {"ans/all",7} {"cold/all",8} {"ca/all",7} {"cold/ssh",8} {"CPU ms/node",11} {"master ms",9} {"master procs",12} {"peak MB",8}");
        foreach (var r in results)
        {
            var warm = Median(r.Warm.Select(s => s.Seconds));
            var warmAll = Median(r.WarmAllPorts.Select(s => s.Seconds));
            var cold = Median(r.Cold.Select(s => s.Seconds));
            var floor = Median(r.Floor.Select(s => s.Seconds));
            var ansible = r.Ansible.Count > 0 ? r.Ansible.Min(x => x.Seconds) : double.NaN;
            string Master(List<SweepSample> x, Func<NodeCost.Sample, double> f) => Median(x.Select(s => s.Masters.Average(f))).ToString("0.#", CultureInfo.InvariantCulture);
            Console.WriteLine($"{r.Nodes,6} {cold,7:0.000} {warm,7:0.000} {warmAll,8:0.000} {floor,7:0.000} {Median(r.FloorLight.Select(s => s.Seconds)),8:0.000} {Median(r.FloorCold.Select(s => s.Seconds)),8:0.000} {ansible,8:0.000} " +
                              $"{warmAll / floor,9:0.00} {ansible / warmAll,7:0.0} {cold / warmAll,8:0.00} {Median(r.ColdAllPorts.Select(s => s.Seconds)) / warmAll,7:0.00} {cold / Median(r.FloorCold.Select(s => s.Seconds)),8:0.00} " +
                              $"{$"{1000 * Median(r.Warm.Select(s => s.Cpu)) / r.Nodes:0.00}/{1000 * Median(r.WarmAllPorts.Select(s => s.Cpu)) / r.Nodes:0.00}",11} " +
                              $"{Master(r.Warm, m => 1000 * m.CpuSeconds) + "/" + Master(r.WarmAllPorts, m => 1000 * m.CpuSeconds),9} " +
                              $"{Master(r.Warm, m => m.Processes) + "/" + Master(r.WarmAllPorts, m => m.Processes),12} " +
                              $"{Mb(r.Cold.Concat(r.ColdAllPorts).Concat(r.WarmAlone).Max(s => s.Peak)),8}");
        }
        Console.WriteLine("(ca/all: cold with every port check / warm all ports; CPU ms/node, master ms, master procs: tiered/all ports; peak MB: the panel alone, cold sweeps and the last warm-ups)");
    }
}
