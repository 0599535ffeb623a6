using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Jobs;

/// <summary>
/// How secrets reach a node as root-only files, and what earlier jobs left is removed: the real commands run by real
/// bash and coreutils on a <see cref="LocalNode"/> (failures injected with a failing mkdir or install first on PATH).
/// Over real SSH and sudo, and read back from sshd's and sudo's logs: OpenViduHa.Install.Tests.
/// </summary>
public sealed class PrivateFilesTests
{
    private const UnixFileMode Executable = (UnixFileMode)0b111_101_101;

    [Fact]
    public async Task PutAsync_Content_RootOnlyFileUnderRunAndNoUploadLeft()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var node = cluster.Node("master-1");
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var path = await cluster.PrivateFiles.PutAsync(run, session, "install.sh", "SECRET=TopSecretValue\n");

        // Assert
        Assert.Matches($"^/run/ovha-panel/j{run.Context.JobId}-[a-z0-9]{{12}}-install\\.sh$", path);
        Assert.Equal("SECRET=TopSecretValue\n", node.Read(path));
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(node.HostPath(path)));
        Assert.Equal((UnixFileMode)0b111_000_000, File.GetUnixFileMode(node.HostPath(PrivateFiles.Directory)));
        Assert.DoesNotContain(node.List("/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
        Assert.DoesNotContain(node.Commands, c => c.Contains("TopSecretValue", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutAndRemove_LoginUserWithSudo_UploadsAsItselfMovesAndRemovesAsRoot()
    {
        // Arrange: a node reached as "deploy", whose sudo asks its password.
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var node = cluster.Node("master-1");
        var deploy = run.AllNodes[0].Ssh with { Username = "deploy", Credentials = new(null, null, LocalNode.UserPassword, LocalNode.UserPassword) };
        await using var session = await cluster.Connector.ConnectAsync(deploy, new SshConnectOptions(), CancellationToken.None);
        var before = node.Commands.Count;

        // Act
        var path = await cluster.PrivateFiles.PutAsync(run, session, "install.sh", "SECRET=TopSecretValue\n");
        var written = node.Read(path);
        var owner = File.GetUnixFileMode(node.HostPath(path));
        await cluster.PrivateFiles.RemoveAsync(session, path);

        // Assert: the upload folder is the user's own (made and removed without sudo), the move and the removal are root's.
        Assert.Equal("SECRET=TopSecretValue\n", written);
        Assert.Equal((UnixFileMode)0b111_000_000, owner);
        Assert.False(node.Exists(path));
        Assert.DoesNotContain(node.List("/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
        var sent = node.Commands.Skip(before).Select(c => c.StartsWith("sudo ", StringComparison.Ordinal) ? "sudo" : "user").ToList();
        Assert.Equal(["user", "sudo", "user", "sudo"], sent);
        Assert.DoesNotContain(node.Commands, c => c.Contains("TopSecretValue", StringComparison.Ordinal) || c.Contains(LocalNode.UserPassword, StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutAsync_SameNameTwice_TwoFilesWithUnguessableNames()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var first = await cluster.PrivateFiles.PutAsync(run, session, "x", "1");
        var second = await cluster.PrivateFiles.PutAsync(run, session, "x", "2");

        // Assert
        Assert.NotEqual(first, second);
        Assert.Equal(2, cluster.Node("master-1").List(PrivateFiles.Directory).Count);
    }

    [Fact]
    public async Task PutAsync_UploadFolderRefused_FailsNamingTheStep()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        cluster.Node("master-1").Write($"{LocalNode.StubDirectory}/bin/mkdir", "#!/bin/bash\necho \"mkdir: cannot create directory '$1': Read-only file system\" >&2\nexit 1\n", Executable);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => cluster.PrivateFiles.PutAsync(run, session, "x", "1"));

        // Assert
        Assert.Equal(SshFailureKind.CommandFailed, failure.Kind);
        Assert.StartsWith("Could not create a private upload folder on master-1: mkdir: cannot create directory '/tmp/.ovha-j", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutAsync_MoveRefused_FailsAndTheUploadIsRemovedAnyway()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var node = cluster.Node("master-1");
        node.Write($"{LocalNode.StubDirectory}/bin/install", "#!/bin/bash\necho 'install: cannot change ownership' >&2\nexit 1\n", Executable);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var failure = await Assert.ThrowsAsync<SshFailureException>(() => cluster.PrivateFiles.PutAsync(run, session, "x", "TopSecretValue"));

        // Assert
        Assert.Equal("Could not move the file into /run/ovha-panel on master-1: install: cannot change ownership", failure.Message);
        Assert.DoesNotContain(node.List("/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task PutAsync_MoveFailsAfterTheFileLanded_TheFileIsRemovedToo()
    {
        // Arrange: the move writes the file, then fails (as a cancel or a dropped answer after the move does): the caller
        // never learns the file's name, so PutAsync must remove it itself.
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var node = cluster.Node("master-1");
        node.Write($"{LocalNode.StubDirectory}/bin/install", "#!/bin/bash\n/usr/bin/install \"$@\"\necho 'install: the answer was lost' >&2\nexit 1\n", Executable);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        await Assert.ThrowsAsync<SshFailureException>(() => cluster.PrivateFiles.PutAsync(run, session, "install.sh", "SECRET=TopSecretValue\n"));

        // Assert
        Assert.Empty(node.List(PrivateFiles.Directory));
        Assert.DoesNotContain(node.List("/tmp"), e => e.StartsWith(".ovha-", StringComparison.Ordinal));
    }

    [Fact]
    public async Task RemoveAsync_Paths_RemovedAndNothingSentWithoutPaths()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var node = cluster.Node("master-1");
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);
        var first = await cluster.PrivateFiles.PutAsync(run, session, "a", "1");
        var second = await cluster.PrivateFiles.PutAsync(run, session, "b b", "2");
        var sent = node.Commands.Count;

        // Act
        await cluster.PrivateFiles.RemoveAsync(session);
        var sentWithoutPaths = node.Commands.Count;
        await cluster.PrivateFiles.RemoveAsync(session, first, second);

        // Assert
        Assert.Equal(sent, sentWithoutPaths);
        Assert.Empty(node.List(PrivateFiles.Directory));
    }

    [Fact]
    public async Task RemoveAsync_ConnectionGone_DoesNotThrow()
    {
        // Arrange: removal runs in finally blocks, also after the connection dropped.
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);
        cluster.Node("master-1").RefuseConnections();

        // Act
        var thrown = await Record.ExceptionAsync(() => cluster.PrivateFiles.RemoveAsync(session, "/run/ovha-panel/j1-x"));

        // Assert
        Assert.Null(thrown);
    }

    [Fact]
    public async Task CleanLeftoversAsync_EarlierJobsFiles_RemovedTheRunningJobsKept()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        var own = $"j{run.Context.JobId}-";
        var node = cluster.Node("master-1");
        node.Write($"/run/ovha-panel/j{run.Context.JobId + 100}-aaaaaaaaaaaa-install.sh", "old secrets");
        node.Write($"/run/ovha-panel/{own}bbbbbbbbbbbb-install.sh", "this job's");
        node.Write($"/run/ovha-panel/j{run.Context.JobId}0-cccccccccccc-install.sh", "job ten times the id: not this job");
        node.Write($"/tmp/.ovha-j{run.Context.JobId + 100}-dddddddddddd/install.sh", "an upload folder");
        node.Write($"/tmp/.ovha-{own}eeeeeeeeeeee/x", "this job's upload");
        node.Write("/tmp/unrelated", "not the panel's");
        File.CreateSymbolicLink(node.HostPath("/run/ovha-panel/j9999-dangling"), "/nowhere");
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var removed = await cluster.PrivateFiles.CleanLeftoversAsync(run, session);

        // Assert
        Assert.Equal(4, removed);
        Assert.Equal([$"{own}bbbbbbbbbbbb-install.sh"], node.List("/run/ovha-panel"));
        Assert.Equal([$".ovha-{own}eeeeeeeeeeee", "unrelated"], node.List("/tmp"));
    }

    [Fact]
    public async Task CleanLeftoversAsync_NothingThere_Zero()
    {
        // Arrange
        await using var cluster = await LocalCluster.StartAsync();
        var run = await cluster.JobRunAsync(JobKind.Install);
        await using var session = await cluster.Connector.ConnectAsync(run.AllNodes[0].Ssh, new SshConnectOptions(), CancellationToken.None);

        // Act
        var removed = await cluster.PrivateFiles.CleanLeftoversAsync(run, session);

        // Assert
        Assert.Equal(0, removed);
    }
}
