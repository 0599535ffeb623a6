using System.Diagnostics;
using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;
using OpenViduHa.Tests.Shared;
using Xunit.Abstractions;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// Two real panel processes on one real PostgreSQL, against the lab: what one instance was doing when it was killed is
/// seen as interrupted by the other, and finished there.
/// </summary>
public sealed class TwoInstanceTests(ITestOutputHelper output)
{
    private static Dictionary<string, string?> Settings(string database) => new(LabPanel.FastJobs)
    {
        ["Storage:Provider"] = "Postgres",
        ["ConnectionStrings:Panel"] = database,
        // Sweeps are not shared out between instances yet: this test is about jobs.
        ["Status:Enabled"] = "false",
        ["Jobs:InstallTimeout"] = "00:03:00",
    };

    /// <summary>
    /// A killed mid-install (SIGKILL, default heartbeat settings): B marks the job interrupted within 60 s, a retry on B
    /// finishes it, and no node ever ran two installers at once (the one A left running ends before the retry's).
    /// </summary>
    [Fact]
    public async Task InstanceKilledMidInstall_OtherInstanceInterruptsWithinAMinute_RetryThereFinishes_NoInstallerTwiceAtOnce()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromSeconds(2) });
        var nodes = lab.Nodes;
        // A's installers on the masters outlive A by long enough for the retry to reach them: without the per-node lock
        // the retry's would run beside them.
        foreach (var master in nodes.Take(4)) master.SlowInstaller(TimeSpan.FromSeconds(50));

        await using var a = await PanelProcess.StartAsync("a", Settings(database));
        var apiA = a.Api();
        var jobId = await StartInstallAsync(apiA, lab, "two-instances");
        // A runs it (B is not up yet): wait until the masters' installers run.
        await WaitAsync(apiA, jobId, job => job["nodes"]!.AsArray().Count(n => n!["state"]!.GetValue<string>() == "running") >= 4, 60);

        await using var b = await PanelProcess.StartAsync("b", Settings(database));
        var apiB = b.Api();
        Assert.Equal("running", (await JobAsync(apiB, jobId))["state"]!.GetValue<string>());
        a.Kill();
        var killed = Stopwatch.StartNew();
        foreach (var master in nodes.Take(4)) master.SlowInstaller(TimeSpan.FromSeconds(1));

        var interrupted = await WaitAsync(apiB, jobId, job => job["state"]!.GetValue<string>() != "running", 90);
        killed.Stop();
        output.WriteLine($"B marked the job interrupted {killed.Elapsed.TotalSeconds:0.0} s after A was killed");
        Assert.Equal("interrupted", interrupted["state"]!.GetValue<string>());
        Assert.True(killed.Elapsed < TimeSpan.FromSeconds(60), $"{killed.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains("stopped answering", interrupted["message"]!.GetValue<string>(), StringComparison.Ordinal);

        var retry = await apiB.PostAsync($"/api/jobs/{jobId}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var retried = await WaitAsync(apiB, (await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>(),
            job => job["state"]!.GetValue<string>() is not ("queued" or "running"), 180);
        Assert.True(retried["state"]!.GetValue<string>() == "succeeded", retried.ToJsonString());
        Assert.All(nodes, n => Assert.True(n.ServiceActive, $"{n.Name}: openvidu not running after the retry"));

        foreach (var node in nodes)
        {
            var runs = node.InstallerRunTimes.OrderBy(r => r.Started).ToList();
            output.WriteLine($"{node.Name}: {string.Join(", ", runs.Select(r => $"{r.Started:HH:mm:ss.f}-{r.Ended:HH:mm:ss.f}"))}");
            // Each master ran A's installer (cut short or finished on its own) and then the retry's.
            if (node != nodes[4]) Assert.True(runs.Count >= 2, $"{node.Name} ran {runs.Count} installer(s)");
            for (var i = 1; i < runs.Count; i++)
                Assert.True(runs[i].Started >= runs[i - 1].Ended, $"{node.Name} ran two installers at once: {runs[i - 1]} and {runs[i]}");
        }
    }

    /// <summary>
    /// A cancel asked on B for the install A runs reaches A over the instances' channel at once: the heartbeats here are
    /// two minutes apart, so the fallback (A reading the cancel at its next beat) cannot be what ends the job in time.
    /// </summary>
    [Fact]
    public async Task CancelAskedOnTheOtherInstance_ReachesTheRunningJobAtOnce()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = 5, InstallerDelay = TimeSpan.FromSeconds(30) });
        var slowBeats = new Dictionary<string, string?>(Settings(database))
        {
            ["Instances:HeartbeatInterval"] = "00:02:00",
            ["Instances:DeadAfter"] = "00:10:00",
        };
        await using var a = await PanelProcess.StartAsync("a", slowBeats);
        // B runs no job: what it queues, A runs.
        await using var b = await PanelProcess.StartAsync("b", new Dictionary<string, string?>(slowBeats) { ["Jobs:Workers"] = "0" });
        var apiB = b.Api();
        var jobId = await StartInstallAsync(apiB, lab, "cancel-across");
        await WaitAsync(apiB, jobId, job => job["nodes"]!.AsArray().Count(n => n!["message"]?.GetValue<string>() == "Running the installer") >= 4, 60);

        var cancelledAt = Stopwatch.StartNew();
        Assert.Equal(HttpStatusCode.Accepted, (await apiB.PostAsync($"/api/jobs/{jobId}/cancel", null)).StatusCode);
        var job = await WaitAsync(apiB, jobId, j => j["state"]!.GetValue<string>() != "running", 30);
        cancelledAt.Stop();
        output.WriteLine($"The job on A ended {cancelledAt.Elapsed.TotalSeconds:0.0} s after the cancel on B");
        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.All(job["nodes"]!.AsArray(), n => Assert.Equal("cancelled", n!["state"]!.GetValue<string>()));
        Assert.True(cancelledAt.Elapsed < TimeSpan.FromSeconds(15), $"{cancelledAt.Elapsed.TotalSeconds:0.0} s");
        Assert.Contains($"Job {jobId} cancelled from another instance", a.Output, StringComparison.Ordinal);
    }

    /// <summary>A cluster of the lab's 4 first nodes as masters and the fifth as media, and its install job queued: the job's id.</summary>
    private static async Task<int> StartInstallAsync(HttpClient api, OpenViduHa.Lab.Lab lab, string name)
    {
        var created = await api.PostAsJsonAsync("/api/clusters", LabPanel.Spec(lab, name, "3.8.0", lab.Nodes.Take(4).ToList(), [lab.Nodes[4]]), LabPanel.Json);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var clusterId = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var started = await api.PostAsJsonAsync($"/api/clusters/{clusterId}/jobs", new { kind = "install" });
        Assert.Equal(HttpStatusCode.Accepted, started.StatusCode);
        return (await started.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    private static async Task<JsonObject> JobAsync(HttpClient api, int jobId) => (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;

    private static async Task<JsonObject> WaitAsync(HttpClient api, int jobId, Func<JsonObject, bool> until, int seconds)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (true)
        {
            var job = await JobAsync(api, jobId);
            if (until(job)) return job;
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Job {jobId} after {seconds} s: {job.ToJsonString()}");
            await Task.Delay(200);
        }
    }
}

/// <summary>
/// Status with two real panel processes on one PostgreSQL: each installed cluster is swept by exactly one instance (only
/// it holds SSH connections to that cluster's nodes, counted with <c>ss</c>), both instances show the same picture, and
/// when one is killed the other takes its cluster over within two status intervals.
/// </summary>
public sealed class TwoInstanceStatusTests(ITestOutputHelper output)
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(5);

    [Fact]
    public async Task EachClusterSweptByOneInstance_ThenTheSurvivorTakesOverWithinTwoIntervals()
    {
        await using var postgres = await PostgresServer.StartAsync();
        var database = await postgres.CreateDatabaseAsync();
        await using var lab = await OpenViduHa.Lab.Lab.StartAsync(new LabOptions { Nodes = 10 });
        var settings = new Dictionary<string, string?>(LabPanel.FastJobs)
        {
            ["Storage:Provider"] = "Postgres",
            ["ConnectionStrings:Panel"] = database,
            ["Status:Interval"] = Interval.ToString(),
            ["Instances:HeartbeatInterval"] = "00:00:01",
            ["Instances:DeadAfter"] = "00:00:03",
        };
        await using var a = await PanelProcess.StartAsync("a", settings);
        await using var b = await PanelProcess.StartAsync("b", settings);
        var nodes = lab.Nodes;
        var clusters = new List<(int Id, IReadOnlyList<LabNode> Nodes)>();
        foreach (var (name, part) in new[] { ("first", nodes.Take(5).ToList()), ("second", nodes.Skip(5).ToList()) })
        {
            var created = await a.Api().PostAsJsonAsync("/api/clusters", LabPanel.Spec(lab, name, "3.8.0", part.Take(4).ToList(), [part[4]]), LabPanel.Json);
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
            var job = await a.Api().PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "install" });
            var jobId = (await job.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
            await WaitAsync(() => JobStateAsync(a, jobId), s => s == "succeeded", TimeSpan.FromSeconds(120));
            clusters.Add((id, part));
        }

        // Both instances up: every cluster healthy on both, each swept by exactly one instance, one cluster each.
        foreach (var (id, _) in clusters)
            foreach (var panel in new[] { a, b })
                await WaitAsync(() => HealthAsync(panel, id), h => h == "healthy", TimeSpan.FromSeconds(60));
        await Task.Delay(Interval * 2);
        var sweeper = new Dictionary<int, PanelProcess>();
        foreach (var (id, part) in clusters)
        {
            var fromA = await ConnectionsAsync(a, part);
            var fromB = await ConnectionsAsync(b, part);
            output.WriteLine($"cluster {id}: {fromA} SSH connections from A, {fromB} from B");
            Assert.True((fromA == 5 && fromB == 0) || (fromA == 0 && fromB == 5), $"cluster {id}: {fromA} connections from A, {fromB} from B");
            sweeper[id] = fromA == 5 ? a : b;
            // Both show the picture the sweeping instance took.
            Assert.Equal(await CheckedAtAsync(sweeper[id], id), await CheckedAtAsync(sweeper[id] == a ? b : a, id), TimeSpan.FromSeconds(6));
        }
        Assert.NotEqual(sweeper[clusters[0].Id], sweeper[clusters[1].Id]);

        // A refresh asked on the instance that does not sweep a cluster: the sweeping one is asked and its fresh picture
        // comes back, and the asking instance still opens no connection to that cluster's nodes.
        var (askedId, askedNodes) = clusters[0];
        var other = sweeper[askedId] == a ? b : a;
        var asked = DateTimeOffset.UtcNow;
        var refreshed = await other.Api().PostAsync($"/api/clusters/{askedId}/status/refresh", null);
        Assert.True(refreshed.IsSuccessStatusCode, await refreshed.Content.ReadAsStringAsync());
        Assert.True((await refreshed.Content.ReadFromJsonAsync<JsonObject>())!["checkedAt"]!.GetValue<DateTimeOffset>() >= asked.AddSeconds(-1));
        Assert.Equal(0, await ConnectionsAsync(other, askedNodes));

        // A killed: B takes A's cluster over (leases, then a sweep over B's own connections) within two intervals.
        var orphaned = clusters.First(c => sweeper[c.Id] == a);
        a.Kill();
        var killedAt = DateTimeOffset.UtcNow;
        var clock = System.Diagnostics.Stopwatch.StartNew();
        await WaitAsync(() => CheckedAtAsync(b, orphaned.Id), at => at > killedAt, TimeSpan.FromSeconds(30));
        var tookOver = clock.Elapsed;
        output.WriteLine($"B swept A's cluster {tookOver.TotalSeconds:0.0} s after A was killed (interval {Interval.TotalSeconds} s)");
        Assert.True(tookOver <= Interval * 2, $"{tookOver.TotalSeconds:0.0} s");
        Assert.Equal(5, await ConnectionsAsync(b, orphaned.Nodes));
        Assert.Equal("healthy", await HealthAsync(b, orphaned.Id));
    }

    private static async Task<string?> JobStateAsync(PanelProcess panel, int jobId) =>
        (await panel.Api().GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!["state"]!.GetValue<string>();

    private static async Task<string?> HealthAsync(PanelProcess panel, int clusterId) =>
        (await panel.Api().GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}/status"))!["health"]?.GetValue<string>();

    private static async Task<DateTimeOffset> CheckedAtAsync(PanelProcess panel, int clusterId) =>
        (await panel.Api().GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}/status"))!["checkedAt"]!.GetValue<DateTimeOffset>();

    /// <summary>The panel process's established connections to the nodes' sshd: one kept status connection per node it sweeps.</summary>
    private static Task<int> ConnectionsAsync(PanelProcess panel, IReadOnlyList<LabNode> nodes) =>
        Task.FromResult(panel.ConnectionsTo(nodes.Select(n => $"{n.Address}:{n.Port}").ToHashSet()));

    private static async Task WaitAsync<T>(Func<Task<T>> read, Func<T, bool> until, TimeSpan within)
    {
        var deadline = DateTime.UtcNow + within;
        T last;
        while (!until(last = await read()))
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Still {last} after {within.TotalSeconds} s.");
            await Task.Delay(200);
        }
    }
}
