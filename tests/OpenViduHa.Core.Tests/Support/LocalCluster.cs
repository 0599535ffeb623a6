using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Ssh;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// A stored cluster whose nodes are <see cref="LocalNode"/>s, and the panel's real job machinery over it: JobRunner,
/// the install, service, credentials and installer-digests handlers, NodeOps, PrivateFiles, on the real database.
/// The panel reaches the nodes through its real SSH engine, every host key pinned.
/// </summary>
internal sealed class LocalCluster : IAsyncDisposable
{
    private readonly string _sharedLog;

    private LocalCluster(PanelDatabase db, int clusterId, ClusterDefinition definition, IReadOnlyList<LocalNode> nodes, JobOptions options, string sharedLog)
    {
        _sharedLog = sharedLog;
        Db = db;
        ClusterId = clusterId;
        Definition = definition;
        Nodes = nodes;
        Options = options;
        Connector = new SshNetConnector(NullLogger<SshNetConnector>.Instance);
        PrivateFiles = new PrivateFiles(Microsoft.Extensions.Options.Options.Create(options));
        Ops = new NodeOps(Connector, PrivateFiles, Microsoft.Extensions.Options.Options.Create(options), db.Factory);
        Service = new ServiceHandler(Ops);
    }

    public PanelDatabase Db { get; }
    public int ClusterId { get; }
    public ClusterDefinition Definition { get; }
    public IReadOnlyList<LocalNode> Nodes { get; }
    public JobOptions Options { get; }
    public SshNetConnector Connector { get; }
    public PrivateFiles PrivateFiles { get; }
    public NodeOps Ops { get; }
    public ServiceHandler Service { get; }
    public JobCancellations Cancellations { get; } = new();

    /// <summary>4 masters and <paramref name="media"/> media nodes, every host key pinned; health is checked every 50 ms for 1 s at most.</summary>
    public static async Task<LocalCluster> StartAsync(string version = "3.0.0", int media = 1)
    {
        var db = new PanelDatabase();
        var clusterId = await db.CreateClusterAsync(version: version, media: media);
        var definition = (await db.Clusters.LoadDefinitionAsync(clusterId))!;
        var sharedLog = System.IO.Path.Combine(SharedDirectory, $"order-{Guid.NewGuid():N}.log");
        var nodes = await Task.WhenAll(definition.Nodes.Select(n => LocalNode.StartAsync(n, sharedLog)));
        await db.PointAtAsync(clusterId, nodes);
        var options = new JobOptions
        {
            ConnectTimeout = TimeSpan.FromSeconds(5), CommandTimeout = TimeSpan.FromSeconds(30), InstallTimeout = TimeSpan.FromSeconds(30),
            HealthTimeout = TimeSpan.FromSeconds(1), HealthPollInterval = TimeSpan.FromMilliseconds(50), MaxParallelNodes = 8,
        };
        return new LocalCluster(db, clusterId, definition, nodes, options, sharedLog);
    }

    /// <summary>Outside the nodes' private /tmp, /run and /opt, so every node writes the same file.</summary>
    private static string SharedDirectory => Directory.CreateDirectory("/var/tmp/ovha-core-tests").FullName;

    /// <summary>"node systemctl verb" lines of every node, in the order they happened.</summary>
    public IReadOnlyList<string> SystemctlOrder => File.Exists(_sharedLog) ? File.ReadAllLines(_sharedLog) : [];

    public LocalNode Node(string name) => Nodes.Single(n => n.Name == name);

    /// <summary>From now on, connecting to the node fails: refused (its sshd gone) or timed out (its sshd frozen).</summary>
    public void Fail(string nodeName, SshFailureKind kind)
    {
        if (kind == SshFailureKind.ConnectionRefused) Node(nodeName).RefuseConnections();
        else if (kind == SshFailureKind.Timeout) Node(nodeName).Hang();
        else throw new ArgumentOutOfRangeException(nameof(kind), kind, "Only refused and timed-out connections can be made.");
    }

    public IEnumerable<LocalNode> Masters => Nodes.Where(n => n.Definition.Role == NodeRole.Master);

    /// <summary>Every node's service active and its row marked installed, as after a successful install.</summary>
    public async Task MarkInstalledAsync()
    {
        foreach (var node in Nodes) node.Service = "active";
        await Db.SetInstalledAsync(ClusterId, _ => true);
    }

    public JobRunner Runner() => new(Db.Factory, Db.Clusters, Db.Protector,
        [new InstallHandler(Ops, PrivateFiles, Service, Db.Factory, TimeProvider.System), Service,
         new CredentialsHandler(Ops, PrivateFiles, Service), new InstallerDigestsHandler(Ops, Db.Clusters)],
        Cancellations, new JobNotifier(), new OpenViduHa.Core.Instances.PanelInstance { Alone = true }, TimeProvider.System, Microsoft.Extensions.Options.Options.Create(Options), NullLogger<JobRunner>.Instance);

    /// <summary>Queues a job the way JobService does (scope from JobRules), without Hangfire, and returns its id.</summary>
    public async Task<int> QueueAsync(JobKind kind, string? target = null, IReadOnlyCollection<string>? only = null)
    {
        await using var db = Db.Open();
        var nodes = await db.Nodes.AsNoTracking().Where(n => n.ClusterId == ClusterId).OrderBy(n => n.Ordinal).ToListAsync();
        var targetNode = target is null ? null : nodes.Single(n => n.Name == target);
        var scope = JobRules.NodesFor(kind, nodes, targetNode).Where(n => only is null || only.Contains(n.Name)).ToList();
        var job = new JobEntity
        {
            ClusterId = ClusterId, Kind = kind, NodeId = targetNode?.Id, State = JobState.Queued, CreatedBy = "tester", CreatedAt = DateTimeOffset.UtcNow,
            Nodes = scope.Select(n => new JobNodeEntity { NodeId = n.Id, NodeName = n.Name, State = NodeJobState.Pending }).ToList(),
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job.Id;
    }

    /// <summary>
    /// A queued job's run as the runner would hand it to a handler (context on the real database, every node with its
    /// stored SSH target), for tests of the steps handlers share (NodeOps, PrivateFiles).
    /// </summary>
    public async Task<JobRun> JobRunAsync(JobKind kind, CancellationToken cancellation = default)
    {
        var jobId = await QueueAsync(kind);
        var rows = await Db.NodesAsync(ClusterId);
        var nodes = rows.Select(n => new JobNode(n.Id, Definition.Nodes.Single(d => d.Name == n.Name),
            new Core.Ssh.SshTarget(n.Name, n.SshHost, n.SshPort, n.SshUsername, Db.Protector.Unprotect<Core.Nodes.SshCredentials>(n.ProtectedCredentials), n.HostKeyFingerprint))).ToList();
        var context = new JobContext(jobId, ClusterId, Db.Factory, new JobNotifier(), TimeProvider.System, [], 0, cancellation);
        return new JobRun(context, kind, Definition, nodes, nodes);
    }

    /// <summary>Queues and runs a job to its end.</summary>
    public async Task<JobResult> RunAsync(JobKind kind, string? target = null, IReadOnlyCollection<string>? only = null)
    {
        var jobId = await QueueAsync(kind, target, only);
        await Runner().RunAsync(jobId, CancellationToken.None).WaitAsync(TimeSpan.FromMinutes(2));
        return await ResultAsync(jobId);
    }

    public async Task<JobResult> ResultAsync(int jobId)
    {
        await using var db = Db.Open();
        var job = await db.Jobs.AsNoTracking().Include(j => j.Nodes).SingleAsync(j => j.Id == jobId);
        var log = await db.JobLog.AsNoTracking().Where(l => l.JobId == jobId).OrderBy(l => l.Seq).ToListAsync();
        return new JobResult(job, log);
    }

    public async ValueTask DisposeAsync()
    {
        foreach (var node in Nodes) await node.DisposeAsync();
        File.Delete(_sharedLog);
        Db.Dispose();
    }
}

/// <summary>A finished job as stored: its row, its nodes by name, its log.</summary>
internal sealed record JobResult(JobEntity Job, IReadOnlyList<JobLogLine> Log)
{
    public JobState State => Job.State;

    public JobNodeEntity Node(string name) => Job.Nodes.Single(n => n.NodeName == name);

    public NodeJobState NodeState(string name) => Node(name).State;

    public string? NodeMessage(string name) => Node(name).Message;

    public IEnumerable<string> Lines(string? node) => Log.Where(l => l.NodeName == node).Select(l => l.Text);

    public override string ToString() =>
        $"{Job.State}: {Job.Message}\n" + string.Join("\n", Job.Nodes.Select(n => $"  {n.NodeName}: {n.State} {n.Message}")) +
        "\n" + string.Join("\n", Log.Select(l => $"  {l.At:HH:mm:ss.fff} [{l.NodeName}] {l.Text}"));
}
