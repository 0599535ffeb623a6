using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

public sealed class JobKindsTests
{
    public static TheoryData<JobKind, string> KindNames => new()
    {
        { JobKind.Preflight, "preflight" },
        { JobKind.Install, "install" },
        { JobKind.AddNode, "add-node" },
        { JobKind.ReinstallNode, "reinstall-node" },
        { JobKind.Restart, "restart" },
        { JobKind.Start, "start" },
        { JobKind.Stop, "stop" },
        { JobKind.RollingRestart, "rolling-restart" },
        { JobKind.CheckCredentials, "check-credentials" },
        { JobKind.DistributeCredentials, "distribute-credentials" },
        { JobKind.FetchInstallerDigests, "fetch-installer-digests" },
    };

    [Theory]
    [MemberData(nameof(KindNames))]
    public void Name_EveryKind_IsTheApiSpelling(JobKind kind, string name)
    {
        // Act
        var spelled = kind.Name();

        // Assert
        Assert.Equal(name, spelled);
    }

    [Theory]
    [MemberData(nameof(KindNames))]
    public void TryParse_ApiSpellingInAnyCase_IsTheKind(JobKind kind, string name)
    {
        // Act
        var parsed = JobKinds.TryParse(name.ToUpperInvariant(), out var result);

        // Assert
        Assert.True(parsed);
        Assert.Equal(kind, result);
    }

    [Theory]
    [InlineData("reinstall")]
    [InlineData("AddNode")]
    [InlineData("")]
    [InlineData(null)]
    public void TryParse_UnknownText_IsFalse(string? text)
    {
        // Act
        var parsed = JobKinds.TryParse(text, out var result);

        // Assert
        Assert.False(parsed);
        Assert.Equal(default, result);
    }

    [Fact]
    public void All_Always_ListsEveryKindOnce()
    {
        // Act
        var all = JobKinds.All.ToList();

        // Assert
        Assert.Equal(Enum.GetValues<JobKind>().Select(k => k.Name()), all);
    }

    [Theory]
    [InlineData(JobKind.Preflight, false, true, false)]
    [InlineData(JobKind.CheckCredentials, false, true, false)]
    [InlineData(JobKind.FetchInstallerDigests, false, true, false)]
    [InlineData(JobKind.Install, true, false, false)]
    [InlineData(JobKind.RollingRestart, true, false, false)]
    [InlineData(JobKind.DistributeCredentials, true, false, false)]
    [InlineData(JobKind.AddNode, true, false, true)]
    [InlineData(JobKind.ReinstallNode, true, false, true)]
    [InlineData(JobKind.Restart, true, false, true)]
    [InlineData(JobKind.Start, true, false, true)]
    [InlineData(JobKind.Stop, true, false, true)]
    public void Traits_EveryKind_ChangesTargetsAndNeedsANodeAsDocumented(JobKind kind, bool changes, bool mayTarget, bool needsNode)
    {
        // Act
        var traits = (kind.Changes(), kind.MayTargetNode(), kind.NeedsNode());

        // Assert
        Assert.Equal((changes, mayTarget, needsNode), traits);
    }

    [Theory]
    [InlineData(JobState.Queued, false)]
    [InlineData(JobState.Running, false)]
    [InlineData(JobState.Succeeded, true)]
    [InlineData(JobState.Failed, true)]
    [InlineData(JobState.Cancelled, true)]
    [InlineData(JobState.Interrupted, true)]
    public void IsFinal_State_OnlyEndedStates(JobState state, bool expected)
    {
        // Act
        var final = state.IsFinal();

        // Assert
        Assert.Equal(expected, final);
    }

    [Fact]
    public void Lower_EnumValue_IsItsNameInLowerCase()
    {
        // Act
        var text = NodeJobState.Interrupted.Lower();

        // Assert
        Assert.Equal("interrupted", text);
    }
}
