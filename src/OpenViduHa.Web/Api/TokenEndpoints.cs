using OpenViduHa.Core.Users;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

/// <summary><c>/api/tokens</c>: list, create (the value shown once) and revoke API tokens; admin scope throughout.</summary>
public static class TokenEndpoints
{
    public sealed record TokenDto(
        int Id, string Name, string Prefix, string Owner, string Scope, string State, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
        DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt);

    /// <summary>The new token: <c>token</c> is its value, shown this once (the panel keeps only its hash).</summary>
    public sealed record CreatedToken(int Id, string Token, string Name, string Scope, DateTimeOffset? ExpiresAt);

    public static void MapTokenApi(this IEndpointRouteBuilder app)
    {
        var tokens = app.MapGroup("/api/tokens").WithTags("Tokens");

        tokens.MapGet("/", async (ApiTokenService service, TimeProvider clock, CancellationToken ct) =>
            {
                var now = clock.GetUtcNow();
                return TypedResults.Ok((await service.ListAsync(ct)).Select(t => new TokenDto(
                    t.Id, t.Name, t.Prefix, t.Owner, ApiTokenService.Name(t.Scope), t.State(now), t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt)).ToList());
            })
            .RequireScope(TokenScope.Admin)
            .WithName("ListTokens").WithSummary("List API tokens (never their values).");

        tokens.MapPost("/", async Task<IResult> (TokenRequest request, ApiTokenService service, HttpContext http, CancellationToken ct) =>
            {
                if (ApiTokenService.Validate(request) is { Count: > 0 } errors) return TypedResults.ValidationProblem(errors, title: "The token request is not valid.");
                var created = await service.CreateAsync(http.User.UserId()!.Value, request, http.User.Actor(), ct);
                return TypedResults.Created($"/api/tokens/{created.Id}",
                    new CreatedToken(created.Id, created.Token, created.Name, ApiTokenService.Name(created.Scope), created.ExpiresAt));
            })
            .Accepts<TokenRequest>("application/json")
            .Produces<CreatedToken>(StatusCodes.Status201Created)
            .ProducesValidationProblem()
            .RequireScope(TokenScope.Admin)
            .WithName("CreateToken").WithSummary("Create a token for the caller's user: name, scope (read, operate, admin), expiresInDays (optional).");

        tokens.MapDelete("/{tokenId:int}", async Task<IResult> (int tokenId, ApiTokenService service, HttpContext http, CancellationToken ct) =>
                await service.RevokeAsync(tokenId, http.User.Actor(), ct)
                    ? TypedResults.NoContent()
                    : TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Token not found.", detail: $"There is no active token {tokenId}."))
            .Produces(StatusCodes.Status204NoContent)
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(TokenScope.Admin)
            .WithName("RevokeToken").WithSummary("Revoke a token: it stops working at once.");
    }
}
