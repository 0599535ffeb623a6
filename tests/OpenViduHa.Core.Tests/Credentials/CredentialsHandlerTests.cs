using System.Text.Json;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Credentials;

/// <summary>
/// check-credentials and distribute-credentials through the real runner and handler on <see cref="LocalNode"/>s: config
/// files as the installer leaves them, read back as root, compared without showing values, replaced atomically with a
/// backup. The same over real SSH: OpenViduHa.Install.Tests.
/// </summary>
public sealed class CredentialsHandlerTests
{
    /// <summary>Every node's config files as the installer writes them, with the cluster's values and a few other lines.</summary>
    private static async Task<LocalCluster> InstalledWithConfigAsync()
    {
        var cluster = await LocalCluster.StartAsync();
        await cluster.MarkInstalledAsync();
        foreach (var node in cluster.Nodes)
        {
            foreach (var file in CredentialLayout.For(cluster.Definition, node.Definition).GroupBy(e => e.File))
                node.Write(file.Key, "# written by the installer\nOTHER_SETTING=kept\n" + string.Concat(file.Select(e => $"{e.Key}={e.Expected}\n")), (UnixFileMode)0b110_000_000);
        }
        return cluster;
    }

    private static string Secret(LocalCluster cluster, string key) => cluster.Definition.Secret(key);

    [Fact]
    public async Task Check_EveryValueEqual_EveryNodeSucceeded()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.CheckCredentials);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Equal("All 11 values equal the cluster's", result.NodeMessage("master-1"));
        Assert.Equal("All 9 values equal the cluster's", result.NodeMessage("media-1"));
        var details = JsonSerializer.Deserialize<List<CredentialComparison>>(result.Node("media-1").Details!, JobContext.JsonOptions)!;
        Assert.Equal(9, details.Count);
        Assert.All(details, d => Assert.Equal(CredentialStatus.Equal, d.Status));
        Assert.All(cluster.Nodes, n => Assert.Empty(n.SystemctlCalls));
    }

    [Fact]
    public async Task Check_DifferentAndMissingValues_NamedButNeverShown()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();
        var node = cluster.Node("master-2");
        node.Write(CredentialLayout.V30Env, node.Read(CredentialLayout.V30Env)!
            .Replace($"REDIS_PASSWORD={Secret(cluster, SecretCatalog.RedisPassword)}", "REDIS_PASSWORD=SomeOldRedisPassword", StringComparison.Ordinal)
            .Replace($"MINIO_SECRET_KEY={Secret(cluster, SecretCatalog.MinioSecretKey)}\n", "", StringComparison.Ordinal));

        // Act
        var result = await cluster.RunAsync(JobKind.CheckCredentials);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal("2 of 11 differ or are missing: REDIS_PASSWORD, MINIO_SECRET_KEY", result.NodeMessage("master-2"));
        Assert.Equal(["REDIS_PASSWORD in /opt/openvidu/.env: different", "MINIO_SECRET_KEY in /opt/openvidu/.env: missing"], result.Lines("master-2"));
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("master-1"));
        Assert.DoesNotContain(result.Log, l => l.Text.Contains("SomeOldRedisPassword", StringComparison.Ordinal));
        Assert.DoesNotContain("SomeOldRedisPassword", result.Node("master-2").Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_FileMissing_EveryValueMissing()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();
        File.Delete(cluster.Node("media-1").HostPath(CredentialLayout.V30Env));

        // Act
        var result = await cluster.RunAsync(JobKind.CheckCredentials);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.StartsWith("9 of 9 differ or are missing: DOMAIN_OR_PUBLIC_IP, OPENVIDU_PRO_LICENSE", result.NodeMessage("media-1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_FileUnreadable_NodeFailed()
    {
        // Arrange: a folder where the file should be: cat fails.
        await using var cluster = await InstalledWithConfigAsync();
        File.Delete(cluster.Node("media-1").HostPath(CredentialLayout.V30Env));
        Directory.CreateDirectory(cluster.Node("media-1").HostPath(CredentialLayout.V30Env));

        // Act
        var result = await cluster.RunAsync(JobKind.CheckCredentials);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.StartsWith("9 of 9", result.NodeMessage("media-1"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Check_NodeUnreachable_FailedWithTheSshReason()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();
        cluster.Fail("master-4", SshFailureKind.ConnectionRefused);

        // Act
        var result = await cluster.RunAsync(JobKind.CheckCredentials);

        // Assert
        Assert.StartsWith($"127.0.0.1:{cluster.Node("master-4").Port} refused the connection", result.NodeMessage("master-4"), StringComparison.Ordinal);
        Assert.Equal(NodeJobState.Succeeded, result.NodeState("master-3"));
    }

    [Theory]
    [InlineData(new[] { "master-3" }, "master-3 (HTTP 502) is not.")]
    [InlineData(new[] { "master-2", "master-4" }, "master-2 (HTTP 502), master-4 (HTTP 502) are not.")]
    public async Task Distribute_AMasterUnhealthy_EveryNodeSkippedNothingWrittenNothingRestarted(string[] unhealthy, string ending)
    {
        // Arrange: every file differs, so a write would show.
        await using var cluster = await InstalledWithConfigAsync();
        foreach (var node in cluster.Nodes) node.Write(CredentialLayout.V30Env, "OTHER_SETTING=kept\n", (UnixFileMode)0b110_000_000);
        foreach (var name in unhealthy) cluster.Node(name).HealthAnswers("502");

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        const string start = "Not written: the new values take effect through a rolling restart, which needs every master healthy first, and ";
        Assert.All(result.Job.Nodes, n => Assert.Equal((NodeJobState.Skipped, start + ending), (n.State, n.Message)));
        Assert.NotEqual(JobState.Succeeded, result.State);
        Assert.All(cluster.Nodes, n => Assert.Equal("OTHER_SETTING=kept\n", n.Read(CredentialLayout.V30Env)));
        Assert.All(cluster.Nodes, n => Assert.Empty(n.SystemctlCalls));
    }

    [Fact]
    public async Task Distribute_ChangedValues_ReplacedWithABackupThenRollingRestart()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();
        var node = cluster.Node("media-1");
        var old = node.Read(CredentialLayout.V30Env)!.Replace($"REDIS_PASSWORD={Secret(cluster, SecretCatalog.RedisPassword)}", "REDIS_PASSWORD=\"SomeOldRedisPassword\"", StringComparison.Ordinal);
        node.Write(CredentialLayout.V30Env, old, (UnixFileMode)0b110_100_100);

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        var written = node.Read(CredentialLayout.V30Env)!;
        Assert.Equal(EnvFile.Update(old, CredentialLayout.For(cluster.Definition, node.Definition).Select(e => KeyValuePair.Create(e.Key, e.Expected))), written);
        Assert.Contains("OTHER_SETTING=kept\n", written, StringComparison.Ordinal);
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(node.HostPath(CredentialLayout.V30Env)));
        var backup = Assert.Single(node.List("/opt/openvidu"), e => e.StartsWith(".env.bak-", StringComparison.Ordinal));
        Assert.Matches("^\\.env\\.bak-[0-9]{14}$", backup);
        Assert.Equal(old, node.Read($"/opt/openvidu/{backup}"));
        Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(node.HostPath($"/opt/openvidu/{backup}")));
        Assert.DoesNotContain(node.List("/opt/openvidu"), e => e.EndsWith(".ovha-new", StringComparison.Ordinal));
        Assert.Empty(node.List("/run/ovha-panel"));
        Assert.Contains($"/opt/openvidu/.env: updated (backup /opt/openvidu/{backup})", result.Lines("media-1"));
        Assert.Equal("Credentials written and node restarted", result.NodeMessage("media-1"));
        Assert.Equal(["master-1 systemctl restart", "master-2 systemctl restart", "master-3 systemctl restart", "master-4 systemctl restart",
            "media-1 systemctl restart"], cluster.SystemctlOrder);
        Assert.All(cluster.Nodes.SelectMany(n => n.Commands), c => Assert.DoesNotContain(Secret(cluster, SecretCatalog.RedisPassword), c, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Distribute_AlreadyEqual_LeftAsIsButRestarted()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        Assert.Contains("/opt/openvidu/.env: already equal, left as is", result.Lines("master-1"));
        Assert.DoesNotContain(cluster.Node("master-1").List("/opt/openvidu"), e => e.StartsWith(".env.bak-", StringComparison.Ordinal));
        Assert.Contains("Rolling restart so every node reads its new values: masters one at a time, then media nodes.", result.Lines(null));
        Assert.Equal(5, cluster.SystemctlOrder.Count);
    }

    /// <summary>
    /// One node cannot take the new files: no node restarts, and the nodes that took theirs get the previous files back,
    /// so the cluster runs on one set of values, on disk as in memory (never half rotated).
    /// </summary>
    [Fact]
    public async Task Distribute_FileMissingOnANode_NothingRestarted_NodesThatTookThemRestored()
    {
        // Arrange: master-1 and master-3 hold an old Redis password (they will take the new one); media-1 has no file at all.
        await using var cluster = await InstalledWithConfigAsync();
        var before = new Dictionary<string, string>();
        foreach (var name in new[] { "master-1", "master-3" })
        {
            var node = cluster.Node(name);
            before[name] = node.Read(CredentialLayout.V30Env)!.Replace($"REDIS_PASSWORD={Secret(cluster, SecretCatalog.RedisPassword)}", "REDIS_PASSWORD=OldRedisPassword1", StringComparison.Ordinal);
            node.Write(CredentialLayout.V30Env, before[name], (UnixFileMode)0b110_000_000);
        }
        File.Delete(cluster.Node("media-1").HostPath(CredentialLayout.V30Env));

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.Equal((NodeJobState.Failed, "/opt/openvidu/.env does not exist on media-1: is the node installed? Reinstall it instead."),
            (result.NodeState("media-1"), result.NodeMessage("media-1")));
        Assert.Contains("media-1 could not take the new files: no node is restarted, and the nodes that took them get their previous files back.", result.Lines(null));
        foreach (var name in new[] { "master-1", "master-3" })
        {
            Assert.Equal((NodeJobState.Skipped, "Previous files restored, not restarted: media-1 could not take the new files."), (result.NodeState(name), result.NodeMessage(name)));
            Assert.Equal(before[name], cluster.Node(name).Read(CredentialLayout.V30Env));
            Assert.Equal((UnixFileMode)0b110_000_000, File.GetUnixFileMode(cluster.Node(name).HostPath(CredentialLayout.V30Env)));
            Assert.Contains(result.Lines(name), l => l.StartsWith("/opt/openvidu/.env: previous file restored from /opt/openvidu/.env.bak-", StringComparison.Ordinal));
        }
        Assert.Equal((NodeJobState.Skipped, "Not restarted: media-1 could not take the new files (this node's were already equal)."),
            (result.NodeState("master-2"), result.NodeMessage("master-2")));
        Assert.Empty(cluster.SystemctlOrder);
        Assert.DoesNotContain(result.Log, l => l.Text.StartsWith("Rolling restart", StringComparison.Ordinal));
    }

    /// <summary>Each write keeps a backup, and only the newest three of a file stay: rotations never fill a node's disk with secrets.</summary>
    [Fact]
    public async Task Distribute_ManyRotations_OnlyTheLastThreeBackupsKept()
    {
        // Arrange: four backups of earlier rotations, and a value that differs so a new one is made.
        await using var cluster = await InstalledWithConfigAsync();
        var node = cluster.Node("media-1");
        foreach (var stamp in new[] { "20250101000000", "20250201000000", "20250301000000", "20250401000000" })
            node.Write($"/opt/openvidu/.env.bak-{stamp}", $"from {stamp}\n", (UnixFileMode)0b110_000_000);
        node.Write(CredentialLayout.V30Env, node.Read(CredentialLayout.V30Env)!.Replace("REDIS_PASSWORD=", "REDIS_PASSWORD=x", StringComparison.Ordinal));

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.True(result.State == JobState.Succeeded, result.ToString());
        var backups = node.List("/opt/openvidu").Where(e => e.StartsWith(".env.bak-", StringComparison.Ordinal)).Order(StringComparer.Ordinal).ToList();
        Assert.Equal(CredentialsHandler.BackupsKept, backups.Count);
        Assert.Equal([".env.bak-20250301000000", ".env.bak-20250401000000"], backups.Take(2));
        Assert.Matches("^\\.env\\.bak-20[0-9]{12}$", backups[2]);
        Assert.DoesNotContain(".env.bak-20250101000000", backups);
    }

    [Fact]
    public async Task Distribute_ReplaceFails_NodeFailedOldFileKept()
    {
        // Arrange: a folder holds the name the new file is staged under, so the rename over the old file fails (set -e).
        await using var cluster = await InstalledWithConfigAsync();
        var node = cluster.Node("media-1");
        var old = node.Read(CredentialLayout.V30Env)!.Replace("REDIS_PASSWORD=", "REDIS_PASSWORD=x", StringComparison.Ordinal);
        node.Write(CredentialLayout.V30Env, old);
        Directory.CreateDirectory(node.HostPath("/opt/openvidu/..env.ovha-new"));

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.Equal(NodeJobState.Failed, result.NodeState("media-1"));
        Assert.StartsWith("Replacing /opt/openvidu/.env failed: ", result.NodeMessage("media-1"), StringComparison.Ordinal);
        Assert.Equal(old, node.Read(CredentialLayout.V30Env));
        Assert.Empty(node.List("/run/ovha-panel"));
    }

    [Fact]
    public async Task Distribute_FileUnreadable_NodeFailedWithTheReadError()
    {
        // Arrange: the file is there but cat fails (a failing disk), stood in for by a failing cat first on PATH.
        await using var cluster = await InstalledWithConfigAsync();
        cluster.Node("media-1").Write($"{LocalNode.StubDirectory}/bin/cat", "#!/bin/bash\necho \"cat: $1: Input/output error\" >&2\nexit 1\n", (UnixFileMode)0b111_101_101);

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.Equal((NodeJobState.Failed, "Reading /opt/openvidu/.env failed: cat: /opt/openvidu/.env: Input/output error"),
            (result.NodeState("media-1"), result.NodeMessage("media-1")));
        Assert.Empty(cluster.Node("media-1").SystemctlCalls);
    }

    [Fact]
    public async Task Distribute_NoNodeWritten_NoRestart()
    {
        // Arrange
        await using var cluster = await InstalledWithConfigAsync();
        foreach (var node in cluster.Nodes) cluster.Fail(node.Name, SshFailureKind.ConnectionRefused);

        // Act
        var result = await cluster.RunAsync(JobKind.DistributeCredentials);

        // Assert
        Assert.Equal(JobState.Failed, result.State);
        Assert.DoesNotContain(result.Log, l => l.Text.StartsWith("Rolling restart", StringComparison.Ordinal));
        Assert.Empty(cluster.SystemctlOrder);
    }
}
