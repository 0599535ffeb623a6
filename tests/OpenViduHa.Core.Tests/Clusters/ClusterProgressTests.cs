using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>A cluster's stage and its next steps, from its nodes and its recent jobs.</summary>
public sealed class ClusterProgressTests
{
    private static readonly DateTimeOffset At = new(2026, 11, 29, 10, 0, 0, TimeSpan.Zero);

    private static NodeView Node(int i, string? pinned = null, string? presented = null, bool installed = false) =>
        new(i, i <= 4 ? $"master-{i}" : $"media-{i - 4}", i <= 4 ? NodeRole.Master : NodeRole.Media, $"10.0.0.{i}", null,
            new SshView($"10.0.0.{i}", 22, "root", "key", false, pinned))
        {
            PresentedHostKeyFingerprint = presented,
            InstalledAt = installed ? At : null,
        };

    private static List<NodeView> Nodes(Func<int, NodeView> node) => Enumerable.Range(1, 6).Select(node).ToList();

    private static JobView Job(int id, JobKind kind, JobState state, params (string Node, NodeJobState State)[] nodes) =>
        new(id, 1, kind, null, state, null, "alice", At, At, null, null, nodes.Select((n, i) => new JobNodeView(i + 1, n.Node, n.State, null, null)).ToList());

    [Fact]
    public void Of_NewCluster_IsNotInstalled_WithPreflightAsTheFirstStepLeft()
    {
        // Act
        var progress = ClusterProgress.Of(Nodes(i => Node(i)), []);

        // Assert
        Assert.Equal((ClusterStage.NotInstalled, "not installed"), (progress.Stage, progress.Word));
        Assert.Equal(["preflight", "keys", "install"], progress.Steps.Select(s => s.Key));
        Assert.All(progress.Steps, s => Assert.False(s.Done));
        Assert.Equal("Confirm 6 host keys", progress.Steps[1].Title);
        Assert.Equal("0 of 6 pinned. The preflight records the others.", progress.Steps[1].Detail);
    }

    [Fact]
    public void Of_AfterAPreflightThatRecordedKeys_KeysToConfirm_NamesTheNodes()
    {
        // Arrange
        var nodes = Nodes(i => i <= 2 ? Node(i, pinned: "SHA256:a") : Node(i, presented: "SHA256:b"));

        // Act
        var progress = ClusterProgress.Of(nodes, [Job(3, JobKind.Preflight, JobState.Succeeded)]);

        // Assert
        Assert.Equal(ClusterStage.KeysToConfirm, progress.Stage);
        Assert.True(progress.Steps[0].Done);
        Assert.Equal("Passed (job #3).", progress.Steps[0].Detail);
        Assert.False(progress.Steps[1].Done);
        Assert.Contains("2 of 6 pinned. Compare master-3, master-4, media-1 and media-2 with", progress.Steps[1].Detail, StringComparison.Ordinal);
    }

    private static JobView FirstContactPreflight(int id) =>
        new(id, 1, JobKind.Preflight, null, JobState.Failed, null, "alice", At, At, null, null,
            Enumerable.Range(1, 6).Select(i => new JobNodeView(i, i <= 4 ? $"master-{i}" : $"media-{i - 4}", NodeJobState.Failed,
                $"The host key of 10.0.0.{i}:22 is not confirmed yet. It presented SHA256:b{i}: compare it with 'ssh-keygen -lf …' on the machine, then confirm it. Nothing ran.", null)).ToList());

    /// <summary>First contact: the preflight fails because nobody confirmed the keys yet, and that is its job done: confirming is next.</summary>
    [Fact]
    public void Of_FirstContactPreflight_RecordedKeys_KeysAreTheCurrentStep()
    {
        var nodes = Nodes(i => Node(i, presented: $"SHA256:b{i}"));

        var progress = ClusterProgress.Of(nodes, [FirstContactPreflight(1)]);

        Assert.Equal(ClusterStage.KeysToConfirm, progress.Stage);
        Assert.True(progress.Steps[0].Done);
        Assert.Equal("Host keys recorded (job #1). Once they are confirmed, run it again: it checks the machines then.", progress.Steps[0].Detail);
        Assert.False(progress.Steps[1].Done);
    }

    [Fact]
    public void Of_KeysConfirmedAfterFirstContact_PreflightAgain()
    {
        var nodes = Nodes(i => Node(i, pinned: $"SHA256:b{i}"));

        var progress = ClusterProgress.Of(nodes, [FirstContactPreflight(1)]);

        Assert.False(progress.Steps[0].Done);
        Assert.Equal("Job #1 ran before the host keys were confirmed: run it again to check the machines.", progress.Steps[0].Detail);
        Assert.True(progress.Steps[1].Done);
    }

    [Fact]
    public void Of_FailedPreflight_SaysOnWhichNodes()
    {
        // Act
        var progress = ClusterProgress.Of(Nodes(i => Node(i)),
            [Job(4, JobKind.Preflight, JobState.Failed, ("master-1", NodeJobState.Succeeded), ("media-2", NodeJobState.Failed))]);

        // Assert
        Assert.False(progress.Steps[0].Done);
        Assert.StartsWith("Job #4 failed on media-2: see the Jobs tab", progress.Steps[0].Detail, StringComparison.Ordinal);
    }

    [Fact]
    public void Of_InstallQueued_IsInstalling_AndSaysWhichJob()
    {
        // Act
        var progress = ClusterProgress.Of(Nodes(i => Node(i, pinned: "SHA256:a")),
            [Job(7, JobKind.Install, JobState.Running), Job(6, JobKind.Preflight, JobState.Succeeded)]);

        // Assert
        Assert.Equal(ClusterStage.Installing, progress.Stage);
        Assert.Equal([true, true, false], progress.Steps.Select(s => s.Done));
        Assert.Equal("Job #7 is running: follow it on the Jobs tab.", progress.Steps[2].Detail);
    }

    [Fact]
    public void Of_InstallFailedPartWay_PartlyInstalled_PointsAtTheRetry()
    {
        // Act
        var progress = ClusterProgress.Of(Nodes(i => Node(i, pinned: "SHA256:a", installed: i <= 4)),
            [Job(8, JobKind.Install, JobState.Failed), Job(6, JobKind.Preflight, JobState.Succeeded)]);

        // Assert
        Assert.Equal((ClusterStage.PartlyInstalled, "partly installed"), (progress.Stage, progress.Word));
        Assert.Equal("Job #8 failed with 4 of 6 nodes installed: retry its failed nodes on the Jobs tab.", progress.Steps[2].Detail);
    }

    [Fact]
    public void Of_EveryNodeInstalled_Installed_NoChecklist()
    {
        // Act
        var progress = ClusterProgress.Of(Nodes(i => Node(i, pinned: "SHA256:a", installed: true)), [Job(9, JobKind.Install, JobState.Succeeded)]);

        // Assert
        Assert.Equal((ClusterStage.Installed, "installed"), (progress.Stage, progress.Word));
        Assert.Empty(progress.Steps);
    }
}
