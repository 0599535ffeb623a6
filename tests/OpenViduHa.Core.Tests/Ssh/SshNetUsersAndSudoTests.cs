using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>
/// The SSH engine as a user other than root, against a real sshd and the real sudo: password logins, root through sudo
/// with and without a password, and each way sudo refuses, told apart from a command that merely failed.
/// </summary>
public sealed class SshNetUsersAndSudoTests(LocalSshd sshd) : IClassFixture<LocalSshd>
{
    private readonly SshNetConnector _connector = new(NullLogger<SshNetConnector>.Instance);
    private static readonly SshConnectOptions Options = new() { ConnectTimeout = TimeSpan.FromSeconds(20) };
    private static readonly SshRunOptions AsRoot = new() { AsRoot = true, Description = "a root step" };
    private static readonly SshRunOptions AsUser = new() { AsRoot = false, Description = "a user step" };

    private SshTarget Target(string user, string? password = LocalNode.UserPassword, string? sudoPassword = null, string? key = null) =>
        new("media-1", "127.0.0.1", sshd.Port, user, new SshCredentials(key, null, key is null ? password : null, sudoPassword), sshd.HostKeyFingerprint);

    private Task<ISshSession> ConnectAsync(SshTarget target) => _connector.ConnectAsync(target, Options, CancellationToken.None);

    [Fact]
    public async Task RunAsync_UserWithSudoPassword_RootThroughSudoAndThePasswordNeitherSentOnACommandLineNorSeenByTheCommand()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("deploy", sudoPassword: LocalNode.UserPassword));

        // Act: cat shows what the command's stdin holds.
        var root = await session.RunAsync("id -u; cat; echo end", AsRoot, CancellationToken.None);
        var user = await session.RunAsync("id -un", AsUser, CancellationToken.None);

        // Assert
        Assert.Equal(new SshCommandResult(0, "0\nend\n", ""), root);
        Assert.Equal(new SshCommandResult(0, "deploy\n", ""), user);
        Assert.Contains(sshd.Commands, c => c.StartsWith("sudo -k -S -p '' -- bash -c ", StringComparison.Ordinal) && c.Contains("id -u; cat; echo end", StringComparison.Ordinal));
        Assert.DoesNotContain(sshd.Commands, c => c.Contains(LocalNode.UserPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_NoPasswdUserWithKey_RootThroughSudoWithoutAPassword()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("nopasswd", key: TestKeys.Ed25519));

        // Act
        var result = await session.RunAsync("id -u", AsRoot, CancellationToken.None);

        // Assert
        Assert.Equal(new SshCommandResult(0, "0\n", ""), result);
        Assert.Contains(sshd.Commands, c => c.StartsWith("sudo -n -- bash -c ", StringComparison.Ordinal) && c.EndsWith("'id -u'", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunAsync_WrongSudoPassword_SudoFailureSayingSoNothingRan()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("deploy", sudoPassword: "not the password"));

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => session.RunAsync("touch /tmp/ran", AsRoot, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Equal("sudo failed for deploy@127.0.0.1: the sudo password is wrong.", failure.Message);
        Assert.Equal(new SshCommandResult(1, "", ""), await session.RunAsync("test -e /tmp/ran", AsUser, CancellationToken.None));
    }

    [Theory]
    [InlineData("deploy", null, "sudo failed for deploy@127.0.0.1: it asks for a password: give the node's sudo password, or allow NOPASSWD for this user.")]
    [InlineData("nosudo", LocalNode.UserPassword, "sudo failed for nosudo@127.0.0.1: the user may not use sudo: add it to the sudoers.")]
    public async Task RunAsync_SudoRefuses_SudoFailureSayingWhatToDo(string user, string? sudoPassword, string expected)
    {
        // Arrange: deploy's sudo asks for a password none was given for; nosudo is not in the sudoers.
        await using var session = await ConnectAsync(Target(user, sudoPassword: sudoPassword));

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => session.RunAsync("id -u", AsRoot, CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Equal(expected, failure.Message);
    }

    [Fact]
    public async Task RunAsync_CommandFailsWithSudoLikeWords_AResultNotASudoFailure()
    {
        // Arrange: sudo worked (or was never used); the command itself printed what a refusal prints.
        await using var user = await ConnectAsync(Target("deploy", sudoPassword: LocalNode.UserPassword));
        await using var root = await ConnectAsync(Target("root", key: TestKeys.Ed25519));
        const string refusalLike = "echo 'Sorry, try again.' >&2; echo 'x is not in the sudoers file' >&2; exit 1";
        var expected = new SshCommandResult(1, "", "Sorry, try again.\nx is not in the sudoers file\n");

        // Act
        var asUser = await user.RunAsync(refusalLike, AsUser, CancellationToken.None);
        var asRootByRoot = await root.RunAsync(refusalLike, AsRoot, CancellationToken.None);
        var succeeded = await user.RunAsync("echo 'Sorry, try again.' >&2; exit 0", AsRoot, CancellationToken.None);

        // Assert
        Assert.Equal(expected, asUser);
        Assert.Equal(expected, asRootByRoot);
        Assert.Equal(new SshCommandResult(0, "", "Sorry, try again.\n"), succeeded);
    }

    [Fact]
    public async Task RunAsync_CommandFailsUnderSudo_ItsOwnExitStatusAndOutput()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("deploy", sudoPassword: LocalNode.UserPassword));

        // Act
        var result = await session.RunAsync("echo out; echo err >&2; exit 4", AsRoot, CancellationToken.None);

        // Assert
        Assert.Equal(new SshCommandResult(4, "out\n", "err\n"), result);
    }

    [Fact]
    public async Task ConnectAsync_WrongPassword_AuthenticationFailedAboutThePassword()
    {
        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => ConnectAsync(Target("deploy", password: "wrong")));

        // Assert
        Assert.Equal(SshFailureKind.AuthenticationFailed, failure.Kind);
        Assert.Equal($"deploy@127.0.0.1:{sshd.Port} rejected the password: check the password, and that sshd allows password authentication.", failure.Message);
    }

    [Fact]
    public async Task ConnectAsync_NoPasswordAtAll_AuthenticationFailed()
    {
        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => ConnectAsync(Target("deploy", password: null)));

        // Assert
        Assert.Equal(SshFailureKind.AuthenticationFailed, failure.Kind);
    }
}
