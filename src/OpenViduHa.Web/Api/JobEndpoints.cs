using Microsoft.AspNetCore.Http.HttpResults;
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

    public static void MapJobApi(this IEndpointRouteBuilder app)
    {
        var clusterJobs = app.MapGroup("/api/clusters/{id:int}").WithTags("Jobs");

        clusterJobs.MapPost("/jobs", async Task<IResult> (int id, JobRequest request, JobService jobs, HttpContext http, CancellationToken ct) =>
            {
                if (!JobKinds.TryParse(request.Kind, out var kind))
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["kind"] = [$"Use one of: {string.Join(", ", JobKinds.All)}."] }, title: "Unknown job kind.");
                var result = await jobs.EnqueueAsync(id, kind, request.NodeId, http.User.Actor(), ct: ct);
                return Answer(result, jobId => TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId)));
            })
            .Produces<JobAccepted>(StatusCodes.Status202Accepted)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesValidationProblem()
            .WithName("StartJob");

        clusterJobs.MapGet("/jobs", async (int id, JobService jobs, CancellationToken ct) => TypedResults.Ok(await jobs.ListAsync(id, ct: ct)))
            .WithName("ListJobs");

        clusterJobs.MapPost("/nodes", async Task<IResult> (int id, NodeSpec node, ClusterService clusters, HttpContext http, CancellationToken ct) =>
            {
                var (nodeId, result) = await clusters.AddNodeAsync(id, node, http.User.Actor(), ct);
                if (result.NotFound) return ClusterEndpoints.NotFound(id);
                if (result.Busy) return ClusterEndpoints.Busy(result);
                if (nodeId is null)
                    return TypedResults.ValidationProblem(result.Errors.ToDictionary(), title: "The node is not valid.", detail: "Nothing was stored.");
                return TypedResults.Created($"/api/clusters/{id}", new NodeAdded(nodeId.Value, result.Warnings.Select(w => w.Message).ToList()));
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
                Answer(await jobs.CancelAsync(jobId, http.User.Actor(), ct), _ => TypedResults.Accepted($"/api/jobs/{jobId}", new JobAccepted(jobId))))
            .WithName("CancelJob");
        jobsGroup.MapPost("/retry", async Task<IResult> (int jobId, JobService jobs, HttpContext http, CancellationToken ct) =>
                Answer(await jobs.RetryAsync(jobId, http.User.Actor(), ct), id => TypedResults.Accepted($"/api/jobs/{id}", new JobAccepted(id))))
            .WithName("RetryJob");

        app.MapPost("/api/nodes/{nodeId:int}/host-key", async Task<IResult> (int nodeId, HostKeyRequest request, HostKeyService keys, HttpContext http, CancellationToken ct) =>
            {
                var result = await keys.PinAsync(nodeId, request.Fingerprint ?? "", request.Replace, http.User.Actor(), ct);
                if (result.Ok) return TypedResults.NoContent();
                if (result.NotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Node not found.", detail: result.Error);
                if (result.Conflict) return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Another host key is pinned.", detail: result.Error);
                return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["fingerprint"] = [result.Error!] });
            })
            .WithTags("Nodes")
            .WithName("PinHostKey");
    }

    private static IResult Answer(JobRequestResult result, Func<int, IResult> accepted)
    {
        if (result.Accepted) return accepted(result.JobId!.Value);
        if (result.NotFound) return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found.", detail: result.Error);
        if (result.Conflict is not null) return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Refused while another job runs.", detail: result.Conflict);
        return TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "The job cannot run.", detail: result.Error);
    }

    private static ProblemHttpResult JobNotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Job not found.", detail: $"There is no job {id}.");
}
