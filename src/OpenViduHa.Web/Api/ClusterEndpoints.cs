using System.Text.Json;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Users;
using OpenViduHa.Core;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

public static class ClusterEndpoints
{
    internal static readonly ProblemTitles Problems = new(
        NotFound: "Cluster not found.", Conflict: "A job is changing this cluster.",
        Invalid: "The cluster is not valid.", InvalidDetail: "Nothing was stored. Fix the fields listed in 'errors'.");

    public static void MapClusterApi(this IEndpointRouteBuilder app)
    {
        var clusters = app.MapGroup("/api/clusters").WithTags("Clusters");

        clusters.MapGet("/", async (ClusterService service, CancellationToken ct) => TypedResults.Ok(await service.ListAsync(ct)))
            .WithName("ListClusters").WithSummary("List clusters (name, version, node counts, installed nodes).");

        clusters.MapGet("/{id:int}", async Task<Results<Ok<ClusterView>, ProblemHttpResult>> (int id, ClusterService service, HttpContext http, CancellationToken ct) =>
            {
                if (await service.GetAsync(id, ct) is not { } view) return NotFound(id);
                http.Response.Headers.ETag = ETag(view.Revision);
                return TypedResults.Ok(view);
            })
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetCluster").WithSummary("Read a cluster, secrets left out.")
            .WithDescription("The ETag header names the revision read: send it back as If-Match with PUT to change only what was read.");

        clusters.MapPost("/", async Task<IResult> (HttpRequest request, ClusterService service, CancellationToken ct) =>
            {
                var (spec, problem) = await ReadSpecAsync(request, ct);
                if (problem is not null) return problem;
                var result = await service.CreateAsync(spec!, request.HttpContext.User.Actor(), ct);
                if (!result.Succeeded) return result.ToProblem(Problems);
                return TypedResults.Created($"/api/clusters/{result.Id}", new CreatedCluster(result.Id!.Value, Warnings(result)));
            })
            .Accepts<ClusterSpec>("application/json")
            .Produces<CreatedCluster>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireScope(TokenScope.Admin)
            .WithName("CreateCluster").WithSummary("Create a cluster; missing secrets are generated.");

        clusters.MapPost("/adopt", async Task<IResult> (AdoptSpec spec, AdoptService adopt, HttpContext http, CancellationToken ct) =>
            {
                var (result, findings) = await adopt.AdoptAsync(spec, http.User.Actor(), ct);
                if (result.Succeeded) return TypedResults.Created($"/api/clusters/{result.Id}", new CreatedCluster(result.Id!.Value, Warnings(result)));
                if (result.Kind != OutcomeKind.Conflict) return result.ToProblem(Problems);
                return TypedResults.Problem(statusCode: StatusCodes.Status409Conflict, title: "The cluster cannot be adopted as it is.", detail: result.Message,
                    extensions: new Dictionary<string, object?> { ["findings"] = findings });
            })
            .Produces<CreatedCluster>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(TokenScope.Admin)
            .WithName("AdoptCluster").WithSummary("Take over a cluster installed by hand: every node read and checked, then stored as installed.")
            .WithDescription("The nodes as in a create body (role, privateIp, publicIp, ssh). A node without ssh.hostKeyFingerprint is not read: the answer " +
                             "(409) lists the key each presents, to confirm and send back. Every node's version, config and secrets are read over SSH and must " +
                             "agree (one version, the masters given, the roles given, equal shared keys); otherwise 409 lists each disagreement by node, " +
                             "file and key (values never shown) and nothing is stored.");

        clusters.MapPut("/{id:int}", async Task<IResult> (int id, HttpRequest request, ClusterService service, CancellationToken ct) =>
            {
                if (!TryIfMatch(request, out var ifRevision))
                    return TypedResults.Problem(statusCode: StatusCodes.Status412PreconditionFailed, title: "Changed meanwhile.",
                        detail: $"If-Match '{request.Headers.IfMatch}' is not a revision of this cluster: send the ETag of GET /api/clusters/{id}. Nothing was stored.");
                var (spec, problem) = await ReadSpecAsync(request, ct);
                if (problem is not null) return problem;
                var result = await service.UpdateAsync(id, spec!, request.HttpContext.User.Actor(), ifRevision, ct);
                if (!result.Succeeded) return result.ToProblem(Problems);
                if (await service.GetAsync(id, ct) is { } saved) request.HttpContext.Response.Headers.ETag = ETag(saved.Revision);
                return TypedResults.Ok(new CreatedCluster(id, Warnings(result)));
            })
            .ProducesProblem(StatusCodes.Status412PreconditionFailed)
            .WithDescription("With If-Match (the ETag of GET), a cluster changed since is left alone: 412. Without it, the body replaces whatever is stored.")
            .Accepts<ClusterSpec>("application/json")
            .Produces<CreatedCluster>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(TokenScope.Admin)
            .WithName("UpdateCluster").WithSummary("Change a cluster; stored secrets are kept unless given.");

        clusters.MapPut("/{id:int}/installer-sha256", async Task<IResult> (int id, InstallerSha256Spec pins, ClusterService service, HttpContext http, CancellationToken ct) =>
            {
                var result = await service.PinInstallerAsync(id, pins.Master, pins.Media, http.User.Actor(), ct);
                return result.Succeeded ? TypedResults.NoContent() : result.ToProblem(Problems);
            })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(TokenScope.Admin)
            .WithName("PinInstallerSha256").WithSummary("Pin (or unpin) the installer scripts' SHA-256.");

        clusters.MapDelete("/{id:int}", async Task<IResult> (int id, ClusterService service, HttpContext http, CancellationToken ct) =>
            {
                var result = await service.DeleteAsync(id, http.User.Actor(), ct);
                return result.Succeeded ? TypedResults.NoContent() : result.ToProblem(Problems);
            })
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .ProducesProblem(StatusCodes.Status409Conflict)
            .RequireScope(TokenScope.Admin)
            .WithName("DeleteCluster").WithSummary("Delete a cluster from the panel (the machines are not touched).");
    }

    public sealed record CreatedCluster(int Id, IReadOnlyList<string> Warnings);

    /// <summary>A revision as an entity tag: strong, quoted.</summary>
    public static string ETag(int revision) => $"\"{revision.ToString(System.Globalization.CultureInfo.InvariantCulture)}\"";

    /// <summary>
    /// The revision an If-Match asks for: none when the header is absent or <c>*</c> (the cluster exists: the endpoint
    /// says 404 otherwise); false when it names no revision of ours (a weak or foreign tag can never match).
    /// </summary>
    private static bool TryIfMatch(HttpRequest request, out int? revision)
    {
        revision = null;
        var header = request.Headers.IfMatch.ToString().Trim();
        if (header.Length == 0 || header == "*") return true;
        if (header.Length < 3 || header[0] != '"' || header[^1] != '"' ||
            !int.TryParse(header.AsSpan(1, header.Length - 2), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var value))
            return false;
        revision = value;
        return true;
    }

    /// <summary>
    /// Reads the body by hand so that a JSON type error (a port given as text) is reported at its field like any other
    /// rule, instead of a bare 400. The exception's message is not echoed: it could quote a value.
    /// </summary>
    private static async Task<(ClusterSpec? Spec, IResult? Problem)> ReadSpecAsync(HttpRequest request, CancellationToken ct)
    {
        if (!request.HasJsonContentType())
            return (null, TypedResults.Problem(statusCode: StatusCodes.Status415UnsupportedMediaType, title: "Send the cluster as application/json."));
        try
        {
            var options = request.HttpContext.RequestServices.GetRequiredService<Microsoft.Extensions.Options.IOptions<Microsoft.AspNetCore.Http.Json.JsonOptions>>().Value.SerializerOptions;
            var spec = await JsonSerializer.DeserializeAsync<ClusterSpec>(request.Body, options, ct);
            if (spec is null) return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { [""] = ["The body is empty."] }, title: "The cluster is not valid."));
            return (spec, null);
        }
        catch (JsonException ex)
        {
            var field = JsonPathToField(ex.Path);
            var message = ex.Path is null ? "The body is not valid JSON." : "This value has the wrong type or is not valid JSON.";
            return (null, TypedResults.ValidationProblem(new Dictionary<string, string[]> { [field] = [message] }, title: "The cluster is not valid."));
        }
    }

    internal static string JsonPathToField(string? path) =>
        string.IsNullOrEmpty(path) || path == "$" ? "" : path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');

    private static IReadOnlyList<string> Warnings(Outcome result) => result.Warnings.Select(w => $"{w.Field}: {w.Message}").ToList();

    /// <summary>A read that found no cluster: the same problem as an outcome's not found, typed for <see cref="Results{TResult1, TResult2}"/>.</summary>
    internal static ProblemHttpResult NotFound(int id) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: Problems.NotFound, detail: $"There is no cluster {id}.");
}
