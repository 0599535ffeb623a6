using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using Renci.SshNet;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>
/// How a command is wrapped before it goes to the node (bash, sudo, where the sudo password goes). The wrapping needs no
/// connection: the client is built and never connected. Running through a real sshd and sudo is OpenViduHa.Install.Tests'.
/// </summary>
public sealed class SshNetSessionTests
{
    private static SshNetSession Session(string user, string? sudoPassword)
    {
        var target = new SshTarget("media-1", "10.5.0.11", 22, user, new SshCredentials(null, null, "pw", sudoPassword), "SHA256:x");
        var info = new ConnectionInfo(target.Host, target.Port, target.Username, new PasswordAuthenticationMethod(target.Username, "pw"));
        return new SshNetSession(new SshClient(info), info, target, "SHA256:x", NullLogger.Instance);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task Wrap_Root_IsBashWithoutSudoWhatever(bool asRoot)
    {
        // Arrange
        await using var session = Session("root", sudoPassword: "ignored");

        // Act
        var (command, stdin) = session.Wrap("systemctl start openvidu", asRoot);

        // Assert
        Assert.Equal("bash -c 'systemctl start openvidu'", command);
        Assert.Null(stdin);
    }

    [Fact]
    public async Task Wrap_NonRootNotAsRoot_IsBashAsThatUser()
    {
        // Arrange
        await using var session = Session("deploy", sudoPassword: "SudoSecret");

        // Act
        var (command, stdin) = session.Wrap("mkdir /tmp/x", asRoot: false);

        // Assert
        Assert.Equal("bash -c 'mkdir /tmp/x'", command);
        Assert.Null(stdin);
    }

    [Fact]
    public async Task Wrap_NonRootWithoutSudoPassword_IsNonInteractiveSudo()
    {
        // Arrange
        await using var session = Session("deploy", sudoPassword: null);

        // Act
        var (command, stdin) = session.Wrap("id -u", asRoot: true);

        // Assert
        Assert.Equal("sudo -n -- bash -c 'id -u'", command);
        Assert.Null(stdin);
    }

    [Fact]
    public async Task Wrap_NonRootWithSudoPassword_PasswordGoesToStdinNeverTheCommandLine()
    {
        // Arrange
        await using var session = Session("deploy", sudoPassword: "SudoSecret");

        // Act
        var (command, stdin) = session.Wrap("id -u", asRoot: true);

        // Assert
        Assert.Equal("sudo -k -S -p '' -- bash -c 'exec </dev/null; id -u'", command);
        Assert.Equal("SudoSecret", stdin);
        Assert.DoesNotContain("SudoSecret", command, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrap_EmptySudoPassword_IsNonInteractiveSudo()
    {
        // Arrange
        await using var session = Session("deploy", sudoPassword: "");

        // Act
        var (command, stdin) = session.Wrap("id -u", asRoot: true);

        // Assert
        Assert.StartsWith("sudo -n -- ", command, StringComparison.Ordinal);
        Assert.Null(stdin);
    }

    [Fact]
    public async Task Wrap_CommandWithQuotesAndExpansions_RunsUnchangedThroughARealShell()
    {
        // Arrange: sshd hands the wrapped line to the login shell, which must give bash -c the command as written.
        await using var session = Session("root", sudoPassword: null);
        const string original = "x='it'\"'\"'s'; printf '%s|%s' \"$x\" \"$(echo a b)\"";
        var (command, _) = session.Wrap(original, asRoot: true);

        // Act
        var result = await ProcessRunner.RunAsync(RequiredTools.Bash, ["-c", command]);

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("it's|a b\n", result.StdOut);
    }

    [Fact]
    public async Task Properties_UnconnectedSession_ReportTargetAndPresentedKey()
    {
        // Arrange
        await using var session = Session("deploy", null);

        // Act
        var connected = session.IsConnected;

        // Assert
        Assert.False(connected);
        Assert.Equal("media-1", session.Target.NodeName);
        Assert.Equal("SHA256:x", session.PresentedFingerprint);
    }
}
