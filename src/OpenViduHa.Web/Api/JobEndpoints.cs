using Microsoft.AspNetCore.Http.HttpResults;
using OpenViduHa.Core;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

public static class JobEndpoints
{
    public sealed record JobRequest(string? Kind, int? NodeId);
    public sealed record JobAccepted(int Id);
    public sealed record HostKeyRequest(string? Fingerprint, bool Replace);
    public sealed record NodeAdded(int Id, IReadOnlyList<string> Warnings);

    private static readonly ProblemTitles Problems = new(NotFound: "Not found.", Conflict: "Refused while another job runs.", Refused: "The job cannot run.");
    private static readonly ProblemTitles NodeProblems = ClusterEndpoints.Problems with { Invalid = "The node is not valid.", InvalidDetail = "Nothing was stored." };
    private static readonly ProblemTitles HostKeyProblems = new(NotFound: "Node not found.", Conflict: "Another host key is pinned.");

    public static void MapJobApi(this IEndpointRouteBuilder app)
    {
        var clusterJobs = app.MapGroup("/api/clusters/{id:int}").WithTags("Jobs");

        clusterJobs.MapPost("/jobs", async Task<IResult> (int id, JobRequest request, JobService jobs, HttpContext http, CancellationToken ct) =>
            {
                if (!JobKinds.TryParse(request.Kind, out var kind))
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"Use one of: {string.Join(", ", JobKinds.All)}."] }, title: "Unknown job kind.");
                return Answer(await jobs.EnqueueAsync(id, kind, request.NodeId, http.User.Actor(), ct: ct));
            })
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem()
            .WithName("StartJob");

        clusterJobs.MapGet("/jobs", async (int id, JobService jobs, CancellationToken ct) => TypedResults.Ok(await jobs.ListAsync(id, ct: ct)))
            .WithName("ListJobs");

        clusterJobs.MapPost("/nodes", async Task<IResult> (int id, NodeSpec node, ClusterService clusters, HttpContext http, CancellationToken ct) =>
            {
                var result = await clusters.AddNodeAsync(id, node, http.User.Actor(), ct);
                if (!result.Succeeded) return result.ToProblem(NodeProblems);
                return TypedResults.Created($"/api/clusters/{id}", new NodeAdded(result.Id!.Value, result.Warnings.Select(w => w.Message).ToList()));
            })
            .Produces<NodeAdded>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .WithName("AddNode");

        var jobsGroup = app.MapGroup("/api/jobs/{jobId:int}").WithTags("Jobs");
        jobsGroup.MapGet("/", async Task<Results<Ok<JobView>, ProblemHttpResult>> (int jobId, JobService jobs, CancellationToken ct) =>
                await jobs.GetAsync(jobId, ct) is { } view ? TypedResults.Ok(view) : JobNotFound(jobId))
            .WithName("GetJob");
        jobsGroup.MapGet("/log", async (int jobId, int? after, JobService jobs, CancellationToken ct) =>
                TypedResults.Ok(await jobs.LogAsync(jobId, after ?? 0, ct: ct)))
            .WithName("GetJobLog");
        jobsGroup.MapPost("/cancel", async Task<IResult> (int jobId, JobService jobs, HttpContext http, CancellationToken ct) =>
                Answer(await jobs.CancelAsync(jobId, http.User.Actor(), ct)))
            .WithName("CancelJob");
        jobsGroup.MapPost("/retry", async Task<IResult> (int jobId, JobService jobs, HttpContext http, CancellationToken ct) =>
                Answer(await jobs.RetryAsync(jobId, http.User.Actor(), ct)))
            .WithName("RetryJob");

        app.MapPost("/api/nodes/{nodeId:int}/host-key", async Task<IResult> (int nodeId, HostKeyRequest request, HostKeyService keys, HttpContext http, CancellationToken ct) =>
            {
                var result = await keys.PinAsync(nodeId, request.Fingerprint ?? "", request.Replace, http.User.Actor(), ct);
                return result.Succeeded ? TypedResults.NoContent() : result.ToProblem(HostKeyProblems);
            })
            .WithTags("Nodes")
            .WithName("PinHostKey");
    }

    /// <summary>202 with the job queued (a retry's new job, a cancelled job itself), or the problem.</summary>
    private static IResult Answer(Outcome result) =>
        result.Succeeded ? TypedResults.Accepted($"/api/jobs/{result.Id}", new JobAccepted(result.Id!.Value)) : result.ToProblem(Problems);

    private static ProblemHttpResult JobNotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found.", detail: $"There is no job {id}.");
}
