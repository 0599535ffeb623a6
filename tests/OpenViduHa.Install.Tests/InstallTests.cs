using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Install;

namespace OpenViduHa.Install.Tests;

public sealed class InstallTests
{
    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public async Task Install_FourMastersTwoMedia_EveryNodeInstalledOnceWithTheClusterValues(string version)
    {
        // Arrange
        await using var lp = await LabPanel.StartAsync(6, logLevel: "Debug");
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("lab-" + version.Replace('.', '-'), version, nodes.Take(4).ToList(), nodes.Skip(4).ToList()));

        // Act
        var job = await lp.RunJobAsync(id, "install");

        // Assert
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        var definition = (await lp.Panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(id))!;
        var credentials = await lp.CredentialsAsync(id);
        foreach (var (labNode, node) in nodes.Zip(definition.Nodes))
        {
            Assert.Equal("succeeded", LabPanel.NodeState(job, node.Name));
            Assert.Equal(1, labNode.InstallerRuns);
            Assert.True(labNode.ServiceActive, $"{node.Name}: service not active");
            foreach (var entry in CredentialLayout.For(definition, node))
            {
                var file = labNode.ReadFile(entry.File);
                Assert.True(file is not null, $"{node.Name}: {entry.File} missing");
                Assert.Contains($"{entry.Key}={entry.Expected}", file, StringComparison.Ordinal);
            }
        }
        // The applications' view: the LiveKit secret the panel hands out is the one on the masters.
        var masterFile = nodes[0].ReadFile(version == "3.0.0" ? "/opt/openvidu/.env" : "/opt/openvidu/config/cluster/openvidu.env")!;
        Assert.Contains($"LIVEKIT_API_SECRET={credentials["LIVEKIT_API_SECRET"]}", masterFile, StringComparison.Ordinal);

        var log = await lp.LogTextAsync(job["id"]!.GetValue<int>());
        Assert.Contains(InstallHandler.MasterBanner, log, StringComparison.Ordinal);
        Assert.Contains(InstallHandler.MediaBanner, log, StringComparison.Ordinal);
        Assert.DoesNotContain(credentials["LIVEKIT_API_SECRET"], log, StringComparison.Ordinal);
        Assert.DoesNotContain("LABLICENSE0123456789", log, StringComparison.Ordinal);

        // Debug logs, the panel's database and Hangfire's: the install command (it carries every secret) is in none of them.
        var onDisk = lp.DataFilesText();
        Assert.Contains("OpenVidu installer", onDisk, StringComparison.Ordinal); // the logs did record the work
        foreach (var secret in definition.Secrets.Where(s => s.Value.Length >= 12).Select(s => s.Value).Append(definition.LicenseKey))
            Assert.DoesNotContain(secret, onDisk, StringComparison.Ordinal);
    }

    [Fact]
    public async Task SecondInstall_WhileOneRuns_IsRefusedWithTheReason()
    {
        await using var lp = await LabPanel.StartAsync(5, installerDelay: TimeSpan.FromSeconds(3));
        var id = await lp.CreateAsync(lp.Spec("busy", "3.8.0", lp.Lab.Nodes.Take(4).ToList(), lp.Lab.Nodes.Skip(4).ToList()));
        var first = await lp.StartJobOkAsync(id, "install");

        var second = await lp.StartJobAsync(id, "install");

        Assert.Equal(HttpStatusCode.Conflict, second.StatusCode);
        var problem = (await second.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains($"Job {first}", problem["detail"]!.GetValue<string>(), StringComparison.Ordinal);
        // A read-only job is still allowed beside it; changing or deleting the cluster is not.
        Assert.Equal(HttpStatusCode.Accepted, (await lp.StartJobAsync(id, "preflight")).StatusCode);
        var edit = await lp.Api.PutAsJsonAsync($"/api/clusters/{id}", lp.Spec("busy", "3.8.0", lp.Lab.Nodes.Take(4).ToList(), lp.Lab.Nodes.Skip(4).ToList()), LabPanel.Json);
        Assert.Equal(HttpStatusCode.Conflict, edit.StatusCode);
        Assert.Contains($"Job {first}", await edit.Content.ReadAsStringAsync(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.Conflict, (await lp.Api.DeleteAsync($"/api/clusters/{id}")).StatusCode);
        Assert.Equal("succeeded", (await lp.WaitAsync(first))["state"]!.GetValue<string>());
        Assert.All(lp.Lab.Nodes, n => Assert.Equal(1, n.InstallerRuns));
    }

    [Fact]
    public async Task InstallerFailsOnOneNode_ThatNodeFailsWithItsMessage_OthersSucceed_RetryFixesIt()
    {
        await using var lp = await LabPanel.StartAsync(6);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("flaky", "3.0.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        nodes[5].FailInstaller("disk quota exceeded while pulling images");

        var job = await lp.RunJobAsync(id, "install");

        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Equal("failed", LabPanel.NodeState(job, "media-2"));
        Assert.Contains("disk quota exceeded while pulling images", LabPanel.NodeMessage(job, "media-2"), StringComparison.Ordinal);
        foreach (var name in new[] { "master-1", "master-2", "master-3", "master-4", "media-1" }) Assert.Equal("succeeded", LabPanel.NodeState(job, name));
        // Hangfire says what the panel says: the job failed there too, with the job's own message.
        var hangfire = lp.Panel.Services.GetRequiredService<Hangfire.JobStorage>().GetMonitoringApi();
        var expected = $"Job {job["id"]} (install) failed: Failed on media-2.";
        for (var waited = 0; !hangfire.FailedJobs(0, 50).Any(f => f.Value.ExceptionMessage == expected) && waited < 100; waited++) await Task.Delay(100);
        Assert.Contains(hangfire.FailedJobs(0, 50), f => f.Value.ExceptionMessage == expected && f.Value.ExceptionType == typeof(OpenViduHa.Core.Jobs.JobNotSucceededException).FullName);

        nodes[5].ClearFaults();
        var retry = await lp.Api.PostAsync($"/api/jobs/{job["id"]}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var retryId = (await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var second = await lp.WaitAsync(retryId);

        Assert.Equal("succeeded", second["state"]!.GetValue<string>());
        Assert.Single(second["nodes"]!.AsArray()); // the failed node only
        Assert.Equal(2, nodes[5].InstallerRuns);
        Assert.All(nodes.Take(5), n => Assert.Equal(1, n.InstallerRuns));
    }

    [Fact]
    public async Task Install_InstallerExitsZeroWithoutItsBanner_NodeFailsUninstalledNeverStarted_LaterInstallSucceeds()
    {
        // Arrange: every node's installer does its work and exits 0, but prints no success banner.
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("no-banner", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        foreach (var node in nodes) node.BannerlessInstaller();

        // Act
        var job = await lp.RunJobAsync(id, "install");

        // Assert: each master ran it and failed on the missing banner; the media node, waiting for the masters, never ran it.
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        foreach (var name in new[] { "master-1", "master-2", "master-3", "master-4" })
        {
            Assert.Equal("failed", LabPanel.NodeState(job, name));
            Assert.Contains("without its success banner", LabPanel.NodeMessage(job, name), StringComparison.Ordinal);
        }
        Assert.Equal("skipped", LabPanel.NodeState(job, "media-1"));
        Assert.All(nodes.Take(4), n => Assert.Equal(1, n.InstallerRuns));
        await AssertNeverStartedAsync(lp, id, nodes);

        // A later install is not refused ("installed already"): masters fixed, the media node's installer still without
        // its banner. The masters install; the media node runs its installer and fails the same way.
        foreach (var node in nodes.Take(4)) node.ClearFaults();
        var second = await lp.RunJobAsync(id, "install");
        Assert.Equal("failed", second["state"]!.GetValue<string>());
        Assert.All(new[] { "master-1", "master-2", "master-3", "master-4" }, name => Assert.Equal("succeeded", LabPanel.NodeState(second, name)));
        Assert.Equal("failed", LabPanel.NodeState(second, "media-1"));
        Assert.Contains("without its success banner", LabPanel.NodeMessage(second, "media-1"), StringComparison.Ordinal);
        Assert.Equal(1, nodes[4].InstallerRuns);
        await AssertNeverStartedAsync(lp, id, [nodes[4]]);

        // Fixed, the media node's retry installs and starts it.
        nodes[4].ClearFaults();
        var retry = await lp.Api.PostAsync($"/api/jobs/{second["id"]}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var third = await lp.WaitAsync((await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
        Assert.Equal("succeeded", third["state"]!.GetValue<string>());
        var cluster = await lp.ClusterAsync(id);
        Assert.All(cluster["nodes"]!.AsArray(), n => Assert.NotNull(n!["installedAt"]));
        Assert.All(nodes, n => Assert.True(n.ServiceActive, $"{n.Name}: service not active"));
    }

    /// <summary>The panel marked none of <paramref name="nodes"/> installed, and nothing ever asked their service to start.</summary>
    private static async Task AssertNeverStartedAsync(LabPanel lp, int clusterId, IReadOnlyList<OpenViduHa.Lab.LabNode> nodes)
    {
        var cluster = await lp.ClusterAsync(clusterId);
        foreach (var node in nodes)
        {
            var row = cluster["nodes"]!.AsArray().Single(n => n!["privateIp"]!.GetValue<string>() == node.Address)!;
            Assert.True(row["installedAt"] is null, $"{row["name"]}: marked installed at {row["installedAt"]}");
            Assert.False(node.ServiceActive, $"{node.Name}: service active");
            Assert.DoesNotContain("Starting openvidu.service", node.Journal, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task HostKeyReplaced_ConnectionRefused_InstallerNeverRan()
    {
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("spoofed", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        var pinned = nodes[2].HostKeyFingerprint;
        await nodes[2].ReplaceHostKeyAsync();

        var job = await lp.RunJobAsync(id, "install");

        var message = LabPanel.NodeMessage(job, "master-3");
        Assert.Equal("failed", LabPanel.NodeState(job, "master-3"));
        Assert.Contains("Host key mismatch", message, StringComparison.Ordinal);
        Assert.Contains(pinned, message, StringComparison.Ordinal);
        Assert.Contains(nodes[2].HostKeyFingerprint, message, StringComparison.Ordinal);
        Assert.Equal(0, nodes[2].InstallerRuns);
    }

    [Fact]
    public async Task WrongKey_NodeFailsWithTheAuthenticationMessage()
    {
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("wrong-key", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList());
        spec.Nodes![1].Ssh!.PrivateKey = lp.Lab.Keys.Unauthorized.PrivateKey;
        var id = await lp.CreateAsync(spec);

        var job = await lp.RunJobAsync(id, "preflight");

        Assert.Equal("failed", LabPanel.NodeState(job, "master-2"));
        Assert.Contains("rejected the private key", LabPanel.NodeMessage(job, "master-2"), StringComparison.Ordinal);
        Assert.Contains("authorized_keys", LabPanel.NodeMessage(job, "master-2"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task NodeDownMidInstall_ThatNodeFails_JobDoesNotHang()
    {
        await using var lp = await LabPanel.StartAsync(5, installerDelay: TimeSpan.FromSeconds(4));
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("node-down", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        var jobId = await lp.StartJobOkAsync(id, "install");
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "master-4") == "Running the installer", seconds: 30);

        await nodes[3].StopSshAsync(); // sshd and every session it started

        var job = await lp.WaitAsync(jobId);
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Equal("failed", LabPanel.NodeState(job, "master-4"));
        Assert.NotEqual("", LabPanel.NodeMessage(job, "master-4"));
        foreach (var name in new[] { "master-1", "master-2", "master-3" }) Assert.Equal("succeeded", LabPanel.NodeState(job, name));
    }

    [Fact]
    public async Task PanelRestartedMidInstall_JobMarkedInterrupted_RetryFinishesIt()
    {
        await using var lp = await LabPanel.StartAsync(5, installerDelay: TimeSpan.FromSeconds(4));
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("restarted", "3.8.0", nodes.Take(4).ToList(), nodes.Skip(4).ToList()));
        var jobId = await lp.StartJobOkAsync(id, "install");
        await lp.WaitAsync(jobId, j => LabPanel.NodeMessage(j, "master-1") == "Running the installer", seconds: 30);

        lp.RestartPanel();

        var job = await lp.JobAsync(jobId);
        Assert.Equal("interrupted", job["state"]!.GetValue<string>());
        Assert.All(job["nodes"]!.AsArray(), n => Assert.NotEqual("running", n!["state"]!.GetValue<string>()));
        Assert.Contains("Interrupted while running", LabPanel.NodeMessage(job, "master-1"), StringComparison.Ordinal);

        var retry = await lp.Api.PostAsync($"/api/jobs/{jobId}/retry", null);
        Assert.Equal(HttpStatusCode.Accepted, retry.StatusCode);
        var second = await lp.WaitAsync((await retry.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>());
        Assert.Equal("succeeded", second["state"]!.GetValue<string>());
        Assert.All(nodes, n => Assert.True(n.ServiceActive));
        // Hangfire got the interrupted job back after the restart: it must not have run again on its own.
        Assert.Equal("interrupted", (await lp.JobAsync(jobId))["state"]!.GetValue<string>());
    }
}
