using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Upgrade;
using OpenViduHa.Core.Users;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

/// <summary><c>GET /api/clusters/{id}/upgrade-plan?targetVersion=X.Y.Z</c>: what an upgrade would do, before anything is done.</summary>
public static class UpgradeEndpoints
{
    public sealed record HopDto(string From, string To, bool StartBeforeNext);

    public sealed record UpgradePlanDto(string From, string To, IReadOnlyList<HopDto> Hops, IReadOnlyList<string> Steps, bool GenerationChanges, bool LoadBalancerChanges);

    public static void MapUpgradeApi(this IEndpointRouteBuilder app)
    {
        app.MapGet("/api/clusters/{id:int}/upgrade-plan", async Task<IResult> (int id, string? targetVersion, ClusterService clusters, CancellationToken ct) =>
            {
                if (await clusters.GetAsync(id, ct) is not { } cluster) return ClusterEndpoints.NotFound(id);
                if (!OpenViduVersion.TryParse(cluster.OpenviduVersion, out var from))
                    return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "Unreadable version.", detail: $"Cluster {id} holds the version '{cluster.OpenviduVersion}'.");
                var (plan, refusal) = UpgradeChain.Plan(from, targetVersion);
                if (plan is null)
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]> { ["targetVersion"] = [refusal!] }, title: "No upgrade to that version.");
                return TypedResults.Ok(new UpgradePlanDto(plan.From.ToString(), plan.To.ToString(),
                    plan.Hops.Select(h => new HopDto(h.From.ToString(), h.To.ToString(), h.StartBeforeNext)).ToList(),
                    plan.Steps(), plan.GenerationChanges, plan.LoadBalancerChanges));
            })
            .Produces<UpgradePlanDto>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(TokenScope.Read)
            .WithTags("Jobs")
            .WithName("GetUpgradePlan").WithSummary("Plan an upgrade: the updater hops from the cluster's version to targetVersion, and what changes.")
            .WithDescription("OpenVidu's updater goes one release at a time (3.0.0 → 3.1.0 → … → 3.9.0); the plan lists every hop, the steps " +
                             "of the job, and whether the load balancer's config must be replaced. A downgrade, an unknown version or a " +
                             "target the chain cannot reach is refused at targetVersion with the reason. Nothing is changed.");
    }
}
