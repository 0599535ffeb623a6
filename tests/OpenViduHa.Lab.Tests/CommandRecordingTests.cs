using System.Text;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>
/// <see cref="LabOptions.RecordCommands"/>: what each node's sshd received, exactly, and what sudo ran, while sessions
/// work as before (output, exit status, stdin, sftp). Tests run one at a time, so a node's last record is the test's.
/// </summary>
public sealed class CommandRecordingTests(RecordingLab fixture) : IClassFixture<RecordingLab>
{
    private Lab Lab => fixture.Lab;

    [Fact]
    public async Task Root_MultiLineCommandWithQuotes_IsRecordedVerbatim_OutputAndExitStatusReachTheClient()
    {
        var node = Lab.Nodes[0];
        const string command = """
            printf '%s|%s\n' "it's" 'say "hi" to $HOME \ back'
            echo "[${SSH_ORIGINAL_COMMAND-unset}]"
            echo 'ünïcødé' >&2
            exit 7
            """;
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));

        var result = await client.RunAsync(command);

        Assert.Equal(7, result.ExitCode);
        Assert.Equal("it's|say \"hi\" to $HOME \\ back\n[unset]\n", result.Output);
        Assert.Equal("ünïcødé\n", result.Error);
        Assert.Equal(new RecordedCommand(LabUsers.Root, command), node.RecordedCommands[^1]);
    }

    [Fact]
    public async Task Deploy_SudoWithPasswordOnStdin_IsRecordedWithoutThePassword_AndInTheSudoLog()
    {
        var node = Lab.Nodes[0];
        const string command = "sudo -k -S -p '' /bin/sh -c 'id -u; echo \"as root: $(cat)\"'";
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var result = await client.RunAsync(command, input: Lab.DeployPassword + "\nrest of stdin\n");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("0\nas root: rest of stdin\n", result.Output);
        Assert.Equal(new RecordedCommand(LabUsers.Deploy, command), node.RecordedCommands[^1]);
        Assert.DoesNotContain(node.RecordedCommands, r => r.Command.Contains(Lab.DeployPassword, StringComparison.Ordinal));
        // sudo quotes an argument with spaces in its log.
        Assert.Contains(SudoLogLines(node, LabUsers.Deploy),
            l => l.EndsWith("USER=root ; COMMAND=/bin/sh -c 'id -u; echo \"as root: $(cat)\"'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task DeployNoPasswd_SudoWithoutPassword_IsRecorded_AndInTheSudoLog()
    {
        var node = Lab.Nodes[1];
        const string command = "sudo -n /usr/bin/id -un";
        using var client = await Ssh.ConnectAsync(node, Ssh.Password(LabUsers.DeployNoPasswd, Lab.DeployPassword));

        var result = await client.RunAsync(command);

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("root\n", result.Output);
        Assert.Equal(new RecordedCommand(LabUsers.DeployNoPasswd, command), node.RecordedCommands[^1]);
        Assert.Contains(SudoLogLines(node, LabUsers.DeployNoPasswd), l => l.EndsWith("USER=root ; COMMAND=/usr/bin/id -un", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Sftp_UploadDownloadAndRunByPath_Work_AndTheSftpSessionIsRecordedAsTheSubsystem()
    {
        var node = Lab.Nodes[1];
        var script = "#!/bin/sh\necho \"ran with [$1]\"\n";
        var folder = $"/home/{LabUsers.Deploy}/.ovha-{Guid.NewGuid():N}";
        var path = folder + "/step.sh";
        var before = node.RecordedCommands.Count;
        var downloaded = new MemoryStream();
        using (var sftp = await Ssh.ConnectSftpAsync(node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519)))
        {
            await sftp.CreateDirectoryAsync(folder);
            sftp.ChangePermissions(folder, 700);  // SSH.NET reads the digits as octal: rwx------
            await sftp.UploadFileAsync(new MemoryStream(Encoding.UTF8.GetBytes(script)), path);
            sftp.ChangePermissions(path, 700);
            await sftp.DownloadFileAsync(path, downloaded);
        }
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var result = await client.RunAsync($"sudo -k -S -p '' {path} 'a b'", input: Lab.DeployPassword + "\n");

        Assert.Equal(script, Encoding.UTF8.GetString(downloaded.ToArray()));
        Assert.Equal(script, node.ReadFile(path));
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.Equal("ran with [a b]\n", result.Output);
        Assert.Equal(
            [new RecordedCommand(LabUsers.Deploy, RecordedCommand.SftpServer), new RecordedCommand(LabUsers.Deploy, $"sudo -k -S -p '' {path} 'a b'")],
            node.RecordedCommands.Skip(before));
        Assert.Contains(SudoLogLines(node, LabUsers.Deploy), l => l.EndsWith($"USER=root ; COMMAND={path} 'a b'", StringComparison.Ordinal));
    }

    [Fact]
    public void SshdConfig_ForcesTheRecorder_AndServesSftpWithTheExternalServer()
    {
        var config = Lab.Nodes[0].ReadFile("/etc/ssh/sshd_config")!;

        Assert.Contains($"\nForceCommand {NodeImage.RecorderPath}\n", config);
        Assert.Contains($"\nSubsystem sftp {RecordedCommand.SftpServer}\n", config);
        Assert.DoesNotContain("internal-sftp", config);
        Assert.StartsWith("#!/bin/sh\n", Lab.Nodes[0].ReadFile(NodeImage.RecorderPath));
    }

    /// <summary>The node's sudo log lines of one user (<c>date : user : PWD=… ; USER=root ; COMMAND=…</c>).</summary>
    private static IEnumerable<string> SudoLogLines(LabNode node, string user) =>
        node.SudoLog.Split('\n').Where(l => l.Contains($" : {user} : ", StringComparison.Ordinal));
}
