using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Ssh;

public sealed class SshContractsTests
{
    [Theory]
    [InlineData(0, true)]
    [InlineData(1, false)]
    [InlineData(-1, false)]
    public void Succeeded_ExitStatus_OnlyZeroSucceeds(int exitStatus, bool expected)
    {
        // Act
        var result = new SshCommandResult(exitStatus, "", "");

        // Assert
        Assert.Equal(expected, result.Succeeded);
    }

    [Fact]
    public void LastMessage_StderrAndStdout_IsTheLastNonEmptyStderrLineTrimmed()
    {
        // Arrange
        var result = new SshCommandResult(1, "out one\nout two\n", "first\n  curl: (22) 404  \n\n   \n");

        // Act
        var message = result.LastMessage();

        // Assert
        Assert.Equal("curl: (22) 404", message);
    }

    [Fact]
    public void LastMessage_BlankStderr_IsTheLastStdoutLine()
    {
        // Arrange
        var result = new SshCommandResult(2, "one\n two \n", " \n");

        // Act
        var message = result.LastMessage();

        // Assert
        Assert.Equal("two", message);
    }

    [Fact]
    public void LastMessage_NoOutput_IsTheExitStatus()
    {
        // Act
        var message = new SshCommandResult(127, "", "").LastMessage();

        // Assert
        Assert.Equal("exit status 127", message);
    }

    [Theory]
    [InlineData("root", true)]
    [InlineData("deploy", false)]
    [InlineData("Root", false)]
    public void IsRoot_Username_OnlyRootIsRoot(string user, bool expected)
    {
        // Act
        var target = new SshTarget("media-1", "10.5.0.11", 22, user, new SshCredentials(null, null, "pw", null), null);

        // Assert
        Assert.Equal(expected, target.IsRoot);
    }

    [Fact]
    public void ToString_Target_NamesNodeUserAndEndpointButNoCredential()
    {
        // Arrange
        var target = new SshTarget("media-1", "10.5.0.11", 2200, "deploy", new SshCredentials(null, null, "VerySecretPassword", "SudoSecret"), null);

        // Act
        var text = target.ToString();

        // Assert
        Assert.Equal("media-1 (deploy@10.5.0.11:2200)", text);
    }

    [Fact]
    public void Defaults_RunAndConnectOptions_AreRootTwoMinutesTenSecondsAndKeepAlive()
    {
        // Act
        var run = new SshRunOptions();
        var connect = new SshConnectOptions();

        // Assert
        Assert.True(run.AsRoot);
        Assert.Equal(TimeSpan.FromMinutes(2), run.Timeout);
        Assert.Equal(TimeSpan.FromSeconds(10), connect.ConnectTimeout);
        Assert.Equal(TimeSpan.FromSeconds(15), connect.KeepAlive);
        Assert.False(connect.PreferPostQuantum);
    }
}
