namespace OpenViduHa.Core.Jobs;

public sealed record JobNodeView(int NodeId, string NodeName, NodeJobState State, string? Message, string? Details);

/// <summary>A job as the API and UI show it. Its JSON spells the kind in kebab case and the states in lower case (the README's API table).</summary>
public sealed record JobView(
    int Id,
    int ClusterId,
    JobKind Kind,
    int? NodeId,
    JobState State,
    string? Message,
    string CreatedBy,
    DateTimeOffset CreatedAt,
    DateTimeOffset? StartedAt,
    DateTimeOffset? FinishedAt,
    int? RetryOf,
    IReadOnlyList<JobNodeView> Nodes)
{
    /// <summary>upgrade: the release it ends on (left out of the JSON for other kinds).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? TargetVersion { get; init; }
}

public sealed record JobLogLineView(int Seq, DateTimeOffset At, string? Node, string Text);
