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

    /// <summary>remove-node: the longest wait for the node's rooms to end.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public TimeSpan? DrainTimeout { get; init; }

    /// <summary>remove-node: true when it did not wait for the rooms to end.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public bool? Force { get; init; }

    /// <summary>remove-node: true when /opt/openvidu is deleted on the node once it left.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public bool? Wipe { get; init; }

    /// <summary>set-public-ip: the address the media node is to announce.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public string? PublicIp { get; init; }

    /// <summary>reconfigure: the secrets given new values (keys only).</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyList<string>? Rotate { get; init; }

    /// <summary>reconfigure: the settings asked for.</summary>
    [System.Text.Json.Serialization.JsonIgnore(Condition = System.Text.Json.Serialization.JsonIgnoreCondition.WhenWritingNull)]
    public Reconfigure.ReconfigureSettings? Set { get; init; }
}

public sealed record JobLogLineView(int Seq, DateTimeOffset At, string? Node, string Text);
