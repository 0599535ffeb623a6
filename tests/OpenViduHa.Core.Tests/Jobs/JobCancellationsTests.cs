using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

public sealed class JobCancellationsTests
{
    [Fact]
    public void Cancel_RegisteredJob_CancelsItsTokenOnly()
    {
        // Arrange
        var cancellations = new JobCancellations();
        var first = cancellations.Register(1, CancellationToken.None);
        var second = cancellations.Register(2, CancellationToken.None);

        // Act
        cancellations.Cancel(1);

        // Assert
        Assert.True(first.IsCancellationRequested);
        Assert.False(second.IsCancellationRequested);
    }

    [Fact]
    public void Register_OuterTokenCancelled_CancelsTheJob()
    {
        // Arrange: the outer token is Hangfire's shutdown.
        var cancellations = new JobCancellations();
        using var shutdown = new CancellationTokenSource();
        var source = cancellations.Register(1, shutdown.Token);

        // Act
        shutdown.Cancel();

        // Assert
        Assert.True(source.IsCancellationRequested);
    }

    [Fact]
    public void Cancel_AfterUnregister_DoesNothing()
    {
        // Arrange
        var cancellations = new JobCancellations();
        var source = cancellations.Register(1, CancellationToken.None);
        var token = source.Token;

        // Act
        cancellations.Unregister(1);
        var thrown = Record.Exception(() => cancellations.Cancel(1));

        // Assert
        Assert.Null(thrown);
        Assert.False(token.IsCancellationRequested);
        Assert.Throws<ObjectDisposedException>(() => source.Token);
    }

    [Fact]
    public void Cancel_UnknownJob_DoesNothing()
    {
        // Arrange
        var cancellations = new JobCancellations();

        // Act
        var thrown = Record.Exception(() => { cancellations.Cancel(5); cancellations.Unregister(5); });

        // Assert
        Assert.Null(thrown);
    }

    [Fact]
    public void Cancel_JobNotRunningHere_GoesToTheRelay_ARunningOneDoesNot()
    {
        // Arrange: with PostgreSQL the relay is the channel to the other instances.
        var cancellations = new JobCancellations();
        var relayed = new List<int>();
        cancellations.Relay = relayed.Add;
        var here = cancellations.Register(1, CancellationToken.None);

        // Act
        cancellations.Cancel(1);
        cancellations.Cancel(2);

        // Assert
        Assert.True(here.IsCancellationRequested);
        Assert.Equal([2], relayed);
    }

    [Fact]
    public void CancelHere_ACancelFromAnotherInstance_IsNeverRelayedBack()
    {
        // Arrange
        var cancellations = new JobCancellations();
        var relayed = new List<int>();
        cancellations.Relay = relayed.Add;
        var here = cancellations.Register(1, CancellationToken.None);

        // Act
        var known = cancellations.CancelHere(1);
        var unknown = cancellations.CancelHere(2);

        // Assert
        Assert.True(known);
        Assert.False(unknown);
        Assert.True(here.IsCancellationRequested);
        Assert.Empty(relayed);
    }
}
