using System.Text;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Users;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

public static class ArtifactEndpoints
{
    public sealed record ArtifactInfo(string Name, string FileName, string ContentType, bool ContainsSecrets);

    public static void MapArtifactApi(this IEndpointRouteBuilder app)
    {
        var artifacts = app.MapGroup("/api/clusters/{id:int}/artifacts").WithTags("Artifacts");

        artifacts.MapGet("/", async Task<IResult> (int id, ClusterService service, CancellationToken ct) =>
            {
                var cluster = await service.LoadDefinitionAsync(id, ct);
                if (cluster is null) return ClusterEndpoints.NotFound(id);
                return TypedResults.Ok(ArtifactCatalog.Names.Select(name =>
                {
                    var artifact = ArtifactCatalog.Generate(cluster, name);
                    return new ArtifactInfo(name, artifact.FileName, artifact.ContentType, ArtifactCatalog.HoldsSecrets(name));
                }).ToList());
            })
            .Produces<List<ArtifactInfo>>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("ListArtifacts").WithSummary("List a cluster's generated files.");

        artifacts.MapGet("/{name}", async Task<IResult> (int id, string name, ClusterService service, AuditLog audit, HttpContext http, CancellationToken ct) =>
            {
                if (!ArtifactCatalog.IsKnown(name))
                    return TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Unknown artifact.",
                        detail: $"Artifacts are: {string.Join(", ", ArtifactCatalog.Names)}.");
                // Files with the cluster's secrets (credentials) are not for a read-only token (a metrics scraper, a dashboard).
                if (ArtifactCatalog.HoldsSecrets(name) && TokenScopes.Of(http.User) is { } held && held < TokenScope.Operate)
                    return TokenScopes.Problem(http, held, TokenScope.Operate);
                var cluster = await service.LoadDefinitionAsync(id, ct);
                if (cluster is null) return ClusterEndpoints.NotFound(id);

                var artifact = ArtifactCatalog.Generate(cluster, name);
                await audit.WriteAsync(http.User.Actor(), ArtifactCatalog.HoldsSecrets(name) ? "credentials.downloaded" : "artifact.downloaded",
                    cluster.Name, name, http.Connection.RemoteIpAddress?.ToString(), ct);
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.File(Encoding.UTF8.GetBytes(artifact.Content), artifact.ContentType + "; charset=utf-8", artifact.FileName);
            })
            .Produces<string>(StatusCodes.Status200OK, "text/plain", "application/json")
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("DownloadArtifact").WithSummary("Download one generated file.");
    }
}
