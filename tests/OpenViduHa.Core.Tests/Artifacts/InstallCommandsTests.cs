using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class InstallCommandsTests
{
    private static readonly string _masterList = string.Join(',', TestClusters.MasterIps);
    private static string Fake(string key) => TestClusters.FakeSecret(key);

    [Fact]
    public async Task Script_NoArgument_ExitsTwoAndListsNodesWithPrivateIps()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.8.0"));

        // Act
        var result = await RunWithStubsAsync(content);

        // Assert
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Usage:", result.StdErr);
        Assert.Contains("master-1  10.5.0.1", result.StdErr);
        Assert.Contains("master-4  10.5.0.4", result.StdErr);
        Assert.Contains("media-2  10.5.0.12", result.StdErr);
        Assert.DoesNotContain("installer:", result.StdOut);
    }

    [Fact]
    public async Task Script_UnknownNode_ExitsTwoWithoutInstalling()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.0.0"));

        // Act
        var result = await RunWithStubsAsync(content, "media-9");

        // Assert
        Assert.Equal(2, result.ExitCode);
        Assert.Contains("Unknown node: media-9", result.StdErr);
        Assert.DoesNotContain("installer:", result.StdOut);
    }

    [Fact]
    public async Task Script_V30Media1_PassesTheReferenceMediaFlagsToTheMediaInstaller()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.0.0"));
        string[] expected =
        [
            "--no-tty", "--install", "--deployment-type=ha",
            "--node-role=media-node",
            "--domain-name-or-ip=openvidu.example.io",
            $"--master-node-private-ip-list={_masterList}",
            $"--openvidu-pro-license={TestClusters.License}",
            "--rtc-engine=pion",
            "--enabled-modules=observability,v2compatibility,app",
            "--turn-domain-name=turn.example.io",
            "--livekit-api-key=APIFakeKey0001",
            $"--livekit-api-secret={Fake(SecretCatalog.LivekitApiSecret)}",
            $"--redis-password={Fake(SecretCatalog.RedisPassword)}",
            "--minio-access-key=minioadmin",
            $"--minio-secret-key={Fake(SecretCatalog.MinioSecretKey)}",
            "--mongo-admin-user=mongoadmin",
            $"--mongo-admin-password={Fake(SecretCatalog.MongoAdminPassword)}",
            "--public-ip=203.0.113.11",
        ];

        // Act
        var result = await RunWithStubsAsync(content, "media-1");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("curl -fsSL http://get.openvidu.io/pro/ha/3.0.0/install_ov_media_node.sh", Installer(result));
        Assert.Equal(expected, InstallerArguments(result));
    }

    [Fact]
    public async Task Script_V30Master3_PassesTheReferenceMasterFlagsInTheReferenceOrder()
    {
        // Arrange: the install guide's "Non-interactive installation" master command, flag for flag.
        var content = Generate(TestClusters.Full("3.0.0"));
        string[] expected =
        [
            "--no-tty", "--install", "--deployment-type=ha",
            "--node-role=master-node",
            $"--master-node-private-ip-list={_masterList}",
            $"--openvidu-pro-license={TestClusters.License}",
            "--domain-name-or-ip=openvidu.example.io",
            "--enabled-modules=observability,v2compatibility,app",
            "--turn-domain-name=turn.example.io",
            "--livekit-api-key=APIFakeKey0001",
            $"--livekit-api-secret={Fake(SecretCatalog.LivekitApiSecret)}",
            "--dashboard-admin-user=admin",
            $"--dashboard-admin-password={Fake(SecretCatalog.DashboardAdminPassword)}",
            $"--redis-password={Fake(SecretCatalog.RedisPassword)}",
            "--minio-access-key=minioadmin",
            $"--minio-secret-key={Fake(SecretCatalog.MinioSecretKey)}",
            "--mongo-admin-user=mongoadmin",
            $"--mongo-admin-password={Fake(SecretCatalog.MongoAdminPassword)}",
            $"--mongo-replica-set-key={Fake(SecretCatalog.MongoReplicaSetKey)}",
            "--grafana-admin-user=admin",
            $"--grafana-admin-password={Fake(SecretCatalog.GrafanaAdminPassword)}",
            "--default-app-user=calluser",
            $"--default-app-password={Fake(SecretCatalog.DefaultAppPassword)}",
            "--default-app-admin-user=calladmin",
            $"--default-app-admin-password={Fake(SecretCatalog.DefaultAppAdminPassword)}",
            "--external-load-balancer",
        ];

        // Act
        var result = await RunWithStubsAsync(content, "master-3");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("curl -fsSL http://get.openvidu.io/pro/ha/3.0.0/install_ov_master_node.sh", Installer(result));
        Assert.Equal(expected, InstallerArguments(result));
    }

    [Fact]
    public async Task Script_CurrentMaster1_PassesCurrentGenerationMasterFlags()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.8.0"));
        string[] expected =
        [
            "--no-tty", "--install", "--deployment-type=ha",
            "--node-role=master-node",
            $"--master-node-private-ip-list={_masterList}",
            $"--openvidu-pro-license={TestClusters.License}",
            "--domain-name=openvidu.example.io",
            "--enabled-modules=observability,v2compatibility,openviduMeet",
            "--rtc-engine=pion",
            "--turn-domain-name=turn.example.io",
            "--livekit-api-key=APIFakeKey0001",
            $"--livekit-api-secret={Fake(SecretCatalog.LivekitApiSecret)}",
            "--dashboard-admin-user=admin",
            $"--dashboard-admin-password={Fake(SecretCatalog.DashboardAdminPassword)}",
            $"--redis-password={Fake(SecretCatalog.RedisPassword)}",
            "--minio-access-key=minioadmin",
            $"--minio-secret-key={Fake(SecretCatalog.MinioSecretKey)}",
            "--mongo-admin-user=mongoadmin",
            $"--mongo-admin-password={Fake(SecretCatalog.MongoAdminPassword)}",
            $"--mongo-replica-set-key={Fake(SecretCatalog.MongoReplicaSetKey)}",
            "--grafana-admin-user=admin",
            $"--grafana-admin-password={Fake(SecretCatalog.GrafanaAdminPassword)}",
            $"--meet-initial-admin-password={Fake(SecretCatalog.MeetInitialAdminPassword)}",
            $"--meet-initial-api-key={Fake(SecretCatalog.MeetInitialApiKey)}",
            "--force-media-node-public-ip",
            "--external-load-balancer",
        ];

        // Act
        var result = await RunWithStubsAsync(content, "master-1");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("curl -fsSL http://get.openvidu.io/pro/ha/3.8.0/install_ov_master_node.sh", Installer(result));
        Assert.Equal(expected, InstallerArguments(result));
    }

    [Fact]
    public async Task Script_CurrentMedia2_PassesOnlyMasterListRedisPasswordAndItsIps()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.8.0"));
        string[] expected =
        [
            "--no-tty", "--install", "--deployment-type=ha",
            "--node-role=media-node",
            $"--master-node-private-ip-list={_masterList}",
            $"--redis-password={Fake(SecretCatalog.RedisPassword)}",
            "--private-ip=10.5.0.12",
            "--public-ip=203.0.113.12",
        ];

        // Act
        var result = await RunWithStubsAsync(content, "media-2");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("curl -fsSL http://get.openvidu.io/pro/ha/3.8.0/install_ov_media_node.sh", Installer(result));
        Assert.Equal(expected, InstallerArguments(result));
    }

    [Fact]
    public async Task Script_SecretWithQuotesAndDollars_ReachesTheInstallerUnchanged()
    {
        // Arrange
        const string awkward = "Re'dis $(id) `id` \"x\" $HOME *";
        var cluster = TestClusters.WithSecret(TestClusters.Full("3.8.0"), SecretCatalog.RedisPassword, awkward);

        // Act
        var result = await RunWithStubsAsync(Generate(cluster), "media-1");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"--redis-password={awkward}", InstallerArguments(result));
    }

    [Fact]
    public async Task NodeCommand_RunWithBashC_ReachesTheInstallerLikeTheScript()
    {
        // Arrange: the later install job runs one node's command over SSH with bash -c.
        var cluster = TestClusters.Full("3.0.0");
        var node = cluster.Nodes.Single(n => n.Name == "media-2");
        var command = InstallCommandsArtifact.NodeCommand(cluster, node);

        // Act
        var viaCommand = await RunWithStubsAsync(null, "-c", command);
        var viaScript = await RunWithStubsAsync(Generate(cluster), "media-2");

        // Assert
        Assert.True(viaCommand.ExitCode == 0, viaCommand.ToString());
        Assert.Equal(InstallerArguments(viaScript), InstallerArguments(viaCommand));
        Assert.Contains("--public-ip=203.0.113.12", InstallerArguments(viaCommand));
    }

    [Fact]
    public void NodeCommand_AnyNode_IsTheScriptsCaseBranch()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var script = Generate(cluster);

        foreach (var node in cluster.Nodes)
        {
            // Act
            var command = InstallCommandsArtifact.NodeCommand(cluster, node);

            // Assert
            var indented = string.Join('\n', command.Split('\n').Select(line => "    " + line));
            Assert.Contains($"  '{node.Name}')\n{indented}\n    ;;\n", script);
        }
    }

    [Fact]
    public void NodeCommand_NodeOfAnotherCluster_ThrowsArgumentException()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var stranger = new NodeDefinition("media-7", NodeRole.Media, "10.5.0.17", null);

        // Act + Assert
        Assert.Throws<ArgumentException>(() => InstallCommandsArtifact.NodeCommand(cluster, stranger));
    }

    [Fact]
    public void NodeCommand_CurrentMasterWithoutMediaPublicIps_DoesNotForceMediaNodePublicIp()
    {
        // Arrange
        var withPublic = TestClusters.Full("3.8.0");
        var withoutPublic = withPublic with { Nodes = TestClusters.Nodes(TestClusters.MasterIps, TestClusters.MediaIps, null) };

        // Act
        var forced = MasterCommand(withPublic);
        var notForced = MasterCommand(withoutPublic);

        // Assert
        Assert.Contains("--force-media-node-public-ip", forced);
        Assert.DoesNotContain("--force-media-node-public-ip", notForced);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void NodeCommand_WithoutTurnDomain_OmitsTurnDomainFlag(string version)
    {
        // Act
        var withTurn = MasterCommand(TestClusters.Full(version));
        var withoutTurn = MasterCommand(TestClusters.NoTurn(version));

        // Assert
        Assert.Contains("--turn-domain-name='turn.example.io'", withTurn);
        Assert.DoesNotContain("--turn-domain-name", withoutTurn);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void NodeCommand_WithoutModules_OmitsEnabledModulesFlag(string version)
    {
        // Act
        var withModules = MasterCommand(TestClusters.Full(version));
        var withoutModules = MasterCommand(TestClusters.Full(version) with { Modules = [] });

        // Assert
        Assert.Contains("--enabled-modules=", withModules);
        Assert.DoesNotContain("--enabled-modules", withoutModules);
    }

    [Fact]
    public void NodeCommand_V30MediaWithoutPublicIp_OmitsPublicIpFlag()
    {
        // Arrange
        var cluster = TestClusters.Minimal("3.0.0");
        var media = cluster.MediaNodes.First();

        // Act
        var command = InstallCommandsArtifact.NodeCommand(cluster, media);

        // Assert
        Assert.DoesNotContain("--public-ip", command);
        Assert.Contains("--rtc-engine='pion'", command);
    }

    [Fact]
    public void NodeCommand_MediasoupEngine_PassesMediasoup()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { RtcEngine = RtcEngine.Mediasoup };

        // Act
        var command = MasterCommand(cluster);

        // Assert
        Assert.Contains("--rtc-engine='mediasoup'", command);
    }

    [Fact]
    public void NodeCommand_InstallerBaseUrlWithTrailingSlash_BuildsUrlWithoutDoubleSlash()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { InstallerBaseUrl = "https://mirror.example.io/openvidu/" };

        // Act
        var command = MasterCommand(cluster);

        // Assert
        Assert.StartsWith("sh <(curl -fsSL 'https://mirror.example.io/openvidu/pro/ha/3.8.0/install_ov_master_node.sh') \\\n", command);
    }

    private static string Generate(ClusterDefinition cluster) => ArtifactCatalog.Generate(cluster, InstallCommandsArtifact.Name).Content;

    private static string MasterCommand(ClusterDefinition cluster) =>
        InstallCommandsArtifact.NodeCommand(cluster, cluster.Masters.First());

    /// <summary>
    /// Runs the script (or, with a null script, bash with the given arguments) with <c>sh</c> and <c>curl</c> replaced by
    /// stubs placed first on PATH: curl prints its arguments (which become the "installer" sh reads through the process
    /// substitution), sh prints that installer text and then each argument it got on its own line.
    /// </summary>
    private static async Task<ProcessResult> RunWithStubsAsync(string? script, params string[] arguments)
    {
        using var dir = new TempDirectory();
        const UnixFileMode executable = (UnixFileMode)0b111_101_101;
        dir.Write("bin/curl", "#!/bin/bash\nprintf 'curl %s\\n' \"$*\"\n", executable);
        dir.Write("bin/sh", "#!/bin/bash\nprintf 'installer:%s\\n' \"$(cat \"$1\")\"\nshift\nprintf 'arg:%s\\n' \"$@\"\n", executable);
        List<string> bashArguments = script is null ? [.. arguments] : [dir.Write("install-commands.sh", script), .. arguments];
        var environment = new Dictionary<string, string> { ["PATH"] = $"{dir.File("bin")}:/usr/bin:/bin" };
        return await ProcessRunner.RunAsync(RequiredTools.Bash, bashArguments, environment);
    }

    private static string Installer(ProcessResult result) =>
        result.StdOut.Split('\n').Single(l => l.StartsWith("installer:", StringComparison.Ordinal))["installer:".Length..];

    private static List<string> InstallerArguments(ProcessResult result) =>
        result.StdOut.Split('\n').Where(l => l.StartsWith("arg:", StringComparison.Ordinal)).Select(l => l["arg:".Length..]).ToList();
}
