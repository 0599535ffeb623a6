using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Install;

/// <summary>
/// install, add-node and reinstall-node through the real runner, handler, NodeOps and PrivateFiles, the commands run by
/// real bash on <see cref="LocalNode"/>s (stand-in installer, systemctl and curl). The same flows over real SSH against
/// the lab: OpenViduHa.Install.Tests.
/// </summary>
public sealed class InstallHandlerTests
{
    private static void AssertNoSecretOnACommandLine(LocalCluster cluster)
    {
        var secrets = cluster.Definition.Secrets.Where(s => s.Value.Length >= 8).Select(s => s.Value).Append(cluster.Definition.LicenseKey).ToList();
        foreach (var node in cluster.Nodes)
            foreach (var command in node.Commands)
                Assert.DoesNotContain(secrets, s => command.Contains(s, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Install_EveryNodeHealthy_InstalledStartedAndNothingLeftBehind()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.All(result.Job.Nodes, n => Assert.Equal((NodeJobState.Succeeded, "Installed, started and healthy"), (n.State, n.Message)));
        Assert.All(await cluster.Db.NodesAsync(cluster.ClusterId), n => Assert.NotNull(n.InstalledAt));
        foreach (var node in cluster.Nodes)
        {
            Assert.Equal(["start"], node.SystemctlCalls);
            Assert.Equal("active", node.Service);
            Assert.Contains($"--node-role={(node.Definition.Role == NodeRole.Master ? "master" : "media")}-node", node.InstallerArguments!);
            Assert.Contains("--master-node-private-ip-list=10.5.0.1,10.5.0.2,10.5.0.3,10.5.0.4", node.InstallerArguments!);
            Assert.Empty(node.List("/run/ovha-panel"));
            Assert.DoesNotContain(node.List("/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
        }
        AssertNoSecretOnACommandLine(cluster);
    }

    [Fact]
    public async Task Install_Log_ShowsTheInstallerRunItsOutputAndHealth()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        var lines = result.Lines("master-2").ToList();
        Assert.Matches("^Running the OpenVidu 3.0.0 master installer through /run/ovha-panel/j[0-9]+-[a-z0-9]{12}-install.sh \\(root-only: it holds the cluster's secrets\\)$", lines[0]);
        Assert.Contains("Pulling images", lines);
        Assert.Contains(InstallHandler.MasterBanner, lines);
        Assert.Equal("Healthy (HTTP 200)", lines[^1]);
        Assert.StartsWith("Running the OpenVidu 3.0.0 media installer", result.Lines("media-1").First(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_TwoMastersFail_MediaNodesSkippedNotInstalled()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("master-1").InstallerBehaves("Error: docker is not installed\n", 3);
        cluster.Node("master-4").InstallerBehaves("Error: no space left\n", 1);

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal("Failed on master-1, master-4, media-1.", result.Job.Message);
        Assert.Equal((NodeJobState.Failed, "The installer failed (exit 3): Error: docker is not installed"), (result.NodeState("master-1"), result.NodeMessage("master-1")));
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("master-2"));
        Assert.Equal((NodeJobState.Skipped, "Not installed: only 2 of 4 masters are up, media nodes need at least 3. Retry after fixing the masters."),
            (result.NodeState("media-1"), result.NodeMessage("media-1")));
        Assert.Null(cluster.Node("media-1").InstallerArguments);
        Assert.Empty(cluster.Node("master-1").SystemctlCalls);
        var rows = (await cluster.Db.NodesAsync(cluster.ClusterId)).ToDictionary(n => n.Name);
        Assert.Null(rows["master-1"].InstalledAt);
        Assert.NotNull(rows["master-2"].InstalledAt);
    }

    /// <summary>Every way a master can fail counts against the media nodes' quorum, not only a failed installer.</summary>
    [Theory]
    [InlineData("no banner")]
    [InlineData("unhealthy")]
    [InlineData("not started")]
    [InlineData("unreachable")]
    public async Task Install_TwoMastersFailAfterTheInstaller_MediaNodesSkipped(string how)
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        foreach (var name in new[] { "master-2", "master-3" })
        {
            var node = cluster.Node(name);
            switch (how)
            {
                case "no banner": node.InstallerBehaves("Pulling images\nDone\n", 0); break;
                case "unhealthy": node.HealthAnswers("503"); break;
                case "not started": node.SystemctlFails(); break;
                default: cluster.Fail(name, SshFailureKind.ConnectionRefused); break;
            }
        }

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal(NodeJobState.Failed, result.NodeState("master-2"));
        Assert.Equal(NodeJobState.Failed, result.NodeState("master-3"));
        Assert.Equal((NodeJobState.Skipped, "Not installed: only 2 of 4 masters are up, media nodes need at least 3. Retry after fixing the masters."),
            (result.NodeState("media-1"), result.NodeMessage("media-1")));
        Assert.Null(cluster.Node("media-1").InstallerArguments);
    }

    [Fact]
    public async Task Install_OneMasterFails_MediaNodesStillInstalled()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("master-3").InstallerBehaves("", 1);

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal("Failed on master-3.", result.Job.Message);
        Assert.StartsWith("The installer failed (exit 1): Installer https://get.openvidu.io/pro/ha/3.0.0/install_ov_master_node.sh, SHA-256 ",
            result.NodeMessage("master-3"), StringComparison.Ordinal);
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("media-1"));
    }

    [Fact]
    public async Task Install_ExitZeroWithoutTheBanner_FailedAndNotMarkedInstalled()
    {
        // Arrange: a mirror's error page that passed as a script.
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("media-1").InstallerBehaves("<html>502 Bad Gateway</html>\n", 0);

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal("The installer exited 0 without its success banner: <html>502 Bad Gateway</html>", result.NodeMessage("media-1"));
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.Empty(cluster.Node("media-1").SystemctlCalls);
        Assert.Null((await cluster.Db.NodesAsync(cluster.ClusterId)).Single(n => n.Name == "media-1").InstalledAt);
    }

    [Fact]
    public async Task Install_MasterBannerOnAMediaNode_NotTakenAsSuccess()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("media-1").InstallerBehaves($"{InstallHandler.MasterBanner}\n", 0);

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.StartsWith("The installer exited 0 without its success banner", result.NodeMessage("media-1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Install_StartedButNotHealthy_FailedButMarkedInstalled()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("master-2").HealthAnswers("503");

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal("Installed and started, but http://10.5.0.2:7880/health/caddy did not answer 200 within 1 s after start (last: HTTP 503).", result.NodeMessage("master-2"));
        Assert.Equal(NodeJobState.Failed, result.NodeState("master-2"));
        Assert.NotNull((await cluster.Db.NodesAsync(cluster.ClusterId)).Single(n => n.Name == "master-2").InstalledAt);
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("media-1"));
    }

    [Fact]
    public async Task Install_SystemctlFails_InstalledButNotStarted()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Node("media-1").SystemctlFails();

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.Equal("Installed, but systemctl start openvidu failed: Job for openvidu.service failed because the control process exited with error code.",
            result.NodeMessage("media-1"));
    }

    [Fact]
    public async Task Install_NodeUnreachable_FailedWithTheSshReasonOthersGoOn()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        cluster.Fail("master-4", SshFailureKind.ConnectionRefused);

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        var port = cluster.Node("master-4").Port;
        var refused = $"127.0.0.1:{port} refused the connection: is sshd running and listening on port {port}, and does a firewall allow it?";
        Assert.Equal((NodeJobState.Failed, refused), (result.NodeState("master-4"), result.NodeMessage("master-4")));
        Assert.Contains(refused, result.Lines("master-4"));
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("media-1"));
    }

    [Fact]
    public async Task Install_HostKeyChanged_RefusedAndThePresentedKeyRecorded()
    {
        // Arrange: master-2's pin is not the key it presents.
        await using var cluster = await LocalCluster.StartAsync();
        await using (var db = cluster.Db.Open())
        {
            var row = await db.Nodes.SingleAsync(n => n.ClusterId == cluster.ClusterId && n.Name == "master-2");
            row.HostKeyFingerprint = PanelDatabase.Fingerprint("the old machine");
            await db.SaveChangesAsync();
        }

        // Act
        var result = await cluster.RunAsync(JobKind.Install);

        // Assert
        Assert.StartsWith($"Host key mismatch for 127.0.0.1:{cluster.Node("master-2").Port}", result.NodeMessage("master-2"), StringComparison.Ordinal);
        Assert.Null(cluster.Node("master-2").InstallerArguments);
        var stored = (await cluster.Db.NodesAsync(cluster.ClusterId)).Single(n => n.Name == "master-2");
        Assert.Equal(cluster.Node("master-2").HostKeyFingerprint, stored.PresentedHostKeyFingerprint);
        Assert.Equal(PanelDatabase.Fingerprint("the old machine"), stored.HostKeyFingerprint);
    }

    [Fact]
    public async Task Install_RetryOfTheMediaNodes_CountsTheMastersInstalledBefore()
    {
        // Arrange: the masters were installed by an earlier job; this one retries media-1 only.
        await using var cluster = await LocalCluster.StartAsync(media: 2);
        await cluster.Db.SetInstalledAsync(cluster.ClusterId, n => n.Role == NodeRole.Master);

        // Act
        var result = await cluster.RunAsync(JobKind.Install, only: ["media-1"]);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal("media-1", Assert.Single(result.Job.Nodes).NodeName);
        Assert.All(cluster.Masters, m => Assert.Null(m.InstallerArguments));
        Assert.Null(cluster.Node("media-2").InstallerArguments);
    }

    [Fact]
    public async Task Install_RetryOfTheMediaNodesWithTwoMastersInstalled_SkippedNotInstalled()
    {
        // Arrange: a media-only retry while two masters never installed: the media nodes would join no cluster.
        await using var cluster = await LocalCluster.StartAsync(media: 2);
        await cluster.Db.SetInstalledAsync(cluster.ClusterId, n => n.Name is "master-1" or "master-2");

        // Act
        var result = await cluster.RunAsync(JobKind.Install, only: ["media-1"]);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal(NodeJobState.Skipped, result.NodeState("media-1"));
        Assert.Equal("Not installed: only 2 of 4 masters are up, media nodes need at least 3. Retry after fixing the masters.", result.NodeMessage("media-1"));
        Assert.Null(cluster.Node("media-1").InstallerArguments);
    }

    [Fact]
    public async Task Install_RetryOfOneMasterAndTheMedia_NeedsThreeMastersCountingEarlierOnes()
    {
        // Arrange: only master-1 was installed before; master-2 is retried and fails again: 1 + 0 masters up.
        await using var cluster = await LocalCluster.StartAsync();
        await cluster.Db.SetInstalledAsync(cluster.ClusterId, n => n.Name == "master-1");
        cluster.Node("master-2").InstallerBehaves("still broken\n", 1);

        // Act
        var result = await cluster.RunAsync(JobKind.Install, only: ["master-2", "media-1"]);

        // Assert
        Assert.Equal("Not installed: only 1 of 4 masters are up, media nodes need at least 3. Retry after fixing the masters.", result.NodeMessage("media-1"));
    }

    [Fact]
    public async Task Install_RetryOfOneMasterWithThreeInstalledBefore_MediaGoesOn()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        await cluster.Db.SetInstalledAsync(cluster.ClusterId, n => n.Role == NodeRole.Master && n.Name != "master-4");
        cluster.Node("master-4").InstallerBehaves("still broken\n", 1);

        // Act
        var result = await cluster.RunAsync(JobKind.Install, only: ["master-4", "media-1"]);

        // Assert
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("media-1"));
    }

    [Fact]
    public async Task AddNode_Media_InstalledAndStarted()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync(media: 2);
        await cluster.Db.SetInstalledAsync(cluster.ClusterId, n => n.Name != "media-2");

        // Act
        var result = await cluster.RunAsync(JobKind.AddNode, target: "media-2");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal(["start"], cluster.Node("media-2").SystemctlCalls);
        Assert.Null(cluster.Node("media-1").InstallerArguments);
    }

    [Fact]
    public async Task ReinstallNode_MasterWhileTheOthersAreHealthy_ReinstalledAndRestarted()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        await cluster.MarkInstalledAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.ReinstallNode, target: "master-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal(["restart"], cluster.Node("master-1").SystemctlCalls);
        Assert.NotNull(cluster.Node("master-1").InstallerArguments);
        Assert.Null(cluster.Node("master-2").InstallerArguments);
    }

    [Fact]
    public async Task ReinstallNode_MasterWhileAnotherIsDown_RefusedBeforeTouchingIt()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        await cluster.MarkInstalledAsync();
        cluster.Node("master-3").Service = "inactive";

        // Act
        var result = await cluster.RunAsync(JobKind.ReinstallNode, target: "master-1");

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal("Not taking master-1 down: the other masters must be healthy first, and master-3 (HTTP no answer) are not. A second master down affects the cluster.",
            result.Job.Message);
        Assert.Null(cluster.Node("master-1").InstallerArguments);
        Assert.Equal(NodeJobState.Failed, result.NodeState("master-1"));
    }

    [Fact]
    public async Task ReinstallNode_Media_NeedsNoMasterCheck()
    {
        // Arrange: every master down; reinstalling a media node does not take a master down.
        await using var cluster = await LocalCluster.StartAsync();
        await cluster.MarkInstalledAsync();
        foreach (var master in cluster.Masters) master.Service = "inactive";

        // Act
        var result = await cluster.RunAsync(JobKind.ReinstallNode, target: "media-1");

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.All(cluster.Masters, m => Assert.Empty(m.Commands));
    }

    [Fact]
    public async Task Install_CancelledWhileTheInstallersRun_NodesCancelledPrivateFilesRemoved()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        foreach (var master in cluster.Masters) master.InstallerWaits();
        var jobId = await cluster.QueueAsync(JobKind.Install);
        var running = cluster.Runner().RunAsync(jobId, CancellationToken.None);
        using (var patience = new CancellationTokenSource(TimeSpan.FromMinutes(1)))
            while (!cluster.Masters.All(m => m.InstallerStarted)) await Task.Delay(20, patience.Token);

        // Act
        cluster.Cancellations.Cancel(jobId);
        await running.WaitAsync(TimeSpan.FromMinutes(1));

        // Assert
        var result = await cluster.ResultAsync(jobId);
        Assert.Equal(JobState.Cancelled, result.State);
        Assert.All(cluster.Masters, m => Assert.Equal((NodeJobState.Cancelled, "Cancelled"), (result.NodeState(m.Name), result.NodeMessage(m.Name))));
        Assert.Equal((NodeJobState.Cancelled, "Cancelled."), (result.NodeState("media-1"), result.NodeMessage("media-1")));
        Assert.All(cluster.Masters, m => Assert.Empty(m.List("/run/ovha-panel")));
        Assert.Null(cluster.Node("media-1").InstallerArguments);
    }
}
