using Microsoft.AspNetCore.Http.HttpResults;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Users;
using OpenViduHa.Core;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

public static class JobEndpoints
{
    /// <param name="TargetVersion">upgrade: the release to end on (X.Y.Z); see GET /api/clusters/{id}/upgrade-plan.</param>
    /// <param name="DrainTimeout">remove-node: the longest wait for the node's rooms to end, hh:mm:ss (default Jobs:DrainTimeout).</param>
    /// <param name="Force">remove-node: stop the node at once, without waiting for its rooms.</param>
    /// <param name="Wipe">remove-node: delete /opt/openvidu on the node once it left (never by default).</param>
    /// <param name="PublicIp">set-public-ip: the IPv4 address the media node is to announce.</param>
    /// <param name="Rotate">reconfigure: the secrets to give new values (keys); see POST /api/clusters/{id}/reconfigure-plan.</param>
    /// <param name="Set">reconfigure: the settings to change (modules, rtcEngine).</param>
    public sealed record JobRequest(string? Kind, int? NodeId, string? TargetVersion = null, string? DrainTimeout = null, bool? Force = null, bool? Wipe = null, string? PublicIp = null,
        List<string>? Rotate = null, Core.Reconfigure.ReconfigureSettings? Set = null);
    public sealed record JobAccepted(int Id);
    public sealed record HostKeyRequest(string? Fingerprint, bool Replace);
    public sealed record NodeAdded(int Id, IReadOnlyList<string> Warnings);

    private static readonly ProblemTitles Problems = new(NotFound: "Not found.", Conflict: "Refused while another job runs.", Refused: "The job cannot run.");
    private static readonly ProblemTitles NodeProblems = ClusterEndpoints.Problems with { Invalid = "The node is not valid.", InvalidDetail = "Nothing was stored." };
    private static readonly ProblemTitles HostKeyProblems = new(NotFound: "Node not found.", Conflict: "Another host key is pinned.");

    /// <summary>What the kind takes from the request, each checked at its field; parameters of other kinds are ignored.</summary>
    private static (JobParameters Parameters, Dictionary<string, string[]>? Errors) Parameters(JobKind kind, JobRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var parameters = JobParameters.None;
        switch (kind)
        {
            case JobKind.Upgrade:
                parameters = new JobParameters { TargetVersion = request.TargetVersion?.Trim() };
                if (string.IsNullOrEmpty(parameters.TargetVersion)) errors["targetVersion"] = ["Give the release to upgrade to (X.Y.Z)."];
                break;
            case JobKind.RemoveNode:
                TimeSpan? drain = null;
                if (request.DrainTimeout is { } text)
                {
                    if (TimeSpan.TryParseExact(text.Trim(), "c", System.Globalization.CultureInfo.InvariantCulture, out var parsed)) drain = parsed;
                    else errors["drainTimeout"] = [$"'{Bounded(text)}' is not a duration: write hh:mm:ss, e.g. 00:30:00."];
                }
                if (drain is { } d && (d <= TimeSpan.Zero || d > JobRules.MaxDrainTimeout))
                    errors["drainTimeout"] = [$"Give more than 0 and at most {JobRules.MaxDrainTimeout:c}."];
                parameters = new JobParameters { DrainTimeout = drain, Force = request.Force == true, Wipe = request.Wipe == true };
                break;
            case JobKind.Reconfigure:
                // The keys and settings are checked against the cluster when the job is asked for (JobRules).
                parameters = new JobParameters { Rotate = request.Rotate, Set = request.Set };
                break;
            case JobKind.SetPublicIp:
                parameters = new JobParameters { PublicIp = request.PublicIp?.Trim() };
                if (JobRules.PublicIpRefusal(parameters.PublicIp) is { } refusal) errors["publicIp"] = [refusal];
                break;
        }
        return (parameters, errors.Count > 0 ? errors : null);

        static string Bounded(string text) => text.Length <= 40 ? text : text[..40] + "…";
    }

    public static void MapJobApi(this IEndpointRouteBuilder app)
    {
        var clusterJobs = app.MapGroup("/api/clusters/{id:int}").WithTags("Jobs");

        clusterJobs.MapPost("/jobs", async Task<IResult> (int id, JobRequest request, JobService jobs, HttpContext http, CancellationToken ct) =>
            {
                if (!JobKinds.TryParse(request.Kind, out var kind))
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"Use one of: {string.Join(", ", JobKinds.All)}."] }, title: "Unknown job kind.");
                var (parameters, errors) = Parameters(kind, request);
                if (errors is not null) return TypedResults.ValidationProblem(errors, title: $"The {kind.Name()} job's parameters are not valid.", detail: "Nothing was started.");
                return Answer(await jobs.EnqueueAsync(id, kind, request.NodeId, http.User.Actor(), parameters: parameters, ct: ct));
            })
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem()
            .RequireScope(TokenScope.Operate)
            .WithName("StartJob").WithSummary("Start a job on the cluster.");

        clusterJobs.MapGet("/jobs", async Task<IResult> (int id, JobService jobs, ClusterService clusters, CancellationToken ct) =>
                await clusters.GetAsync(id, ct) is null
                    ? TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Cluster not found.", detail: $"There is no cluster {id}.")
                    : TypedResults.Ok(await jobs.ListAsync(id, ct: ct)))
            .Produces<IReadOnlyList<JobView>>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListJobs").WithSummary("List the cluster's jobs, newest first.");

        clusterJobs.MapPost("/nodes", async Task<IResult> (int id, NodeSpec node, ClusterService clusters, HttpContext http, CancellationToken ct) =>
            {
                var result = await clusters.AddNodeAsync(id, node, http.User.Actor(), ct);
                if (!result.Succeeded) return result.ToProblem(NodeProblems);
                return TypedResults.Created($"/api/clusters/{id}", new NodeAdded(result.Id!.Value, result.Warnings.Select(w => w.Message).ToList()));
            })
            .Produces<NodeAdded>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(TokenScope.Admin)
            .WithName("AddNode").WithSummary("Add a media node to the cluster (stored; install it with an add-node job).");

        var jobsGroup = app.MapGroup("/api/jobs/{jobId:int}").WithTags("Jobs");
        jobsGroup.MapGet("/", async Task<Results<Ok<JobView>, ProblemHttpResult>> (int jobId, JobService jobs, CancellationToken ct) =>
                await jobs.GetAsync(jobId, ct) is { } view ? TypedResults.Ok(view) : JobNotFound(jobId))
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetJob").WithSummary("Read a job: state, message, each node's state.");
        jobsGroup.MapGet("/log", async Task<IResult> (int jobId, int? after, string? format, string? node, JobService jobs, CancellationToken ct) =>
            {
                if (format is not (null or "json" or "text"))
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["format"] = ["Use json (the default) or text."] }, title: "Unknown log format.");
                if (await jobs.GetAsync(jobId, ct) is not { } job) return JobNotFound(jobId);
                if (node is not null && node != JobLogText.PanelNode && job.Nodes.All(n => n.NodeName != node))
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["node"] = [$"Job {jobId} has these nodes: {string.Join(", ", job.Nodes.Select(n => n.NodeName).Prepend(JobLogText.PanelNode))}."],
                    }, title: "Unknown node.");
                if (format != "text") return TypedResults.Ok(await jobs.LogAsync(jobId, after ?? 0, node: node, ct: ct));
                // The whole log (or one node's) as a file, written a page at a time as it is read.
                return TypedResults.Stream(async body =>
                {
                    await using var writer = new StreamWriter(body, new System.Text.UTF8Encoding(false), bufferSize: 16 * 1024) { NewLine = "\n" };
                    await writer.WriteLineAsync(JobLogText.Header(job));
                    await foreach (var line in jobs.ReadLogAsync(jobId, node, ct))
                        if (line.Seq > (after ?? 0)) await writer.WriteLineAsync(JobLogText.Line(line));
                }, "text/plain; charset=utf-8", $"job-{jobId}-{job.Kind.Name()}{(node is null ? "" : "-" + node)}.log");
            })
            .Produces<IReadOnlyList<JobLogLineView>>()
            .Produces<string>(StatusCodes.Status200OK, "text/plain")
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesValidationProblem()
            .WithName("GetJobLog").WithSummary("Read a job's log (JSON pages, or the whole log as text).");
        jobsGroup.MapPost("/cancel", async Task<IResult> (int jobId, JobService jobs, HttpContext http, CancellationToken ct) =>
                Answer(await jobs.CancelAsync(jobId, http.User.Actor(), ct)))
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .RequireScope(TokenScope.Operate)
            .WithName("CancelJob").WithSummary("Cancel a queued or running job.");
        jobsGroup.MapPost("/retry", async Task<IResult> (int jobId, JobService jobs, HttpContext http, CancellationToken ct) =>
                Answer(await jobs.RetryAsync(jobId, http.User.Actor(), ct)))
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status400BadRequest)
            .RequireScope(TokenScope.Operate)
            .WithName("RetryJob").WithSummary("Retry a finished job's failed nodes as a new job.");

        app.MapPost("/api/nodes/{nodeId:int}/host-key", async Task<IResult> (int nodeId, HostKeyRequest request, HostKeyService keys, HttpContext http, CancellationToken ct) =>
            {
                var result = await keys.PinAsync(nodeId, request.Fingerprint ?? "", request.Replace, http.User.Actor(), ct);
                return result.Succeeded ? TypedResults.NoContent() : result.ToProblem(HostKeyProblems);
            })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .WithTags("Nodes")
            .RequireScope(TokenScope.Operate)
            .WithName("PinHostKey").WithSummary("Pin a node's SSH host key.");
    }

    /// <summary>202 with the job queued (a retry's new job, a cancelled job itself), or the problem.</summary>
    private static IResult Answer(Outcome result) =>
        result.Succeeded ? TypedResults.Accepted($"/api/jobs/{result.Id}", new JobAccepted(result.Id!.Value)) : result.ToProblem(Problems);

    private static ProblemHttpResult JobNotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found.", detail: $"There is no job {id}.");
}
