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
        Assert.Equal("curl -fsSL --proto =https --proto-redir =https https://get.openvidu.io/pro/ha/3.0.0/install_ov_media_node.sh", Installer(result));
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
        Assert.Equal("curl -fsSL --proto =https --proto-redir =https https://get.openvidu.io/pro/ha/3.0.0/install_ov_master_node.sh", Installer(result));
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
        Assert.Equal("curl -fsSL --proto =https --proto-redir =https https://get.openvidu.io/pro/ha/3.8.0/install_ov_master_node.sh", Installer(result));
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
        Assert.Equal("curl -fsSL --proto =https --proto-redir =https https://get.openvidu.io/pro/ha/3.8.0/install_ov_media_node.sh", Installer(result));
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
    public async Task NodeScript_RunWithBash_ReachesTheInstallerLikeTheScript()
    {
        // Arrange: the install job uploads one node's script and runs it with bash by its path.
        var cluster = TestClusters.Full("3.0.0");
        var node = cluster.Nodes.Single(n => n.Name == "media-2");
        using var dir = new TempDirectory();
        var script = dir.Write("install.sh", InstallCommandsArtifact.NodeScript(cluster, node));

        // Act
        var viaNodeScript = await RunWithStubsAsync(null, script);
        var viaArtifact = await RunWithStubsAsync(Generate(cluster), "media-2");

        // Assert
        Assert.True(viaNodeScript.ExitCode == 0, viaNodeScript.ToString());
        Assert.Equal(InstallerArguments(viaArtifact), InstallerArguments(viaNodeScript));
        Assert.Equal(Installer(viaArtifact), Installer(viaNodeScript));
        Assert.Contains("--public-ip=203.0.113.12", InstallerArguments(viaNodeScript));
    }

    [Fact]
    public void NodeScript_AnyNode_HoldsTheScriptsFunctionAndCaseBranch()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var artifact = Generate(cluster);
        var function = string.Join('\n', InstallCommandsArtifact.InstallerFunction(cluster));

        foreach (var node in cluster.Nodes)
        {
            // Act
            var script = InstallCommandsArtifact.NodeScript(cluster, node);

            // Assert: the same function, and the node's case branch of install-commands.sh as its last lines.
            var invocation = script[(script.IndexOf(function, StringComparison.Ordinal) + function.Length)..].Trim('\n');
            Assert.Contains(function, script);
            Assert.Contains(function, artifact);
            Assert.StartsWith("#!/usr/bin/env bash\n", script);
            var indented = string.Join('\n', invocation.Split('\n').Select(line => "    " + line));
            Assert.Contains($"  '{node.Name}')\n{indented}\n    ;;\n", artifact);
        }
    }

    [Fact]
    public async Task Script_PinnedDigestMatches_RunsTheInstallerAndSaysSo()
    {
        // Arrange: the stub curl writes "curl <its arguments>" as the downloaded installer, so its digest is known.
        var url = "https://get.openvidu.io/pro/ha/3.8.0/install_ov_master_node.sh";
        var digest = Sha256Hex($"curl -fsSL --proto =https --proto-redir =https {url}\n");
        var cluster = TestClusters.Full("3.8.0") with { MasterInstallerSha256 = digest };

        // Act
        var result = await RunWithStubsAsync(Generate(cluster), "master-2");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Contains($"Installer {url}, SHA-256 {digest}, as pinned", result.StdOut);
        Assert.Contains("--node-role=master-node", InstallerArguments(result));
    }

    [Fact]
    public async Task Script_PinnedDigestDiffers_RefusesWithBothDigestsAndNeverRunsTheInstaller()
    {
        // Arrange
        var url = "https://get.openvidu.io/pro/ha/3.8.0/install_ov_media_node.sh";
        var actual = Sha256Hex($"curl -fsSL --proto =https --proto-redir =https {url}\n");
        var pinned = new string('a', 64);
        var cluster = TestClusters.Full("3.8.0") with { MediaInstallerSha256 = pinned };

        // Act
        var result = await RunWithStubsAsync(Generate(cluster), "media-1");

        // Assert
        Assert.Equal(1, result.ExitCode);
        Assert.Contains($"Refused: the installer {url} has SHA-256 {actual}, but the pinned one is {pinned}. It was not run.", result.StdErr);
        Assert.DoesNotContain("installer:", result.StdOut);
    }

    [Fact]
    public async Task Script_DownloadFails_NeverRunsTheInstaller()
    {
        // Arrange: sh <(curl ...) would run the empty download and exit 0; the script must stop at curl's failure.
        var content = Generate(TestClusters.Full("3.8.0"));

        // Act
        var result = await RunWithStubsAsync(content, new Dictionary<string, string> { ["CURL_STUB_FAIL"] = "1" }, "master-1");

        // Assert
        Assert.Equal(22, result.ExitCode);
        Assert.Contains("curl: (22) The requested URL returned error: 404", result.StdErr);
        Assert.DoesNotContain("installer:", result.StdOut);
    }

    [Fact]
    public async Task Script_AfterTheRun_RemovesItsDownloadFolder()
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.8.0"));

        // Act
        var result = await RunWithStubsAsync(content, "media-1");

        // Assert: the stub sh printed where the installer was; the folder is gone once the script ended.
        var folder = Path.GetDirectoryName(result.StdOut.Split('\n').Single(l => l.StartsWith("path:", StringComparison.Ordinal))["path:".Length..])!;
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.False(Directory.Exists(folder), $"{folder} is still there");
    }

    [Theory]
    [InlineData("https://mirror.example.io", "curl -fsSL --proto =https --proto-redir =https https://mirror.example.io/")]
    [InlineData("http://mirror.example.io", "curl -fsSL http://mirror.example.io/")]
    public async Task Script_BaseUrlScheme_HttpsOnlyForHttps(string baseUrl, string expectedStart)
    {
        // Arrange
        var content = Generate(TestClusters.Full("3.8.0") with { InstallerBaseUrl = baseUrl });

        // Act
        var result = await RunWithStubsAsync(content, "master-1");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.StartsWith(expectedStart, Installer(result));
    }

    [Fact]
    public void NodeScript_NodeOfAnotherCluster_ThrowsArgumentException()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");
        var stranger = new NodeDefinition("media-7", NodeRole.Media, "10.5.0.17", null);

        // Act + Assert
        Assert.Throws<ArgumentException>(() => InstallCommandsArtifact.NodeScript(cluster, stranger));
    }

    [Fact]
    public void NodeScript_CurrentMasterWithoutMediaPublicIps_DoesNotForceMediaNodePublicIp()
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
    public void NodeScript_WithoutTurnDomain_OmitsTurnDomainFlag(string version)
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
    public void NodeScript_WithoutModules_OmitsEnabledModulesFlag(string version)
    {
        // Act
        var withModules = MasterCommand(TestClusters.Full(version));
        var withoutModules = MasterCommand(TestClusters.Full(version) with { Modules = [] });

        // Assert
        Assert.Contains("--enabled-modules=", withModules);
        Assert.DoesNotContain("--enabled-modules", withoutModules);
    }

    [Fact]
    public void NodeScript_V30MediaWithoutPublicIp_OmitsPublicIpFlag()
    {
        // Arrange
        var cluster = TestClusters.Minimal("3.0.0");
        var media = cluster.MediaNodes.First();

        // Act
        var command = InstallCommandsArtifact.NodeScript(cluster, media);

        // Assert
        Assert.DoesNotContain("--public-ip", command);
        Assert.Contains("--rtc-engine='pion'", command);
    }

    [Fact]
    public void NodeScript_MediasoupEngine_PassesMediasoup()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { RtcEngine = RtcEngine.Mediasoup };

        // Act
        var command = MasterCommand(cluster);

        // Assert
        Assert.Contains("--rtc-engine='mediasoup'", command);
    }

    [Fact]
    public void NodeScript_InstallerBaseUrlWithTrailingSlash_BuildsUrlWithoutDoubleSlash()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0") with { InstallerBaseUrl = "https://mirror.example.io/openvidu/" };

        // Act
        var command = MasterCommand(cluster);

        // Assert
        Assert.Contains("\novha_install 'https://mirror.example.io/openvidu/pro/ha/3.8.0/install_ov_master_node.sh' '' \\\n", command);
    }

    private static string Generate(ClusterDefinition cluster) => ArtifactCatalog.Generate(cluster, InstallCommandsArtifact.Name).Content;

    private static string MasterCommand(ClusterDefinition cluster) =>
        InstallCommandsArtifact.NodeScript(cluster, cluster.Masters.First());

    /// <summary>
    /// Runs the script (or, with a null script, bash with the given arguments) with <c>sh</c> and <c>curl</c> replaced by
    /// stubs placed first on PATH: curl writes "curl" and its other arguments into its <c>-o</c> file (the "installer"), or
    /// fails like a 404 when <c>CURL_STUB_FAIL</c> is set; sh prints the installer's path, its text, and then each argument
    /// it got on its own line. sha256sum is the real one.
    /// </summary>
    private static Task<ProcessResult> RunWithStubsAsync(string? script, params string[] arguments) =>
        RunWithStubsAsync(script, new Dictionary<string, string>(), arguments);

    private static async Task<ProcessResult> RunWithStubsAsync(string? script, Dictionary<string, string> environment, params string[] arguments)
    {
        using var dir = new TempDirectory();
        const UnixFileMode executable = (UnixFileMode)0b111_101_101;
        dir.Write("bin/curl", """
            #!/bin/bash
            if [ -n "${CURL_STUB_FAIL:-}" ]; then echo 'curl: (22) The requested URL returned error: 404' >&2; exit 22; fi
            out=""; args=()
            while [ $# -gt 0 ]; do case "$1" in -o) out="$2"; shift 2 ;; *) args+=("$1"); shift ;; esac; done
            printf 'curl %s\n' "${args[*]}" > "$out"

            """, executable);
        dir.Write("bin/sh", "#!/bin/bash\nprintf 'path:%s\\n' \"$1\"\nprintf 'installer:%s\\n' \"$(cat \"$1\")\"\nshift\nprintf 'arg:%s\\n' \"$@\"\n", executable);
        List<string> bashArguments = script is null ? [.. arguments] : [dir.Write("install-commands.sh", script), .. arguments];
        environment["PATH"] = $"{dir.File("bin")}:/usr/bin:/bin";
        return await ProcessRunner.RunAsync(RequiredTools.Bash, bashArguments, environment);
    }

    private static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    private static string Installer(ProcessResult result) =>
        result.StdOut.Split('\n').Single(l => l.StartsWith("installer:", StringComparison.Ordinal))["installer:".Length..];

    private static List<string> InstallerArguments(ProcessResult result) =>
        result.StdOut.Split('\n').Where(l => l.StartsWith("arg:", StringComparison.Ordinal)).Select(l => l["arg:".Length..]).ToList();
}
