using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Status;

namespace OpenViduHa.Install.Tests;

/// <summary>The collector around jobs, panel restarts and changed host keys: each test with its own lab.</summary>
public sealed class StatusLifecycleTests
{
    private static Dictionary<string, string?> Fast(string interval = "00:00:00.500") => new(StatusLabFixture.Settings) { ["Status:Interval"] = interval };

    [Fact]
    public async Task ProbesDuringAReinstall_OfThatNode_DoNotDisturbIt()
    {
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning", settings: Fast("00:00:00.200"));
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("busy", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var collector = lp.Panel.Services.GetRequiredService<StatusCollector>();
        var store = lp.Panel.Services.GetRequiredService<StatusStore>();
        var media = await lp.NodeIdAsync(id, "media-1");
        nodes[4].SlowInstaller(TimeSpan.FromSeconds(3));

        // The probe keeps running on media-1 every 200 ms while its installer runs, on its own connection.
        var probes = new System.Collections.Concurrent.ConcurrentBag<DateTimeOffset>();
        using var subscription = store.Subscribe(id, status =>
        {
            var node = status.Nodes.Single(n => n.NodeId == media);
            if (node.Reachable && node.CheckedAt is { } at) probes.Add(at);
            return Task.CompletedTask;
        });
        var job = await lp.RunJobAsync(id, "reinstall-node", media);
        subscription.Dispose();

        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.Equal(2, nodes[4].InstallerRuns);
        Assert.Contains("Installation Finished Successfully", await lp.LogTextAsync(job["id"]!.GetValue<int>()), StringComparison.Ordinal);
        Assert.True(nodes[4].ServiceActive);
        var (started, ended) = nodes[4].InstallerRunTimes[^1];
        var during = probes.Count(at => at > started && at < ended);
        Assert.True(during >= 1, $"no probe of media-1 completed while its installer ran ({started:HH:mm:ss.ff}-{ended:HH:mm:ss.ff}); probes at {string.Join(", ", probes.Order().Select(p => p.ToString("HH:mm:ss.ff")))}");
        var after = await collector.SweepClusterAsync(id, force: true, allPorts: false, CancellationToken.None);
        Assert.Equal(ClusterHealth.Healthy, after!.Health);
    }

    [Fact]
    public async Task PanelRestart_KeepsTheHistoryAndThePortAnswers_AndWritesNoDuplicate()
    {
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning", settings: Fast());
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("restart", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        Assert.Equal(0, (await nodes[4].RunAsRootAsync("systemctl stop openvidu")).ExitCode);
        await WaitAsync(lp, id, s => NodeHealth(s, "media-1") == "red");
        Assert.Equal(0, (await nodes[4].RunAsRootAsync("systemctl start openvidu")).ExitCode);
        await WaitAsync(lp, id, AllGreen);
        var rows = lp.Panel.Count("StatusChanges");
        var stopped = DateTimeOffset.UtcNow;

        lp.RestartPanel();
        var fresh = await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);
        Assert.True(fresh.IsSuccessStatusCode, await fresh.Content.ReadAsStringAsync());
        await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);

        // The port answers were saved as the panel stopped: its first sweep ran no port check and shows the old answers.
        var first = (await fresh.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(0, first["portChecksRun"]!.GetValue<int>());
        Assert.True(first["portsCheckedAt"]!.GetValue<DateTimeOffset>() < stopped, first["portsCheckedAt"]!.ToJsonString());
        Assert.Equal("healthy", first["health"]!.GetValue<string>());
        Assert.True(Node(first, "master-1")["ports"]!.AsArray().Count(p => p!["from"]!.GetValue<string>() != "panel" && p["checkedAt"]!.GetValue<DateTimeOffset>() < stopped) >= 4);

        Assert.Equal(rows, lp.Panel.Count("StatusChanges"));
        var history = await lp.Panel.Services.GetRequiredService<StatusCollector>().HistoryAsync(id, 100, CancellationToken.None);
        Assert.Contains(history, c => c.Health == "red" && c.Reason.Contains("openvidu service is inactive", StringComparison.Ordinal));

        // Deleted, the cluster leaves the live picture and the metrics with the next sweep.
        Assert.Contains("cluster=\"restart\"", await lp.Api.GetStringAsync("/metrics"), StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.NoContent, (await lp.Api.DeleteAsync($"/api/clusters/{id}")).StatusCode);
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while ((await lp.Api.GetStringAsync("/metrics")).Contains("cluster=\"restart\"", StringComparison.Ordinal))
        {
            Assert.True(DateTime.UtcNow < deadline, "the deleted cluster is still in the metrics after 30 s");
            await Task.Delay(100);
        }
    }

    [Fact]
    public async Task FirstRead_WhileTheFirstSweepRuns_AnswersThatSweep_InsteadOfSweepingAgain()
    {
        // No scheduled sweeps: the test starts the first one itself.
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning", settings: new Dictionary<string, string?>(StatusLabFixture.Settings) { ["Status:Enabled"] = "false" });
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("first-read", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        // media-1's SSH now leads to a listener that never says a word: the first sweep waits out the connect timeout (3 s).
        using var silent = new TcpListener(IPAddress.Loopback, 0);
        silent.Start();
        await using (var db = await lp.Panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync())
        {
            var media = await db.Nodes.SingleAsync(n => n.ClusterId == id && n.Name == "media-1");
            media.SshHost = "127.0.0.1";
            media.SshPort = ((IPEndPoint)silent.LocalEndpoint).Port;
            await db.SaveChangesAsync();
        }
        lp.RestartPanel(); // no picture yet, no connection
        var collector = lp.Panel.Services.GetRequiredService<StatusCollector>();
        var sweeps = collector.Sweeps;

        var first = collector.SweepClusterAsync(id, force: false, allPorts: false, CancellationToken.None);
        var read = (await lp.Api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}/status"))!;

        // The read waited for the sweep that was running and answered its picture; no second sweep ran after it.
        var swept = await first;
        Assert.Equal(swept!.CheckedAt, read["checkedAt"]!.GetValue<DateTimeOffset>());
        Assert.Equal(sweeps + 1, collector.Sweeps);
        Assert.False(Node(read, "media-1")["reachable"]!.GetValue<bool>(), read.ToJsonString());
        Assert.True(Node(read, "master-1")["reachable"]!.GetValue<bool>(), read.ToJsonString());
    }

    [Fact]
    public async Task HostKeyReplaced_NodeRedNamingTheMismatch_AndTheKeyIsOnlyRecorded()
    {
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning", settings: Fast());
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("rekeyed", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var pinned = nodes[4].HostKeyFingerprint;
        await WaitAsync(lp, id, AllGreen);

        // sshd restarts with a new key: kept connections drop, the new one is refused by the pin. The service still
        // answers, so the node is amber (not down), with the reason.
        await nodes[4].ReplaceHostKeyAsync();
        var status = await WaitAsync(lp, id, s => string.Concat(Node(s, "media-1")["reasons"]!.AsArray().Select(r => r!.GetValue<string>())).Contains("Host key mismatch", StringComparison.Ordinal));

        var reasons = string.Join("; ", Node(status, "media-1")["reasons"]!.AsArray().Select(r => r!.GetValue<string>()));
        Assert.True(NodeHealth(status, "media-1") == "amber", status.ToJsonString());
        Assert.Contains(nodes[4].HostKeyFingerprint, reasons, StringComparison.Ordinal);
        var view = (await lp.ClusterAsync(id))["nodes"]!.AsArray().Single(n => n!["name"]!.GetValue<string>() == "media-1")!;
        Assert.Equal(pinned, view["ssh"]!["hostKeyFingerprint"]!.GetValue<string>());
        Assert.Equal(nodes[4].HostKeyFingerprint, view["presentedHostKeyFingerprint"]!.GetValue<string>());
    }

    /// <summary>
    /// The node's sudo password was changed by its admin, not in the panel: the probe's sudo is refused, and it is tried
    /// again after 1 s, 2 s, 4 s … like an unreachable node, not every interval (a wrong password every 500 ms would trip
    /// fail2ban or pam_faillock and lock the account on the node).
    /// </summary>
    [Fact]
    public async Task SudoRefused_ProbeBacksOffLikeAnUnreachableNode()
    {
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning",
            settings: new Dictionary<string, string?>(Fast()) { ["Status:MaxReconnectBackoff"] = "00:01:00" }, recordCommands: true);
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("sudo", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]);
        spec.Nodes![4].Ssh!.Username = OpenViduHa.Lab.LabUsers.Deploy;
        spec.Nodes[4].Ssh!.SudoPassword = lp.Lab.DeployPassword;
        var id = await lp.CreateAsync(spec);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        await WaitAsync(lp, id, AllGreen);

        // The panel's sudo password for media-1 no longer works.
        var clusters = lp.Panel.Services.GetRequiredService<OpenViduHa.Core.Clusters.ClusterService>();
        var stored = (await clusters.GetSpecAsync(id))!;
        stored.Nodes![4].Ssh!.SudoPassword = "NotTheSudoPassword1";
        Assert.True((await clusters.UpdateAsync(id, stored, "test")).Succeeded);
        var status = await WaitAsync(lp, id, s => NodeHealth(s, "media-1") != "green");
        Assert.Contains("sudo failed for deploy@", string.Join("; ", Node(status, "media-1")["reasons"]!.AsArray().Select(r => r!.GetValue<string>())), StringComparison.Ordinal);

        // Thirty seconds of sweeps every 500 ms. A refused sudo takes about 2.5 s (PAM waits after a wrong password), so
        // without a backoff sudo is tried about 11 times more; waiting 1, 2, 4, 8 s between tries, about 4 times.
        var before = SudoRefusals(nodes[4]);
        await Task.Delay(TimeSpan.FromSeconds(30));
        var tries = SudoRefusals(nodes[4]) - before;
        Assert.InRange(tries, 1, 6);
    }

    /// <summary>sudo's "incorrect password" entries for deploy (its log wraps lines at 80 characters: joined back first).</summary>
    private static int SudoRefusals(OpenViduHa.Lab.LabNode node) =>
        System.Text.RegularExpressions.Regex.Count(System.Text.RegularExpressions.Regex.Replace(node.SudoLog, @"\n\s+", " "), "deploy : [0-9]+ incorrect password attempts?");

    private static async Task<JsonObject> WaitAsync(LabPanel lp, int id, Func<JsonObject, bool> until, int seconds = 30)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        JsonObject? last = null;
        while (DateTime.UtcNow < deadline)
        {
            last = (await lp.Api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}/status"))!;
            if (until(last)) return last;
            await Task.Delay(100);
        }
        throw new TimeoutException($"Status not as expected after {seconds} s: {last?.ToJsonString()}");
    }

    /// <summary>Healthy with every node watched and green (a sweep that began before the install ended watches fewer).</summary>
    internal static bool AllGreen(JsonObject status) =>
        status["health"]!.GetValue<string>() == "healthy" && status["nodes"]!.AsArray().All(n => n!["health"]!.GetValue<string>() == "green");

    private static JsonObject Node(JsonObject status, string name) =>
        status["nodes"]!.AsArray().Single(n => n!["name"]!.GetValue<string>() == name)!.AsObject();

    private static string NodeHealth(JsonObject status, string name) => Node(status, name)["health"]!.GetValue<string>();
}
