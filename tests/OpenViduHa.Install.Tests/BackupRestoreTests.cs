using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// A cluster installed by one panel is run by another after a restore: the old panel and its data directory (its keys)
/// are gone, and the new one reaches every node with the restored SSH keys behind the restored pinned host keys.
/// </summary>
public sealed class BackupRestoreTests
{
    private const string Passphrase = "the panel moves to a new machine";

    [Fact]
    public async Task InstalledCluster_BackedUp_OldPanelGone_RestoredPanelChecksAndSweepsEveryNode()
    {
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("moved", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var credentials = await lp.CredentialsAsync(id);
        var backup = await lp.Api.PostAsJsonAsync("/api/backup", new { passphrase = Passphrase });
        Assert.Equal(HttpStatusCode.OK, backup.StatusCode);
        var file = await backup.Content.ReadAsByteArrayAsync();
        var oldData = lp.Panel.DataDirectory;
        lp.Panel.Dispose();
        Directory.Delete(oldData, recursive: true);

        using var fresh = new PanelFactory { Settings = LabPanel.FastJobs };
        var api = fresh.ApiClient();
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(file), "file", "moved.ovhabak" },
            { new StringContent(Passphrase), "passphrase" },
        };
        var restored = await api.PostAsync("/api/restore", form);
        Assert.True(restored.StatusCode == HttpStatusCode.OK, await restored.Content.ReadAsStringAsync());

        // Every node's SSH key and pinned host key came along: the check connects to each and finds the config it expects.
        var check = await api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "check-credentials" });
        Assert.Equal(HttpStatusCode.Accepted, check.StatusCode);
        var jobId = (await check.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        JsonObject job;
        var deadline = DateTime.UtcNow.AddSeconds(90);
        do
        {
            await Task.Delay(100);
            job = (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;
        }
        while (job["state"]!.GetValue<string>() is "queued" or "running" && DateTime.UtcNow < deadline);
        Assert.True(job["state"]!.GetValue<string>() == "succeeded", job.ToJsonString());
        Assert.Equal(5, job["nodes"]!.AsArray().Count(n => n!["state"]!.GetValue<string>() == "succeeded"));

        // The status sweep signs in over the same restored keys: every node answers, the cluster is healthy.
        var status = await api.PostAsync($"/api/clusters/{id}/status/refresh?ports=true", null);
        Assert.True(status.IsSuccessStatusCode, await status.Content.ReadAsStringAsync());
        var sweep = (await status.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.True(sweep["health"]!.GetValue<string>() == "healthy", sweep.ToJsonString());

        // Applications keep their credentials: the restored panel serves the same file.
        var text = await api.GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env");
        Assert.All(credentials, kv => Assert.Contains($"{kv.Key}={kv.Value}", text, StringComparison.Ordinal));
    }
}
