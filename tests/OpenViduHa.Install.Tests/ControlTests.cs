using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenViduHa.Install.Tests;

public sealed class ControlTests
{
    [Fact]
    public async Task Cancel_RunningInstall_EndsCancelled_AndAnotherJobMayStart()
    {
        await using var lp = await LabPanel.StartAsync(5, installerDelay: TimeSpan.FromSeconds(20));
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("cancel-me", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        var jobId = await lp.StartJobOkAsync(id, "install");
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "master-1") == "Running the installer", seconds: 30);

        var cancel = await lp.Api.PostAsync($"/api/jobs/{jobId}/cancel", null);
        Assert.Equal(HttpStatusCode.Accepted, cancel.StatusCode);

        var job = await lp.WaitAsync(jobId, seconds: 15);
        Assert.Equal("cancelled", job["state"]!.GetValue<string>());
        Assert.All(job["nodes"]!.AsArray(), n => Assert.Equal("cancelled", n!["state"]!.GetValue<string>()));
        Assert.Equal(HttpStatusCode.Conflict, (await lp.Api.PostAsync($"/api/jobs/{jobId}/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.Accepted, (await lp.StartJobAsync(id, "preflight")).StatusCode);
    }

    [Fact]
    public async Task StopStartAndRollingRestart_OfAnInstalledCluster()
    {
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("control", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        // Not installed yet: service control is refused with the reason.
        var early = await lp.StartJobAsync(id, "rolling-restart");
        Assert.Equal(HttpStatusCode.BadRequest, early.StatusCode);
        Assert.Contains("not installed", await early.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var media = await lp.NodeIdAsync(id, "media-1");
        // A second install would take every master down at once: refused, with the way to do it instead.
        var again = await lp.StartJobAsync(id, "install");
        Assert.Equal(HttpStatusCode.BadRequest, again.StatusCode);
        Assert.Contains("reinstall-node", await again.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "stop", media))["state"]!.GetValue<string>());
        Assert.False(nodes[4].ServiceActive);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "start", media))["state"]!.GetValue<string>());
        Assert.True(nodes[4].ServiceActive);

        var rolling = await lp.RunJobAsync(id, "rolling-restart");
        Assert.Equal("succeeded", rolling["state"]!.GetValue<string>());
        Assert.Equal(5, rolling["nodes"]!.AsArray().Count);
        Assert.All(nodes, n => Assert.True(n.ServiceActive));
        // One node at a time: each restart's log lines end before the next node's begin.
        var log = await lp.Api.GetFromJsonAsync<JsonArray>($"/api/jobs/{rolling["id"]}/log?after=0");
        var order = log!.Select(l => l!["node"]?.GetValue<string>()).Where(n => n is not null).Distinct().ToList();
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1"], order);
        var runs = log!.Where(l => l!["node"] is not null).Select(l => l!["node"]!.GetValue<string>()).ToList();
        var switches = runs.Skip(1).Where((n, i) => n != runs[i]).Count();
        Assert.Equal(4, switches); // 5 nodes, never interleaved
    }
}
