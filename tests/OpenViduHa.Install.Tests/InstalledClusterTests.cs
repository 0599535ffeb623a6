using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

/// <summary>One installed 3.8.0 cluster (4 masters, 1 media node) for the tests of <see cref="InstalledClusterTests"/>.</summary>
public sealed class InstalledClusterFixture : IAsyncLifetime
{
    public LabPanel Lp { get; private set; } = null!;
    public int ClusterId { get; private set; }

    public async Task InitializeAsync()
    {
        Lp = await LabPanel.StartAsync(5);
        var nodes = Lp.Lab.Nodes;
        ClusterId = await Lp.CreateAsync(Lp.Spec("installed", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        Assert.Equal("succeeded", (await Lp.RunJobAsync(ClusterId, "install"))["state"]!.GetValue<string>());
    }

    public async Task DisposeAsync() => await Lp.DisposeAsync();
}

/// <summary>
/// Service control and credential distribution on an installed cluster: never a second master down (rolling restart,
/// distribute-credentials, restart and stop of one master, while another is down), and config files replaced whole.
/// Each test starts with every service running, and leaves the cluster installed.
/// </summary>
public sealed class InstalledClusterTests(InstalledClusterFixture fixture) : IClassFixture<InstalledClusterFixture>, IAsyncLifetime
{
    private LabPanel Lp => fixture.Lp;
    private int Id => fixture.ClusterId;
    private IReadOnlyList<LabNode> Nodes => Lp.Lab.Nodes;

    public async Task InitializeAsync()
    {
        foreach (var node in Nodes.Where(n => !n.ServiceActive))
            Assert.Equal(0, (await node.RunAsRootAsync("systemctl start openvidu")).ExitCode);
    }

    public Task DisposeAsync() => Task.CompletedTask;

    [Theory]
    [InlineData("rolling-restart")]
    [InlineData("distribute-credentials")]
    public async Task RollingRestartOrDistribute_OneMasterDown_EveryNodeSkippedNamingIt_NoneRestarted(string kind)
    {
        // Arrange: master-2 stopped by hand.
        Assert.Equal(0, (await Nodes[1].RunAsRootAsync("systemctl stop openvidu")).ExitCode);
        var started = StartTimes();
        var inodes = await ConfigInodesAsync();

        // Act
        var job = await Lp.RunJobAsync(Id, kind);

        // Assert: a rolling restart needs the other three masters healthy before master-1 goes down; a distribution needs
        // every master healthy before it writes (its rolling restart could not apply the values). Nothing is restarted,
        // nothing is written.
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        foreach (var name in new[] { "master-1", "master-2", "master-3", "master-4", "media-1" })
        {
            Assert.Equal("skipped", LabPanel.NodeState(job, name));
            var message = LabPanel.NodeMessage(job, name);
            Assert.StartsWith(kind == "rolling-restart" ? "Not restarted: Not taking master-1 down" : "Not written: the new values take effect through a rolling restart",
                message, StringComparison.Ordinal);
            Assert.Contains("master-2 (HTTP no answer)", message, StringComparison.Ordinal);
        }
        Assert.Equal(started, StartTimes());
        Assert.Equal(inodes, await ConfigInodesAsync());
        Assert.False(Nodes[1].ServiceActive);
    }

    [Theory]
    [InlineData("restart", "master-3")]
    [InlineData("stop", "master-1")]
    public async Task RestartOrStopOfAMaster_AnotherMasterDown_RefusedWithTheReason_NodeUntouched(string kind, string target)
    {
        // Arrange
        Assert.Equal(0, (await Nodes[1].RunAsRootAsync("systemctl stop openvidu")).ExitCode);
        var node = Nodes[int.Parse(target[^1..], System.Globalization.CultureInfo.InvariantCulture) - 1];
        var started = node.ServiceStartedAt;

        // Act
        var job = await Lp.RunJobAsync(Id, kind, await Lp.NodeIdAsync(Id, target));

        // Assert
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Equal($"Not taking {target} down: the other masters must be healthy first, and master-2 (HTTP no answer) are not. A second master down affects the cluster.",
            job["message"]!.GetValue<string>());
        Assert.Equal("failed", LabPanel.NodeState(job, target));
        Assert.Contains("master-2", LabPanel.NodeMessage(job, target), StringComparison.Ordinal);
        Assert.NotNull(started);
        Assert.Equal(started, node.ServiceStartedAt); // still running, never stopped nor restarted
    }

    [Fact]
    public async Task DistributeCredentials_ValuesChangedByHand_FilesReplacedByRename_Mode0600_BackupKept_NothingStagedLeft()
    {
        // Arrange: a value edited by hand on a master and on the media node (in place: the files keep their inodes).
        var edits = new[] { (Node: Nodes[0], File: CredentialLayout.ClusterEnv, Key: "LIVEKIT_API_SECRET"), (Node: Nodes[4], File: CredentialLayout.MediaNodeEnv, Key: "REDIS_PASSWORD") };
        var before = new List<(string Line, string Inode)>();
        foreach (var (node, file, key) in edits)
        {
            var content = node.ReadFile(file)!;
            var line = content.Split('\n').Single(l => l.StartsWith(key + "=", StringComparison.Ordinal));
            node.WriteFile(file, content.Replace(line, $"{key}=EditedByHand123", StringComparison.Ordinal));
            before.Add((line, (await StatAsync(node, file)).Inode));
        }

        // Act
        var job = await Lp.RunJobAsync(Id, "distribute-credentials");

        // Assert
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        foreach (var ((node, file, _), (line, inode)) in edits.Zip(before))
        {
            var after = await StatAsync(node, file);
            Assert.NotEqual(inode, after.Inode);                 // a new file renamed over the old one, not a rewrite in place
            Assert.Equal(("600", "root:root"), (after.Mode, after.Owner));
            Assert.Contains(line + "\n", node.ReadFile(file), StringComparison.Ordinal);
            var backups = Directory.GetFiles(Path.GetDirectoryName(node.HostPath(file))!, Path.GetFileName(file) + ".bak-*");
            var backup = Assert.Single(backups);
            Assert.Contains("=EditedByHand123\n", File.ReadAllText(backup), StringComparison.Ordinal);
            Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(backup));
        }
        foreach (var node in Nodes)
        {
            Assert.Empty(Directory.GetFiles(node.HostPath("/opt/openvidu"), "*.ovha-new", SearchOption.AllDirectories));
            Assert.Empty(Entries(node, PrivateFiles.Directory));
            Assert.DoesNotContain(Entries(node, "/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
        }
    }

    private List<DateTimeOffset?> StartTimes() => Nodes.Select(n => n.ServiceStartedAt).ToList();

    /// <summary>The inode of each node's own config file: a distribution that wrote anything would have replaced it.</summary>
    private async Task<List<string>> ConfigInodesAsync()
    {
        var inodes = new List<string>();
        foreach (var (node, i) in Nodes.Select((n, i) => (n, i)))
            inodes.Add((await StatAsync(node, i < 4 ? CredentialLayout.MasterNodeEnv : CredentialLayout.MediaNodeEnv)).Inode);
        return inodes;
    }

    private static async Task<(string Inode, string Mode, string Owner)> StatAsync(LabNode node, string file)
    {
        var result = await node.RunAsRootAsync($"stat -c '%i %a %U:%G' {file}");
        Assert.True(result.ExitCode == 0, result.Error);
        var fields = result.Output.Trim().Split(' ');
        return (fields[0], fields[1], fields[2]);
    }

    private static List<string> Entries(LabNode node, string directory)
    {
        var path = node.HostPath(directory);
        return Directory.Exists(path) ? Directory.EnumerateFileSystemEntries(path).Select(Path.GetFileName).OfType<string>().ToList() : [];
    }
}
