using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Core.Instances;

/// <summary>
/// This process among the panel's instances: a new random id at every start, so a restarted instance never takes over
/// what its previous life left running (that is interrupted, and retried by the operator).
/// </summary>
public sealed class PanelInstance
{
    public string Id { get; } = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(8)).ToLowerInvariant();

    /// <summary>Where it runs, for people reading the table: host name and process id.</summary>
    public string Host { get; } = $"{Environment.MachineName}:{Environment.ProcessId}";

    /// <summary>
    /// True when this instance is the only one there can be (SQLite: one process owns the file): whatever another
    /// instance id left running is over, without waiting for its heartbeat to age.
    /// </summary>
    public bool Alone { get; init; }

    public override string ToString() => $"{Id} ({Host})";
}

/// <summary>The <c>Instances</c> section: how instances sharing one database tell each other they are alive.</summary>
public sealed class InstanceOptions : IValidatableObject
{
    public const string Section = "Instances";

    /// <summary>How often an instance says it is alive (and looks for jobs orphaned by an instance that stopped).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:05:00")]
    public TimeSpan HeartbeatInterval { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>An instance not heard of for this long is gone: its running jobs are marked interrupted.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:30:00")]
    public TimeSpan DeadAfter { get; set; } = TimeSpan.FromSeconds(30);

    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DeadAfter < HeartbeatInterval * 2)
            yield return new ValidationResult("Instances:DeadAfter must be at least twice Instances:HeartbeatInterval: one late heartbeat must not declare an instance dead.",
                [nameof(DeadAfter)]);
    }
}
