using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Reconfigure;
using OpenViduHa.Core.Users;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

/// <summary><c>POST /api/clusters/{id}/reconfigure-plan</c>: what a reconfigure would do, before anything is done. Values are never shown.</summary>
public static class ReconfigureEndpoints
{
    public sealed record FileChangeDto(string File, IReadOnlyList<string> Keys);

    public sealed record NodeChangeDto(string Node, IReadOnlyList<FileChangeDto> Files);

    public sealed record ReconfigurePlanDto(
        IReadOnlyList<string> Rotate,
        IReadOnlyList<string> SettingsChanged,
        string Restart,
        bool ApplicationsAffected,
        IReadOnlyList<NodeChangeDto> Nodes,
        IReadOnlyList<string> Steps,
        IReadOnlyList<string> Notes);

    public static ReconfigurePlanDto ToDto(ReconfigurePlan plan) => new(
        plan.Rotated,
        plan.SettingsChanged,
        plan.Restart == RestartMode.FullStop ? "fullStop" : "rollingMasters",
        plan.ApplicationsAffected,
        plan.Changes.GroupBy(c => c.Node).Select(n => new NodeChangeDto(n.Key, n.GroupBy(c => c.File).Select(f => new FileChangeDto(f.Key, f.Select(c => c.Key).ToList())).ToList())).ToList(),
        plan.Steps().ToList(),
        plan.Notes);

    public static void MapReconfigureApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/clusters/{id:int}/reconfigure-plan", async Task<IResult> (int id, ReconfigureRequest request, ClusterService clusters, CancellationToken ct) =>
            {
                if (await clusters.LoadDefinitionAsync(id, ct) is not { } cluster) return ClusterEndpoints.NotFound(id);
                var (plan, errors) = ReconfigurePlanner.Plan(cluster, request);
                if (plan is null) return TypedResults.ValidationProblem(errors!.ToDictionary(), title: "Nothing to reconfigure that way.", detail: "Nothing was changed.");
                return TypedResults.Ok(ToDto(plan));
            })
            .Produces<ReconfigurePlanDto>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(TokenScope.Read)
            .WithTags("Jobs")
            .WithName("PlanReconfigure").WithSummary("Plan a reconfigure: per node the files and keys that change, and how it takes effect.")
            .WithDescription("The same body as the reconfigure job ({\"rotate\": [...], \"set\": {\"modules\": [...], \"rtcEngine\": \"pion\"}}). " +
                             "Answers which files and keys change on each node (never a value), whether every node stops or only the masters " +
                             "restart one at a time, and whether applications must change their LiveKit credentials. Nothing is changed.");
    }
}
