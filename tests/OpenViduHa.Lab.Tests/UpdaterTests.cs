using System.Globalization;
using System.Net;
using System.Security.Cryptography;
using System.Text.RegularExpressions;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>
/// The updater stand-in, run as the panel will run it: over SSH as root (or through sudo), the node's own curl fetches
/// <c>/update/&lt;version&gt;/update.sh</c> from the lab's https server into a root-only temporary file, then
/// <c>sh FILE --no-tty</c>. Nodes are installed with the golden install commands first. Each test works on its own node.
/// </summary>
public sealed partial class UpdaterTests(SixNodeLab fixture) : IClassFixture<SixNodeLab>
{
    private const string Info = "/opt/openvidu/deployment-info.yaml";
    private const string Preamble =
        "Stopping OpenVidu service...\n" +
        "Docker version 29.4.2 is compatible with required version 29.4.2.\n" +
        "Docker Compose version v5.1.3 is compatible with required version v5.1.3.\n";
    private const UnixFileMode Mode600 = UnixFileMode.UserRead | UnixFileMode.UserWrite;
    private const UnixFileMode Mode644 = Mode600 | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    private Lab Lab => fixture.Lab;

    /// <summary>The panel's way: a private temporary file, curl https-only into it, <c>sh FILE FLAGS</c>, the file removed.</summary>
    private string UpdateCommand(string version, string flags) =>
        "f=\"$(mktemp)\" || exit 1\n" +
        $"curl -fsSL --proto '=https' --proto-redir '=https' -o \"$f\" {InstallCommands.Quote(Lab.UpdaterHttpsUrl(version))} || {{ rc=$?; rm -f -- \"$f\"; exit $rc; }}\n" +
        $"sh \"$f\" {flags}\nrc=$?\nrm -f -- \"$f\"\nexit $rc";

    private async Task<SshResult> UpdateAsync(LabNode node, string version, string flags = "--no-tty", string user = LabUsers.Root)
    {
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(user, Lab.Keys.Ed25519));
        var command = UpdateCommand(version, flags);
        return await client.RunAsync(user == LabUsers.DeployNoPasswd ? "sudo -n sh -c " + InstallCommands.Quote(command) : command);
    }

    /// <summary>A node as a first install leaves it: nothing under /opt/openvidu but what the golden command installs.</summary>
    private async Task FreshInstallAsync(LabNode node, string golden, string name)
    {
        var wipe = await node.RunAsRootAsync(
            "systemctl stop openvidu >/dev/null 2>&1; rm -rf /opt/openvidu /etc/systemd/system/openvidu.service /usr/local/lib/ovha-lab/installed");
        Assert.True(wipe.ExitCode == 0, wipe.Error);
        var install = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(golden, name, Lab.InstallerHttpsBaseUrl)));
        Assert.True(install.ExitCode == 0, install.Error);
    }

    private async Task StartServiceAsync(LabNode node)
    {
        var start = await Ssh.RootAsync(node, Lab.Keys, "systemctl start openvidu");
        Assert.True(start.ExitCode == 0, start.Error);
        Assert.True(node.ServiceActive);
    }

    /// <summary>The backup folder the run announced (<c>📦 Backup directory: …/</c>), checked against the layout and the clock.</summary>
    private static string BackupDirectory(string output, string oldVersion, DateTimeOffset before, DateTimeOffset after)
    {
        var match = BackupLine().Match(output);
        Assert.True(match.Success, output);
        Assert.Equal(oldVersion, match.Groups[2].Value);
        // The date is the node's clock (the lab's, UTC), to the second.
        var date = DateTimeOffset.ParseExact(match.Groups[1].Value, "yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal);
        Assert.InRange(date, before.AddSeconds(-2), after.AddSeconds(2));
        return match.Groups[0].Value["📦 Backup directory: ".Length..];
    }

    private static string ExpectedOutput(string from, string to, string backup, params string[] backedUp) =>
        Preamble +
        $"Pulling the OpenVidu updater image openvidu/openvidu-updater:{to} (OpenViduHa.Lab: simulated)\n" +
        "Backing up files...\n" +
        string.Concat(backedUp.Select(f => $"    - Backing up file '/opt/openvidu/{f}' to '{backup}{f}'\n")) +
        $"📦 Backup directory: {backup}\n" +
        $"🚀 Updating OpenVidu from {from} to {to}\n" +
        $"OpenVidu updated successfully to {to}\n";

    private static string InfoOf(string version) => $"version: \"{version}\"\nenvironment: on_premise\n";

    private static Dictionary<string, string> Env(string text) =>
        text.Split('\n').Where(l => l.Contains('=', StringComparison.Ordinal) && !l.StartsWith('#'))
            .ToDictionary(l => l.Split('=', 2)[0], l => l.Split('=', 2)[1]);

    private static string Lines(params (string Key, string Value)[] pairs) => string.Concat(pairs.Select(p => $"{p.Key}={p.Value}\n"));

    private static UnixFileMode Mode(LabNode node, string path) => File.GetUnixFileMode(node.HostPath(path));

    /// <summary>Every file under /opt/openvidu with its mode and content.</summary>
    private static SortedDictionary<string, string> Snapshot(LabNode node)
    {
        var root = node.HostPath("/opt/openvidu");
        var files = new SortedDictionary<string, string>(StringComparer.Ordinal);
        foreach (var file in Directory.EnumerateFiles(root, "*", SearchOption.AllDirectories))
            files[Path.GetRelativePath(root, file)] = $"{File.GetUnixFileMode(file)}\n{File.ReadAllText(file)}";
        return files;
    }

    [Fact]
    public async Task V300Master_To310_Then320_MigratesTheLayout_KeepsTheValues_BacksUpTheOldFiles_StopsTheService()
    {
        var node = Lab.Nodes[0];
        await FreshInstallAsync(node, InstallCommands.V300, "master-1");
        Assert.Equal(InfoOf("3.0.0"), node.ReadFile(Info));
        Assert.Equal(Mode644, Mode(node, Info));
        var env = node.ReadFile("/opt/openvidu/.env")!;
        await StartServiceAsync(node);
        var runs = node.UpdaterRuns;
        var before = DateTimeOffset.UtcNow;

        var first = await UpdateAsync(node, "3.1.0");

        var afterFirst = DateTimeOffset.UtcNow;
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.Equal("", first.Error);
        var backup1 = BackupDirectory(first.Output, "3.0.0", before, afterFirst);
        Assert.Equal(ExpectedOutput("3.0.0", "3.1.0", backup1, ".env", "deployment-info.yaml"), first.Output);
        Assert.False(node.ServiceActive);
        Assert.Contains("systemd[1]: Stopped openvidu.service - OpenVidu.", node.Journal);
        // 3.1.0 keeps the .env layout: only the version changes.
        Assert.Equal(env, node.ReadFile("/opt/openvidu/.env"));
        Assert.Equal(InfoOf("3.1.0"), node.ReadFile(Info));
        Assert.Equal(env, node.ReadFile(backup1 + ".env"));
        Assert.Equal(Mode600, Mode(node, backup1 + ".env"));
        Assert.Equal(InfoOf("3.0.0"), node.ReadFile(backup1 + "deployment-info.yaml"));
        Assert.Equal("ROLE=master-node\nVERSION=3.1.0\nGENERATION=3.0\nMODULES=observability,v2compatibility,app\n",
            node.ReadFile("/usr/local/lib/ovha-lab/installed"));

        await StartServiceAsync(node);
        var second = await UpdateAsync(node, "3.2.0");

        var afterSecond = DateTimeOffset.UtcNow;
        Assert.True(second.ExitCode == 0, second.Output + second.Error);
        Assert.Equal("", second.Error);
        var backup2 = BackupDirectory(second.Output, "3.1.0", afterFirst, afterSecond);
        Assert.Equal(ExpectedOutput("3.1.0", "3.2.0", backup2, ".env", "deployment-info.yaml"), second.Output);
        Assert.False(node.ServiceActive);
        Assert.Null(node.ReadFile("/opt/openvidu/.env"));
        Assert.Equal(InfoOf("3.2.0"), node.ReadFile(Info));
        Assert.Equal(Mode644, Mode(node, Info));
        Assert.Equal(env, node.ReadFile(backup2 + ".env"));
        Assert.Equal(InfoOf("3.1.0"), node.ReadFile(backup2 + "deployment-info.yaml"));
        var old = Env(env);
        var cluster = node.ReadFile("/opt/openvidu/config/cluster/openvidu.env")!;
        // The current installer's keys, in its order, with the values .env held under their old names.
        Assert.Equal(Lines(
            ("DOMAIN_NAME", old["DOMAIN_OR_PUBLIC_IP"]), ("LIVEKIT_TURN_DOMAIN_NAME", old["LIVEKIT_TURN_DOMAIN_NAME"]),
            ("OPENVIDU_PRO_LICENSE", old["OPENVIDU_PRO_LICENSE"]), ("OPENVIDU_RTC_ENGINE", old["OPENVIDU_RTC_ENGINE"]),
            ("ENABLED_MODULES", "observability,v2compatibility,openviduMeet"), ("LIVEKIT_API_KEY", old["LIVEKIT_API_KEY"]),
            ("LIVEKIT_API_SECRET", old["LIVEKIT_API_SECRET"]), ("MINIO_ACCESS_KEY", old["MINIO_ACCESS_KEY"]),
            ("MINIO_SECRET_KEY", old["MINIO_SECRET_KEY"]), ("MONGO_ADMIN_USERNAME", old["MONGO_ADMIN_USER"]),
            ("MONGO_ADMIN_PASSWORD", old["MONGO_ADMIN_PASSWORD"]), ("DASHBOARD_ADMIN_USERNAME", old["DASHBOARD_ADMIN_USER"]),
            ("DASHBOARD_ADMIN_PASSWORD", old["DASHBOARD_ADMIN_PASSWORD"]), ("GRAFANA_ADMIN_USERNAME", old["GRAFANA_ADMIN_USER"]),
            ("GRAFANA_ADMIN_PASSWORD", old["GRAFANA_ADMIN_PASSWORD"])), cluster);
        Assert.Contains("\nDOMAIN_NAME=openvidu.example.io\n", "\n" + cluster);
        Assert.Contains("\nMONGO_ADMIN_USERNAME=mongoadmin\n", cluster);
        Assert.Contains("\nLIVEKIT_API_SECRET=LivekitApiSecret0123456789abcdefghijklmnopqr\n", cluster);
        Assert.Equal("MEET_INITIAL_ADMIN_USER=admin\nMEET_INITIAL_ADMIN_PASSWORD=\nMEET_INITIAL_API_KEY=\n",
            node.ReadFile("/opt/openvidu/config/cluster/master_node/meet.env"));
        Assert.Equal(
            "REDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\nMASTER_NODE_1_PRIVATE_IP=10.5.0.1\nMASTER_NODE_2_PRIVATE_IP=10.5.0.2\n" +
            "MASTER_NODE_3_PRIVATE_IP=10.5.0.3\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\n",
            node.ReadFile("/opt/openvidu/config/node/master_node.env"));
        foreach (var file in new[] { "config/cluster/openvidu.env", "config/cluster/master_node/meet.env", "config/node/master_node.env" })
            Assert.Equal(Mode600, Mode(node, "/opt/openvidu/" + file));
        Assert.Null(node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        Assert.Equal("ROLE=master-node\nVERSION=3.2.0\nGENERATION=current\nMODULES=observability,v2compatibility,openviduMeet\n",
            node.ReadFile("/usr/local/lib/ovha-lab/installed"));
        // The rest of the lab sees the new version: the containers' images, the default app's container.
        var images = await Ssh.RootAsync(node, Lab.Keys, "docker ps -a --format '{{.Names}} {{.Image}}'");
        Assert.Contains("operator docker.io/openvidu/openvidu-operator:3.2.0\n", images.Output);
        Assert.Contains("openvidu-meet ", images.Output);
        Assert.DoesNotContain("openvidu-call", images.Output);

        Assert.Equal(runs + 2, node.UpdaterRuns);
        var history = node.UpdaterRunHistory;
        Assert.Equal(("3.0.0", "3.1.0", 0, 0), (history[^2].From, history[^2].To, history[^2].Uid, history[^2].ExitCode));
        Assert.Equal(("3.1.0", "3.2.0", 0, 0), (history[^1].From, history[^1].To, history[^1].Uid, history[^1].ExitCode));
        Assert.InRange(history[^2].Started, before.AddMilliseconds(-50), history[^2].Ended);
        Assert.InRange(history[^1].Ended, history[^1].Started, afterSecond.AddMilliseconds(50));
    }

    [Fact]
    public async Task V300Media_To310_Then320ThroughSudo_WritesMediaNodeEnv_KeepsTheValues()
    {
        var node = Lab.Nodes[1];
        await FreshInstallAsync(node, InstallCommands.V300, "media-1");
        var env = node.ReadFile("/opt/openvidu/.env")!;
        Assert.Contains($"\nMEDIA_NODE_PRIVATE_IP={node.Address}\n", env);
        await StartServiceAsync(node);
        var before = DateTimeOffset.UtcNow;

        var first = await UpdateAsync(node, "3.1.0");
        // The panel's other way in: a sudoer without a password, sudo -n.
        var second = await UpdateAsync(node, "3.2.0", user: LabUsers.DeployNoPasswd);

        var after = DateTimeOffset.UtcNow;
        Assert.True(first.ExitCode == 0, first.Output + first.Error);
        Assert.True(second.ExitCode == 0, second.Output + second.Error);
        var backup = BackupDirectory(second.Output, "3.1.0", before, after);
        Assert.Equal(ExpectedOutput("3.1.0", "3.2.0", backup, ".env", "deployment-info.yaml"), second.Output);
        Assert.False(node.ServiceActive);
        Assert.Equal(
            $"MEDIA_NODE_PRIVATE_IP={node.Address}\nMEDIA_NODE_PUBLIC_IP=203.0.113.11\nMASTER_NODE_1_PRIVATE_IP=10.5.0.1\nMASTER_NODE_2_PRIVATE_IP=10.5.0.2\n" +
            "MASTER_NODE_3_PRIVATE_IP=10.5.0.3\nMASTER_NODE_4_PRIVATE_IP=10.5.0.4\nREDIS_PASSWORD=RedisPassword0123456789abcdefghijklmnopqrstu\n",
            node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        Assert.Equal(Mode600, Mode(node, "/opt/openvidu/config/node/media_node.env"));
        Assert.Null(node.ReadFile("/opt/openvidu/.env"));
        Assert.Null(node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
        Assert.Null(node.ReadFile("/opt/openvidu/config/node/master_node.env"));
        Assert.Equal(env, node.ReadFile(backup + ".env"));
        Assert.Equal(InfoOf("3.2.0"), node.ReadFile(Info));
        Assert.StartsWith("ROLE=media-node\nVERSION=3.2.0\nGENERATION=current\n", node.ReadFile("/usr/local/lib/ovha-lab/installed"));

        // A later hop keeps the layout: the config is backed up as it is and left unchanged, only the version moves.
        var media = node.ReadFile("/opt/openvidu/config/node/media_node.env");
        var third = await UpdateAsync(node, "3.3.0");

        Assert.True(third.ExitCode == 0, third.Output + third.Error);
        var backup3 = BackupDirectory(third.Output, "3.2.0", before, DateTimeOffset.UtcNow);
        Assert.Equal(ExpectedOutput("3.2.0", "3.3.0", backup3, "config/node/media_node.env", "deployment-info.yaml"), third.Output);
        Assert.Equal(media, node.ReadFile(backup3 + "config/node/media_node.env"));
        Assert.Equal(Mode600, Mode(node, backup3 + "config/node/media_node.env"));
        Assert.Equal(media, node.ReadFile("/opt/openvidu/config/node/media_node.env"));
        Assert.Equal(InfoOf("3.3.0"), node.ReadFile(Info));
    }

    [Fact]
    public async Task SkippedHop_RefusedWithTheRealMessage_NothingChanged_ServiceLeftRunning()
    {
        var node = Lab.Nodes[2];
        await FreshInstallAsync(node, InstallCommands.V300, "master-2");
        await StartServiceAsync(node);
        var started = node.ServiceStartedAt;
        var files = Snapshot(node);

        var result = await UpdateAsync(node, "3.2.0");

        Assert.Equal(1, result.ExitCode);
        // Where the real update.sh prints it: on stdout.
        Assert.Equal(
            "ERROR: Version 3.0.0 can only be upgraded to version 3.1.0\n" +
            "Please upgrade first to version 3.1.0\n" +
            "You can do it by running the following command:\n" +
            "\n\n" +
            "    sh <(curl -fsSL http://get.openvidu.io/update/3.1.0/update.sh)\n" +
            "\n\n", result.Output);
        Assert.Equal("", result.Error);
        Assert.Equal(files, Snapshot(node));
        Assert.False(Directory.Exists(node.HostPath("/opt/openvidu/backups")));
        Assert.True(node.ServiceActive);
        Assert.Equal(started, node.ServiceStartedAt);
        var run = node.UpdaterRunHistory[^1];
        Assert.Equal(("3.0.0", "3.2.0", 0, 1), (run.From, run.To, run.Uid, run.ExitCode));
    }

    public static TheoryData<string?, string, string, string> RefusedVersions => new()
    {
        // deployment-info.yaml's version (null: no file), the updater's, its stdout, its stderr
        { "3.9.0", "3.9.0", "ERROR: No upgrade path defined for version 3.9.0\n", "" },
        { "3.2.0", "3.1.0", "ERROR: Version 3.2.0 can only be upgraded to version 3.3.0\n", "" },
        { "3.0.1", "3.1.0", "ERROR: No upgrade path defined for version 3.0.1\n", "" },
        { null, "3.1.0", "ERROR: No upgrade path defined for version \n", "grep: /opt/openvidu/deployment-info.yaml: No such file or directory\n" },
    };

    [Theory]
    [MemberData(nameof(RefusedVersions))]
    public async Task OffTheChain_RefusedBeforeStoppingAnything(string? installed, string version, string firstLine, string error)
    {
        var node = Lab.Nodes[3];
        var wipe = await node.RunAsRootAsync("rm -rf /opt/openvidu && mkdir /opt/openvidu");
        Assert.Equal(0, wipe.ExitCode);
        if (installed is not null) node.WriteFile(Info, InfoOf(installed));
        var runs = node.UpdaterRuns;

        var result = await UpdateAsync(node, version);

        Assert.Equal(1, result.ExitCode);
        Assert.StartsWith(firstLine, result.Output);
        Assert.DoesNotContain("Stopping OpenVidu service", result.Output);
        Assert.Equal(error, result.Error);
        Assert.Equal(installed is null ? null : InfoOf(installed), node.ReadFile(Info));
        Assert.False(Directory.Exists(node.HostPath("/opt/openvidu/backups")));
        Assert.Equal(runs + 1, node.UpdaterRuns);
        Assert.Equal((installed ?? "", version, 1), (node.UpdaterRunHistory[^1].From, node.UpdaterRunHistory[^1].To, node.UpdaterRunHistory[^1].ExitCode));
    }

    [Fact]
    public async Task NotRoot_PleaseRunAsRoot_Exit1_Recorded()
    {
        var node = Lab.Nodes[3];
        var runs = node.UpdaterRuns;

        var result = await UpdateAsync(node, "3.1.0", user: LabUsers.Deploy);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal("Please run as root\n", result.Output);
        Assert.Equal("", result.Error);
        Assert.Equal(runs + 1, node.UpdaterRuns);
        var run = node.UpdaterRunHistory[^1];
        Assert.Equal(("", "3.1.0", LabUsers.DeployUid, 1), (run.From, run.To, run.Uid, run.ExitCode));
    }

    public static TheoryData<string, string> RefusedFlags => new()
    {
        // the flags, stderr: both after the service was stopped, as with the real one (docker run, then the updater image)
        { "", "the input device is not a TTY\n" },
        { "--no-tty --force", "Error: unknown flag: --force\n" },
        { "--no-tty --install-version=3.2.0", "Error: unknown flag: --install-version\n" },
        { "--no-tty yes", "Error: unexpected argument 'yes'\n" },
    };

    [Theory]
    [MemberData(nameof(RefusedFlags))]
    public async Task RefusedFlags_ServiceStopped_NothingElseChanged(string flags, string error)
    {
        var node = Lab.Nodes[4];
        if (node.ReadFile(Info) != InfoOf("3.0.0") || Directory.Exists(node.HostPath("/opt/openvidu/backups")))
            await FreshInstallAsync(node, InstallCommands.V300, "media-2");
        await StartServiceAsync(node);
        var files = Snapshot(node);

        var result = await UpdateAsync(node, "3.1.0", flags);

        Assert.Equal(1, result.ExitCode);
        Assert.Equal(error, result.Error);
        Assert.Equal(Preamble + "Pulling the OpenVidu updater image openvidu/openvidu-updater:3.1.0 (OpenViduHa.Lab: simulated)\n", result.Output);
        Assert.False(node.ServiceActive);
        Assert.Equal(files, Snapshot(node));
        Assert.Equal(("3.0.0", 1), (node.UpdaterRunHistory[^1].From, node.UpdaterRunHistory[^1].ExitCode));
    }

    [Fact]
    public async Task FailUpdater_BackupMade_OnTheMigratingHopNewFilesWritten_VersionUnchanged_ThenARerunFinishes()
    {
        var node = Lab.Nodes[5];
        await FreshInstallAsync(node, InstallCommands.V300, "master-3");
        var env = node.ReadFile("/opt/openvidu/.env")!;
        const string Message = "Error: cannot pull openvidu/openvidu-updater: connection reset by peer";
        string failedBackup;
        try
        {
            // A plain hop: the backup is all that changed.
            node.FailUpdater(Message);
            var plain = await UpdateAsync(node, "3.1.0");

            Assert.Equal(1, plain.ExitCode);
            Assert.Equal(Message + "\n", plain.Error);
            Assert.EndsWith("🚀 Updating OpenVidu from 3.0.0 to 3.1.0\n", plain.Output);
            var backup = BackupDirectory(plain.Output, "3.0.0", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
            Assert.Equal(env, node.ReadFile(backup + ".env"));
            Assert.Equal(InfoOf("3.0.0"), node.ReadFile(backup + "deployment-info.yaml"));
            Assert.Equal(env, node.ReadFile("/opt/openvidu/.env"));
            Assert.Equal(InfoOf("3.0.0"), node.ReadFile(Info));
            Assert.Contains("\nVERSION=3.0.0\n", node.ReadFile("/usr/local/lib/ovha-lab/installed"));

            node.ClearFaults();
            Assert.Equal(0, (await UpdateAsync(node, "3.1.0")).ExitCode);
            await StartServiceAsync(node);
            node.FailUpdater(Message);

            // The migrating hop: the new files are written, .env stays, the version does not move.
            var migrating = await UpdateAsync(node, "3.2.0");

            Assert.Equal(1, migrating.ExitCode);
            Assert.Equal(Message + "\n", migrating.Error);
            Assert.False(node.ServiceActive);
            var backup2 = failedBackup = BackupDirectory(migrating.Output, "3.1.0", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
            Assert.Equal(env, node.ReadFile(backup2 + ".env"));
            Assert.Equal(InfoOf("3.1.0"), node.ReadFile(backup2 + "deployment-info.yaml"));
            Assert.Equal(env, node.ReadFile("/opt/openvidu/.env"));
            Assert.Contains("DOMAIN_NAME=openvidu.example.io\n", node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
            Assert.Equal(Mode600, Mode(node, "/opt/openvidu/config/cluster/openvidu.env"));
            Assert.NotNull(node.ReadFile("/opt/openvidu/config/node/master_node.env"));
            Assert.Equal(InfoOf("3.1.0"), node.ReadFile(Info));
            Assert.Contains("\nVERSION=3.1.0\nGENERATION=3.0\n", node.ReadFile("/usr/local/lib/ovha-lab/installed"));
            var failed = node.UpdaterRunHistory[^1];
            Assert.Equal(("3.1.0", "3.2.0", 1), (failed.From, failed.To, failed.ExitCode));
        }
        finally
        {
            node.ClearFaults();
        }

        // Cleared, slowed: the same updater runs again and finishes; it backs up the half-written files too.
        node.SlowUpdater(TimeSpan.FromSeconds(1.5));
        try
        {
            var rerun = await UpdateAsync(node, "3.2.0");

            Assert.True(rerun.ExitCode == 0, rerun.Output + rerun.Error);
            var backup = BackupDirectory(rerun.Output, "3.1.0", DateTimeOffset.UtcNow.AddMinutes(-1), DateTimeOffset.UtcNow);
            Assert.Contains($"    - Backing up file '/opt/openvidu/config/cluster/openvidu.env' to '{backup}config/cluster/openvidu.env'\n", rerun.Output);
            // Its own folder (a run in the same second waits for the next): the failed run's backup stays as it was.
            Assert.NotEqual(failedBackup, backup);
            Assert.Equal([".env", "deployment-info.yaml"],
                Directory.EnumerateFiles(node.HostPath(failedBackup), "*", SearchOption.AllDirectories).Select(Path.GetFileName).Order(StringComparer.Ordinal));
            Assert.EndsWith("OpenVidu updated successfully to 3.2.0\n", rerun.Output);
            Assert.Null(node.ReadFile("/opt/openvidu/.env"));
            Assert.Equal(InfoOf("3.2.0"), node.ReadFile(Info));
            var run = node.UpdaterRunHistory[^1];
            Assert.Equal(("3.1.0", "3.2.0", 0), (run.From, run.To, run.ExitCode));
            Assert.InRange(run.Ended - run.Started, TimeSpan.FromSeconds(1.5), TimeSpan.FromSeconds(30));
        }
        finally
        {
            node.ClearFaults();
        }
        Assert.False(File.Exists(Path.Combine(node.HostPath("/usr/local/lib/ovha-lab"), "updater-delay")));
    }

    [Fact]
    public async Task Server_ServesTheChainsUpdaters_AtTheRealLayout_OverHttpAndHttps()
    {
        using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
        var downloads = Lab.UpdaterDownloads;
        var installerDownloads = Lab.InstallerDownloads;

        var v310 = await http.GetByteArrayAsync(Lab.UpdaterUrl("3.1.0"));
        var latest = await http.GetStringAsync(Lab.UpdaterUrl("latest"));
        var v300 = await http.GetAsync(Lab.UpdaterUrl("3.0.0"));
        var v3100 = await http.GetAsync(Lab.UpdaterUrl("3.10.0"));
        var inNode = await Ssh.RootAsync(Lab.Nodes[3], Lab.Keys,
            $"curl -fsSL --proto '=https' --proto-redir '=https' {InstallCommands.Quote(Lab.UpdaterHttpsUrl("3.9.0"))} | sha256sum");

        Assert.EndsWith("/update/3.1.0/update.sh", Lab.UpdaterUrl("3.1.0"));
        Assert.StartsWith("https://127.0.0.1:", Lab.UpdaterHttpsUrl("3.1.0"));
        Assert.StartsWith("#!/bin/sh\n", System.Text.Encoding.UTF8.GetString(v310));
        Assert.Equal(Lab.UpdaterSha256("3.1.0"), Convert.ToHexStringLower(SHA256.HashData(v310)));
        Assert.Contains("OPENVIDU_VERSION='3.8.0'\n", latest);
        Assert.Contains($"UPDATE_CHAIN='{string.Join(' ', Lab.UpdateChain)}'\n", latest);
        Assert.Equal("3.0.0 3.1.0 3.2.0 3.3.0 3.4.0 3.4.1 3.5.0 3.6.0 3.6.1 3.7.0 3.8.0 3.9.0", string.Join(' ', Lab.UpdateChain));
        Assert.Equal(HttpStatusCode.NotFound, v300.StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, v3100.StatusCode);
        Assert.Equal($"{Lab.UpdaterSha256("3.9.0")}  -\n", inNode.Output);
        Assert.Throws<ArgumentException>(() => Lab.UpdaterSha256("3.0.0"));
        Assert.Equal(downloads + 3, Lab.UpdaterDownloads);
        Assert.Equal(installerDownloads, Lab.InstallerDownloads);
    }

    [GeneratedRegex(@"📦 Backup directory: /opt/openvidu/backups/(\d{4}-\d{2}-\d{2}-\d{2}-\d{2}-\d{2})_([0-9.]*)/")]
    private static partial Regex BackupLine();
}
