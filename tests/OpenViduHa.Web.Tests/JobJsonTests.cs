using System.Text.Json;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>The job enums through the API's own JSON options: every value spelled as the README's API table says.</summary>
public sealed class JobJsonTests(PanelFactory factory) : IClassFixture<PanelFactory>
{
    public static TheoryData<JobKind> Kinds => [.. Enum.GetValues<JobKind>()];
    public static TheoryData<JobState> States => [.. Enum.GetValues<JobState>()];
    public static TheoryData<NodeJobState> NodeStates => [.. Enum.GetValues<NodeJobState>()];

    [Theory]
    [MemberData(nameof(Kinds))]
    public void Serialize_JobKind_IsItsKebabCaseName(JobKind kind)
    {
        // Act
        var json = JsonSerializer.Serialize(kind, ApiOptions());

        // Assert
        Assert.Equal($"\"{kind.Name()}\"", json);
    }

    [Theory]
    [MemberData(nameof(States))]
    public void Serialize_JobState_IsItsNameInLowerCase(JobState state)
    {
        // Act
        var json = JsonSerializer.Serialize(state, ApiOptions());

        // Assert
        Assert.Equal($"\"{state.Lower()}\"", json);
    }

    [Theory]
    [MemberData(nameof(NodeStates))]
    public void Serialize_NodeJobState_IsItsNameInLowerCase(NodeJobState state)
    {
        // Act
        var json = JsonSerializer.Serialize(state, ApiOptions());

        // Assert
        Assert.Equal($"\"{state.Lower()}\"", json);
    }

    private JsonSerializerOptions ApiOptions() => factory.Services.GetRequiredService<IOptions<JsonOptions>>().Value.SerializerOptions;
}
