using System.Diagnostics;
using System.Net;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>
/// The installer stand-in, run as the product runs it: the golden install commands under <c>bash -c</c> over SSH, the
/// script fetched by the node's own curl from the lab's server. Each test works on its own node.
/// </summary>
public sealed class InstallerTests(SixNodeLab fixture) : IClassFixture<SixNodeLab>
{
    private const string Banner = "🎉🎉 OpenVidu HA 'Master Node' Installation Finished Successfully! 🎉🎉";
    private const string MediaBanner = "🎉 OpenVidu HA 'Media Node' Installation Finished Successfully! 🎉";

    private Lab Lab => fixture.Lab;

    private string Command(string golden, string node) => InstallCommands.For(golden, node, Lab.InstallerHttpsBaseUrl);

    private static async Task<SshResult> InstallAsync(Lab lab, LabNode node, string command, string user = LabUsers.Root)
    {
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(user, lab.Keys.Ed25519));
        return await client.RunAsync(InstallCommands.BashC(command));
    }

    [Fact]
    public async Task V300Master_GoldenCommand_WritesEnvAndUnitAndPrintsBanner()
    {
        var node = Lab.Nodes[0];
        var runs = node.InstallerRuns;

        var result = await InstallAsync(Lab, node, Command(InstallCommands.V300, "master-1"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(Banner, result.Output);
        var env = node.ReadFile("/opt/openvidu/.env")!;
        Assert.Contains("\nDOMAIN_OR_PUBLIC_IP=openvidu.example.io\n", env);
        Assert.Contains("\nLIVEKIT_API_KEY=APIFakeKey0001\n", env);
        Assert.Contains("\nLIVEKIT_API_SECRET=LivekitApiSecret0123456789abcdefghijklmnopqr\n", env);
        Assert.Contains("\nREDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n", env);
        Assert.Contains("\nMINIO_ACCESS_KEY=minioadmin\n", env);
        Assert.Contains("\nMONGO_ADMIN_USER=mongoadmin\n", env);
        Assert.Contains("\nDASHBOARD_ADMIN_USER=admin\n", env);
        Assert.Contains("\nOPENVIDU_PRO_LICENSE=FakeLicenseForTestsOnly0123456789\n", env);
        Assert.Contains("Description=OpenVidu HA Master Node", node.ReadFile("/etc/systemd/system/openvidu.service"));
        Assert.Null(node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
        Assert.Equal(runs + 1, node.InstallerRuns);
        Assert.False(File.Exists("/etc/systemd/system/openvidu.service"));
    }

    [Fact]
    public async Task V300Media_GoldenCommand_WritesEnvAndPrintsPrivateIp()
    {
        var node = Lab.Nodes[1];
        var before = DateTimeOffset.UtcNow;

        var result = await InstallAsync(Lab, node, Command(InstallCommands.V300, "media-1"));

        var after = DateTimeOffset.UtcNow;
        Assert.True(result.ExitCode == 0, result.Error);
        // The run's times (the stand-in's clock is /proc/uptime plus the lab's offset, 10 ms steps) are the test's clock.
        var (started, ended) = node.InstallerRunTimes[^1];
        Assert.InRange(started, before.AddMilliseconds(-50), ended);
        Assert.InRange(ended, started, after.AddMilliseconds(50));
        Assert.Contains(MediaBanner, result.Output);
        Assert.Contains($"ATTENTION!!! This is the private IP of this 'Media Node'. Make sure this IP is reachable from all the 'Master Node'\n{node.Address}\n", result.Output);
        var env = node.ReadFile("/opt/openvidu/.env")!;
        Assert.Contains("\nDOMAIN_OR_PUBLIC_IP=openvidu.example.io\n", env);
        Assert.Contains("\nMEDIA_NODE_PUBLIC_IP=203.0.113.11\n", env);
        Assert.Contains("\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\n", env);
    }

    [Fact]
    public async Task V380Master_GoldenCommand_WritesTheCurrentConfigLayout()
    {
        var node = Lab.Nodes[2];

        var result = await InstallAsync(Lab, node, Command(InstallCommands.V380, "master-1"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(Banner, result.Output);
        Assert.Equal(
            ["DOMAIN_NAME", "LIVEKIT_TURN_DOMAIN_NAME", "OPENVIDU_PRO_LICENSE", "OPENVIDU_RTC_ENGINE", "ENABLED_MODULES", "LIVEKIT_API_KEY",
             "LIVEKIT_API_SECRET", "MINIO_ACCESS_KEY", "MINIO_SECRET_KEY", "MONGO_ADMIN_USERNAME", "MONGO_ADMIN_PASSWORD",
             "DASHBOARD_ADMIN_USERNAME", "DASHBOARD_ADMIN_PASSWORD", "GRAFANA_ADMIN_USERNAME", "GRAFANA_ADMIN_PASSWORD"],
            Keys(node.ReadFile("/opt/openvidu/config/cluster/openvidu.env")!));
        Assert.Contains("DOMAIN_NAME=openvidu.example.io\n", node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
        Assert.Contains("ENABLED_MODULES=observability,v2compatibility,openviduMeet\n", node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
        Assert.Equal(["MEET_INITIAL_ADMIN_USER", "MEET_INITIAL_ADMIN_PASSWORD", "MEET_INITIAL_API_KEY"],
            Keys(node.ReadFile("/opt/openvidu/config/cluster/master_node/meet.env")!));
        Assert.Equal(
            "REDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\nMASTER_NODE_1_PRIVATE_IP=10.5.0.1\nMASTER_NODE_2_PRIVATE_IP=10.5.0.2\n" +
            "MASTER_NODE_3_PRIVATE_IP=10.5.0.3\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\n",
            node.ReadFile("/opt/openvidu/config/node/master_node.env"));
        Assert.Null(node.ReadFile("/opt/openvidu/.env"));
        // What the updater reads: the version and where it runs, nothing secret, readable by all.
        Assert.Equal("version: \"3.8.0\"\nenvironment: on_premise\n", node.ReadFile("/opt/openvidu/deployment-info.yaml"));
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead,
            File.GetUnixFileMode(node.HostPath("/opt/openvidu/deployment-info.yaml")));
    }

    [Fact]
    public async Task V380Media_GoldenCommand_WritesMediaNodeEnv()
    {
        var node = Lab.Nodes[3];

        var result = await InstallAsync(Lab, node, Command(InstallCommands.V380, "media-2"));

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(MediaBanner, result.Output);
        Assert.Contains("ATTENTION!!! This is the private IP of this 'Media Node'", result.Output);
        Assert.Contains("\n10.5.0.12\n", result.Output);
        Assert.Equal(
            "MEDIA_NODE_PRIVATE_IP=10.5.0.12\nMEDIA_NODE_PUBLIC_IP=203.0.113.12\nMASTER_NODE_1_PRIVATE_IP=10.5.0.1\nMASTER_NODE_2_PRIVATE_IP=10.5.0.2\n" +
            "MASTER_NODE_3_PRIVATE_IP=10.5.0.3\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\nREDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n",
            node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        Assert.Contains("Description=OpenVidu HA Media Node", node.ReadFile("/etc/systemd/system/openvidu.service"));
    }

    [Fact]
    public async Task Deploy_ThroughSudoWithPassword_InstallsAsRoot()
    {
        var node = Lab.Nodes[3];
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var result = await client.RunAsync("sudo -S -p '' " + InstallCommands.BashC(Command(InstallCommands.V380, "media-2")),
            input: Lab.DeployPassword + "\n");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Contains(MediaBanner, result.Output);
        Assert.Contains("MEDIA_NODE_PRIVATE_IP=10.5.0.12\n", node.ReadFile("/opt/openvidu/config/node/media_node.env"));
    }

    public static TheoryData<string, string, string> RefusedCommands => new()
    {
        { "unknown flag", "with:--unknown-flag='x'", "Error: unknown flag: --unknown-flag" },
        { "missing flag", "without:--redis-password", "Error: required flag(s) \"redis-password\" not set" },
        { "3.0 flag on 3.8", "with:--domain-name-or-ip='openvidu.example.io'", "Error: unknown flag: --domain-name-or-ip" },
        { "value with a space", "with:--dashboard-admin-user='two words'", "Error: unexpected argument 'words'" },
        { "no --no-tty", "without:--no-tty --install", "the input device is not a TTY" },
        { "wrong role", "with:--node-role='media-node'", "Error: invalid --node-role 'media-node'" },
    };

    [Theory]
    [MemberData(nameof(RefusedCommands))]
    public async Task RefusedFlags_ExitNonZeroWithAMessage_WriteNothing(string why, string change, string message)
    {
        var node = Lab.Nodes[4];
        var command = Command(InstallCommands.V380, "master-2");
        var (how, argument) = (change.Split(':', 2)[0], change.Split(':', 2)[1]);
        if (how == "with")
            command = InstallCommands.With(command, argument);
        else if (argument == "--no-tty --install")
            command = command.Replace("    --no-tty --install \\\n", "", StringComparison.Ordinal);
        else
            command = InstallCommands.Without(command, argument);
        var runs = node.InstallerRuns;

        var result = await InstallAsync(Lab, node, command);

        Assert.True(result.ExitCode != 0, why);
        Assert.Contains(message, result.Error);
        Assert.Null(node.ReadFile("/opt/openvidu/config/node/master_node.env"));
        Assert.Equal(runs + 1, node.InstallerRuns);
    }

    [Fact]
    public async Task NonRoot_PleaseRunAsRoot_Exit1()
    {
        var node = Lab.Nodes[4];
        var runs = node.InstallerRuns;

        var result = await InstallAsync(Lab, node, Command(InstallCommands.V380, "master-3"), user: LabUsers.Deploy);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith("Installer https://", result.Output);
        Assert.EndsWith("\nPlease run as root\n", result.Output);
        Assert.Equal(runs + 1, node.InstallerRuns);
    }

    [Fact]
    public async Task FailInstaller_PrintsTheMessageOnStderr_Exit1_ThenClears()
    {
        var node = Lab.Nodes[5];
        node.FailInstaller("Error: cannot pull openvidu/openvidu-installer: connection reset by peer");
        try
        {
            var failed = await InstallAsync(Lab, node, Command(InstallCommands.V380, "media-1"));

            Assert.Equal(1, failed.ExitCode);
            Assert.Equal("Error: cannot pull openvidu/openvidu-installer: connection reset by peer\n", failed.Error);
            Assert.Null(node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        }
        finally
        {
            node.ClearFaults();
        }
        var succeeded = await InstallAsync(Lab, node, Command(InstallCommands.V380, "media-1"));
        Assert.Equal(0, succeeded.ExitCode);
    }

    [Fact]
    public async Task EchoingInstaller_PrintsTheValuesItWasGivenAndTheText_ThenInstalls()
    {
        var node = Lab.Nodes[5];
        node.EchoingInstaller("sudo password: Lab-NotAPassword");
        try
        {
            var result = await InstallAsync(Lab, node, Command(InstallCommands.V380, "master-1"));

            Assert.True(result.ExitCode == 0, result.Error);
            Assert.Contains(
                "\nGiven --dashboard-admin-user=admin\nGiven --openvidu-pro-license=FakeLicenseForTestsOnly0123456789\n" +
                "Given --redis-password=RedisPassword0123456789abcdefghijklmnopqrstu\nsudo password: Lab-NotAPassword\n", result.Output);
            Assert.Contains(Banner, result.Output);
            Assert.Equal("", result.Error);
        }
        finally
        {
            node.ClearFaults();
        }
        var quiet = await InstallAsync(Lab, node, Command(InstallCommands.V380, "master-1"));
        Assert.DoesNotContain("Given --", quiet.Output);
    }

    [Fact]
    public async Task EchoingInstaller_Failing_PrintsThemOnStderr_LastTheRedisPassword_Exit1_WritesNothing()
    {
        var node = Lab.Nodes[5];
        node.EchoingInstaller("sudo password: Lab-NotAPassword", fails: true);
        try
        {
            var result = await InstallAsync(Lab, node, Command(InstallCommands.V380, "media-2"));

            Assert.Equal(1, result.ExitCode);
            // A media node of 3.8 takes neither the licence nor a dashboard user: only what it was given is printed.
            Assert.Equal(
                "Given --redis-password=RedisPassword0123456789abcdefghijklmnopqrstu\nsudo password: Lab-NotAPassword\n" +
                "Error: Redis refused the password RedisPassword0123456789abcdefghijklmnopqrstu\n", result.Error);
            Assert.DoesNotContain("Given --", result.Output);
            Assert.DoesNotContain(MediaBanner, result.Output);
            Assert.Null(node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        }
        finally
        {
            node.ClearFaults();
        }
    }

    [Fact]
    public async Task BannerlessInstaller_DoesItsWork_ExitsZero_PrintsNoBanner()
    {
        var node = Lab.Nodes[5];
        var runs = node.InstallerRuns;
        node.BannerlessInstaller();
        try
        {
            var result = await InstallAsync(Lab, node, Command(InstallCommands.V300, "master-2"));

            Assert.True(result.ExitCode == 0, result.Error);
            Assert.DoesNotContain("Installation Finished Successfully", result.Output);
            Assert.EndsWith("Pulling the OpenVidu installer image openvidu/openvidu-installer:3.0.0 (OpenViduHa.Lab: simulated)\n", result.Output);
            Assert.Contains("\nREDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n", node.ReadFile("/opt/openvidu/.env"));
            Assert.Contains("Description=OpenVidu HA Master Node", node.ReadFile("/etc/systemd/system/openvidu.service"));
            Assert.Equal(runs + 1, node.InstallerRuns);
        }
        finally
        {
            node.ClearFaults();
        }
        var again = await InstallAsync(Lab, node, Command(InstallCommands.V300, "master-2"));
        Assert.Contains(Banner, again.Output);
    }

    [Fact]
    public async Task SlowInstaller_TakesTheGivenTime()
    {
        var node = Lab.Nodes[5];
        node.SlowInstaller(TimeSpan.FromSeconds(2));
        try
        {
            var clock = Stopwatch.StartNew();
            var result = await InstallAsync(Lab, node, Command(InstallCommands.V300, "media-2"));

            Assert.Equal(0, result.ExitCode);
            Assert.InRange(clock.Elapsed, TimeSpan.FromSeconds(2), TimeSpan.FromSeconds(20));
        }
        finally
        {
            node.ClearFaults();
        }
    }

    [Fact]
    public async Task Server_ServesKnownVersionsOnly_AtTheRealLayout()
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
        var downloads = Lab.InstallerDownloads;

        var v300 = await http.GetAsync(Lab.InstallerUrl("3.0.0", masterNode: true));
        var latest = await http.GetStringAsync(Lab.InstallerUrl("latest", masterNode: false));
        var v310 = await http.GetAsync(Lab.InstallerUrl("3.1.0", masterNode: true));
        var v400 = await http.GetAsync(Lab.InstallerUrl("4.0.0", masterNode: true));
        var other = await http.GetAsync(Lab.InstallerBaseUrl + "/pro/ha/3.0.0/install_ov_other_node.sh");

        Assert.Equal(HttpStatusCode.OK, v300.StatusCode);
        Assert.StartsWith("#!/bin/sh\n", await v300.Content.ReadAsStringAsync());
        Assert.Contains("OPENVIDU_VERSION='3.8.0'", latest);
        Assert.Contains("SCRIPT_ROLE='media-node'", latest);
        Assert.Equal(HttpStatusCode.NotFound, v310.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, v400.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, other.StatusCode);
        Assert.Equal(downloads + 2, Lab.InstallerDownloads);
    }

    [Fact]
    public async Task UnservedVersion_GuideForm_CurlFails_ButShExitsZero_WithoutBanner()
    {
        // As with the real server: the guide's `sh <(curl -f ...)` runs an empty script when curl fails, and exits 0.
        // Only curl's message on stderr and the missing banner tell the install did not happen.
        var node = Lab.Nodes[4];
        var runs = node.InstallerRuns;
        var command = $"sh <(curl -fsSL {InstallCommands.Quote(Lab.InstallerUrl("3.1.0", masterNode: false))}) --no-tty --install";

        var result = await InstallAsync(Lab, node, command);

        Assert.Equal(0, result.ExitCode);
        Assert.Contains("curl: (22) The requested URL returned error: 404", result.Error);
        Assert.DoesNotContain("Installation Finished Successfully", result.Output);
        Assert.Equal(runs, node.InstallerRuns);
    }

    [Fact]
    public async Task UnservedVersion_ProductForm_CurlFails_ExitsNonZeroAndRunsNothing()
    {
        // The product's download-check-run step stops at curl's failure instead.
        var node = Lab.Nodes[4];
        var runs = node.InstallerRuns;
        var command = Command(InstallCommands.V380, "media-1").Replace("/3.8.0/", "/3.1.0/", StringComparison.Ordinal);

        var result = await InstallAsync(Lab, node, command);

        Assert.Equal(22, result.ExitCode);
        Assert.Contains("curl: (22) The requested URL returned error: 404", result.Error);
        Assert.Equal(runs, node.InstallerRuns);
    }

    private static List<string> Keys(string env) =>
        env.Split('\n').Where(l => l.Contains('=') && !l.StartsWith('#')).Select(l => l.Split('=')[0]).ToList();
}
