namespace OpenViduHa.Core.Jobs;

/// <summary>
/// A job's state, nodes or log changed. Carries no values: listeners read what they show. <paramref name="Ended"/> when
/// it reached a final state (views that show nodes reload then).
/// </summary>
public sealed record JobChanged(int JobId, int ClusterId, int LastSeq, bool Ended = false);

/// <summary>
/// Live job updates for open views, per job and per cluster (a singleton). Never blocks or breaks a job. With instances
/// sharing a database, what this instance publishes also goes to the others (<see cref="Relay"/>), and what they
/// publish arrives through <see cref="PublishLocal"/>: a page on any instance follows a job running on any other.
/// </summary>
public sealed class JobNotifier
{
    private readonly Broadcaster<JobChanged> _changes = new();

    /// <summary>Carries this instance's changes to the other instances (PostgreSQL NOTIFY); null when alone.</summary>
    public Action<JobChanged>? Relay { get; set; }

    public IDisposable SubscribeJob(int jobId, Func<JobChanged, Task> handler) => _changes.Subscribe(c => c.JobId == jobId, handler);

    public IDisposable SubscribeCluster(int clusterId, Func<JobChanged, Task> handler) => _changes.Subscribe(c => c.ClusterId == clusterId, handler);

    public void Publish(JobChanged change)
    {
        _changes.Publish(change);
        Relay?.Invoke(change);
    }

    /// <summary>A change another instance published: for this instance's views only, never sent on again.</summary>
    public void PublishLocal(JobChanged change) => _changes.Publish(change);
}
