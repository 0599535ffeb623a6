using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>
/// <see cref="ISshSession.RunScriptAsync"/> against a real sshd and the real sudo: scripts run in one bash kept open per
/// connection (a status probe every sweep without a channel and a login per run), framed so that nothing a script prints
/// can end it early, isolated from each other, and the ordinary way for users whose sudo wants a password.
/// </summary>
public sealed class KeptShellTests(LocalSshd sshd) : IClassFixture<LocalSshd>
{
    private readonly SshNetConnector _connector = new(NullLogger<SshNetConnector>.Instance);
    private static readonly SshConnectOptions Options = new() { ConnectTimeout = TimeSpan.FromSeconds(20) };
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(20);

    private SshTarget Target(string user = "root", string? password = null, string? sudoPassword = null, bool withKey = true) =>
        new("media-1", "127.0.0.1", sshd.Port, user, new SshCredentials(withKey ? TestKeys.Ed25519 : null, null, withKey ? null : password, sudoPassword), sshd.HostKeyFingerprint);

    private Task<ISshSession> ConnectAsync(SshTarget target) => _connector.ConnectAsync(target, Options, CancellationToken.None);

    private int ShellSessions() => sshd.Commands.Count(c => c.Length == 0);

    [Fact]
    public async Task RunScriptAsync_Root_ManyRunsInOneKeptShell_OutputStatusAndNoScriptOnACommandLine()
    {
        // Arrange
        await using var session = await ConnectAsync(Target());
        var shellsBefore = ShellSessions();
        var commandsBefore = sshd.Commands.Count;

        // Act
        var results = new List<ScriptResult>();
        for (var i = 0; i < 5; i++)
            results.Add(await session.RunScriptAsync($"echo kept-run-{i}; id -u; (exit 3)", Timeout, "a probe", CancellationToken.None));
        var failing = await session.RunScriptAsync("echo before; exit 7", Timeout, "a probe", CancellationToken.None);

        // Assert: one shell session for all six runs, and no exec request carried a script.
        Assert.All(results.Select((r, i) => (r, i)), x => Assert.Equal(new ScriptResult(3, $"kept-run-{x.i}\n0\n", "", x.r.FirstOutput, true), x.r));
        Assert.All(results, r => Assert.True(r.FirstOutput > TimeSpan.Zero && r.FirstOutput < Timeout));
        Assert.Equal((7, "before\n"), (failing.ExitStatus, failing.Stdout));
        Assert.Equal(shellsBefore + 1, ShellSessions());
        Assert.Equal(commandsBefore + 1, sshd.Commands.Count);
        Assert.DoesNotContain(sshd.Commands, c => c.Contains("kept-run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunScriptAsync_ManyDifferentScripts_EachRightAndAtMostAFewKeptDefinedInBash()
    {
        // Arrange: a script is kept in bash as a function after its first run; each new one beyond a few unsets them.
        await using var session = await ConnectAsync(Target());

        // Act: ten different scripts, each twice, then one that counts what bash keeps defined.
        var outputs = new List<string>();
        for (var i = 0; i < 10; i++)
            for (var again = 0; again < 2; again++)
                outputs.Add((await session.RunScriptAsync($"echo script-{i}", Timeout, "a probe", CancellationToken.None)).Stdout);
        var kept = await session.RunScriptAsync("declare -F | grep -c ' ovha_f'", Timeout, "a probe", CancellationToken.None);

        // Assert
        Assert.Equal(Enumerable.Range(0, 10).SelectMany(i => new[] { $"script-{i}\n", $"script-{i}\n" }), outputs);
        var functions = int.Parse(kept.Stdout.Trim(), System.Globalization.CultureInfo.InvariantCulture);
        Assert.InRange(functions, 1, 4);
    }

    [Fact]
    public async Task RunScriptAsync_ScriptsAreIsolated_NoVariableOrDirectoryOrStdinCrossesRuns()
    {
        // Arrange
        await using var session = await ConnectAsync(Target());

        // Act: the first run sets a variable, moves, and reads stdin (which would be the next script, were it the shell's).
        var first = await session.RunScriptAsync("leak=yes; cd /tmp; cat; echo read-done", Timeout, "a probe", CancellationToken.None);
        var second = await session.RunScriptAsync("echo \"leak=${leak-none} pwd=$PWD\"", Timeout, "a probe", CancellationToken.None);

        // Assert
        Assert.Equal("read-done\n", first.Stdout);
        Assert.DoesNotContain("/tmp", second.Stdout, StringComparison.Ordinal);
        Assert.StartsWith("leak=none pwd=", second.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public async Task RunScriptAsync_ScriptPrintsEndLikeLinesAndMuchOutput_AllOfItComesBack()
    {
        // Arrange
        await using var session = await ConnectAsync(Target());

        // Act: lines shaped like the frame's (but another shell's token) and ~1.5 MB of output in one piece.
        var result = await session.RunScriptAsync(
            "echo '@@ovha-end-0000000000000000-2 0'; printf '\\n@@ovha-start-x-1\\n'; head -c 1500000 /dev/zero | tr '\\0' a; echo; echo last",
            Timeout, "a probe", CancellationToken.None);

        // Assert
        var lines = result.Stdout.Split('\n');
        Assert.Equal(0, result.ExitStatus);
        Assert.Equal(["@@ovha-end-0000000000000000-2 0", "", "@@ovha-start-x-1", new string('a', 1_500_000), "last", ""], lines);
    }

    [Fact]
    public async Task RunScriptAsync_LongerThanItsTimeout_TimesOut_TheNextRunsInANewShell()
    {
        // Arrange
        await using var session = await ConnectAsync(Target());
        await session.RunScriptAsync("true", Timeout, "a probe", CancellationToken.None);
        var shellsBefore = ShellSessions();

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() =>
            session.RunScriptAsync("echo started; sleep 30", TimeSpan.FromMilliseconds(500), "a probe", CancellationToken.None));
        var next = await session.RunScriptAsync("echo again", Timeout, "a probe", CancellationToken.None);

        // Assert: the late run's output never reaches the next one.
        Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        Assert.Equal(new ScriptResult(0, "again\n", "", next.FirstOutput, true), next);
        Assert.Equal(shellsBefore + 1, ShellSessions());
    }

    [Fact]
    public async Task RunScriptAsync_NoPasswdUser_KeptShellAsRootThroughSudo()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("nopasswd"));

        // Act
        var first = await session.RunScriptAsync("id -u", Timeout, "a probe", CancellationToken.None);
        var second = await session.RunScriptAsync("id -un", Timeout, "a probe", CancellationToken.None);

        // Assert
        Assert.Equal(new ScriptResult(0, "0\n", "", first.FirstOutput, true), first);
        Assert.Equal(new ScriptResult(0, "root\n", "", second.FirstOutput, true), second);
    }

    [Fact]
    public async Task RunScriptAsync_UserWithSudoPassword_RunsEachScriptTheOrdinaryWay_PasswordNeverInAShell()
    {
        // Arrange
        await using var session = await ConnectAsync(Target("deploy", password: LocalNode.UserPassword, sudoPassword: LocalNode.UserPassword, withKey: false));
        var shellsBefore = ShellSessions();

        // Act
        var result = await session.RunScriptAsync("id -u; echo sudo-pw-run", Timeout, "a probe", CancellationToken.None);

        // Assert
        Assert.Equal((0, "0\nsudo-pw-run\n", false), (result.ExitStatus, result.Stdout, result.InKeptShell));
        Assert.Equal(shellsBefore, ShellSessions());
        Assert.Contains(sshd.Commands, c => c.StartsWith("sudo -k -S -p '' -- bash -c ", StringComparison.Ordinal) && c.Contains("sudo-pw-run", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RunScriptAsync_SudoWantsAPasswordNoneGiven_TheOrdinaryWaysSudoFailure()
    {
        // Arrange: deploy's sudo asks for a password; the kept shell's sudo -n ends at once.
        await using var session = await ConnectAsync(Target("deploy", password: LocalNode.UserPassword, withKey: false));

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => session.RunScriptAsync("id -u", Timeout, "a probe", CancellationToken.None));
        var again = await Assert.ThrowsAsync<SshFailureException>(() => session.RunScriptAsync("id -u", Timeout, "a probe", CancellationToken.None));

        // Assert
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Equal("sudo failed for deploy@127.0.0.1: it asks for a password: give the node's sudo password, or allow NOPASSWD for this user.", failure.Message);
        Assert.Equal(SshFailureKind.SudoFailed, again.Kind);
    }
}
