using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Ssh;

/// <summary>What an operator reads when SSH does not work: the kind, the place, and what to do next.</summary>
public sealed class SshFailureTests
{
    private static readonly SshTarget KeyTarget = new("master-1", "10.5.0.1", 2222, "deploy", new SshCredentials("KEY", null, null, null), "SHA256:pinned");
    private static readonly SshTarget PasswordTarget = KeyTarget with { Credentials = new SshCredentials(null, null, "pw", null) };

    [Fact]
    public void Refused_Always_NamesEndpointAndSshd()
    {
        // Arrange
        var inner = new InvalidOperationException("inner");

        // Act
        var failure = SshFailureException.Refused(KeyTarget, inner);

        // Assert
        Assert.Equal(SshFailureKind.ConnectionRefused, failure.Kind);
        Assert.Equal("10.5.0.1:2222 refused the connection: is sshd running and listening on port 2222, and does a firewall allow it?", failure.Message);
        Assert.Same(inner, failure.InnerException);
    }

    [Fact]
    public void Unreachable_Always_CarriesTheCause()
    {
        // Act
        var failure = SshFailureException.Unreachable(KeyTarget, new InvalidOperationException("No route to host"));

        // Assert
        Assert.Equal(SshFailureKind.Unreachable, failure.Kind);
        Assert.Equal("10.5.0.1:2222 cannot be reached (No route to host): check the address and the network path from the panel.", failure.Message);
    }

    [Fact]
    public void TimedOut_Always_SaysWhatAndAfterHowLong()
    {
        // Act
        var failure = SshFailureException.TimedOut(KeyTarget, TimeSpan.FromSeconds(10), "connecting");

        // Assert
        Assert.Equal(SshFailureKind.Timeout, failure.Kind);
        Assert.Equal("10.5.0.1:2222: connecting timed out after 10 s: the node is down, or a firewall drops SSH.", failure.Message);
        Assert.Null(failure.InnerException);
    }

    [Fact]
    public void AuthFailed_Key_PointsAtAuthorizedKeys()
    {
        // Act
        var failure = SshFailureException.AuthFailed(KeyTarget, new InvalidOperationException());

        // Assert
        Assert.Equal(SshFailureKind.AuthenticationFailed, failure.Kind);
        Assert.Equal("deploy@10.5.0.1:2222 rejected the private key: check that the key's public half is in the user's ~/.ssh/authorized_keys.", failure.Message);
    }

    [Fact]
    public void AuthFailed_Password_PointsAtPasswordAuthentication()
    {
        // Act
        var failure = SshFailureException.AuthFailed(PasswordTarget, new InvalidOperationException());

        // Assert
        Assert.Equal("deploy@10.5.0.1:2222 rejected the password: check the password, and that sshd allows password authentication.", failure.Message);
    }

    [Fact]
    public void Mismatch_Always_NamesBothFingerprintsAndKeepsThePresentedOne()
    {
        // Act
        var failure = SshFailureException.Mismatch(KeyTarget, "SHA256:presented");

        // Assert
        Assert.Equal(SshFailureKind.HostKeyMismatch, failure.Kind);
        Assert.Equal("SHA256:presented", failure.PresentedFingerprint);
        Assert.StartsWith("Host key mismatch for 10.5.0.1:2222: expected SHA256:pinned, the server presented SHA256:presented. Nothing ran. ", failure.Message, StringComparison.Ordinal);
        Assert.EndsWith("re-pin its new key explicitly; otherwise someone may be intercepting the connection.", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void NotConfirmed_Always_TellsHowToCompareAndKeepsThePresentedOne()
    {
        // Act
        var failure = SshFailureException.NotConfirmed(KeyTarget, "SHA256:presented");

        // Assert
        Assert.Equal(SshFailureKind.HostKeyNotConfirmed, failure.Kind);
        Assert.Equal("SHA256:presented", failure.PresentedFingerprint);
        Assert.Equal("The host key of 10.5.0.1:2222 is not confirmed yet. It presented SHA256:presented: compare it with " +
                     "'ssh-keygen -lf /etc/ssh/ssh_host_ed25519_key.pub' on the machine, then confirm it. Nothing ran.", failure.Message);
    }

    [Theory]
    [InlineData("sudo: a password is required", "it asks for a password: give the node's sudo password, or allow NOPASSWD for this user.")]
    [InlineData("sudo: 1 incorrect password attempt", "the sudo password is wrong.")]
    [InlineData("Sorry, try again.", "the sudo password is wrong.")]
    [InlineData("deploy is not in the sudoers file.  This incident will be reported.", "the user may not use sudo: add it to the sudoers.")]
    [InlineData("Sorry, user deploy is not allowed to execute '/bin/bash' as root", "the user may not use sudo: add it to the sudoers.")]
    [InlineData("bash: sudo: command not found", "sudo is not installed on the node.")]
    [InlineData("sudo: something else", "sudo refused to run the command.")]
    public void Sudo_Stderr_ExplainsTheReason(string stderr, string reason)
    {
        // Act
        var failure = SshFailureException.Sudo(KeyTarget, stderr);

        // Assert
        Assert.Equal(SshFailureKind.SudoFailed, failure.Kind);
        Assert.Equal($"sudo failed for deploy@10.5.0.1: {reason}", failure.Message);
    }

    [Theory]
    [InlineData("sudo: a password is required\n", true)]
    [InlineData("sudo: 3 incorrect password attempts\n", true)]
    [InlineData("Sorry, try again.\n", true)]
    [InlineData("deploy is not in the sudoers file.  This incident will be reported.\n", true)]
    [InlineData("deploy is not allowed to run sudo on node.\n", true)]
    [InlineData("bash: sudo: command not found\n", true)]
    [InlineData("sh: 1: sudo: not found\n", true)]
    [InlineData("cat: /opt/openvidu/.env: No such file or directory\n", false)]
    [InlineData("", false)]
    public void IsSudoRefusal_Stderr_TellsSudoFromTheCommand(string stderr, bool expected)
    {
        // Act
        var refused = SshFailureException.IsSudoRefusal(stderr);

        // Assert
        Assert.Equal(expected, refused);
    }

    [Fact]
    public void IsSudoRefusal_CommandThatPrintsSudoWordsInOtherCase_IsNotARefusal()
    {
        // Arrange: the check is exact (ordinal): only sudo's own wording counts.
        const string stderr = "SUDO: A PASSWORD IS REQUIRED";

        // Act
        var refused = SshFailureException.IsSudoRefusal(stderr);

        // Assert
        Assert.False(refused);
    }
}
