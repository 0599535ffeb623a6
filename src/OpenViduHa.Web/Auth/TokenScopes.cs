using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Authorization.Policy;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Auth;

/// <summary>An endpoint's least token scope. People signed in with the cookie pass (administrators, writes are fenced separately).</summary>
public sealed class ScopeRequirement(TokenScope least) : IAuthorizationRequirement
{
    public TokenScope Least { get; } = least;
}

/// <summary>
/// The API's three levels. Every GET is <c>read</c>; an endpoint that runs the cluster says <see cref="Operate"/>, one that
/// changes its definition or the panel's access says <see cref="Admin"/>; any other write needs <c>admin</c> too (the
/// fallback for methods other than GET), so a new endpoint is never open to a weaker token by omission.
/// </summary>
public static class TokenScopes
{
    public const string Read = "scope:read";
    public const string Operate = "scope:operate";
    public const string Admin = "scope:admin";

    public static void AddPanelScopes(this AuthorizationBuilder authorization, string scheme)
    {
        foreach (var (name, scope) in new[] { (Read, TokenScope.Read), (Operate, TokenScope.Operate), (Admin, TokenScope.Admin) })
            authorization.AddPolicy(name, p => p.AddAuthenticationSchemes(scheme).RequireAuthenticatedUser().AddRequirements(new ScopeRequirement(scope)));
        authorization.Services.AddSingleton<IAuthorizationHandler, ScopeHandler>();
        authorization.Services.AddSingleton<IAuthorizationMiddlewareResultHandler, ScopeProblemHandler>();
    }

    /// <summary>This endpoint needs a token of at least <paramref name="scope"/> (the OpenAPI document says so, with its 403).</summary>
    public static RouteHandlerBuilder RequireScope(this RouteHandlerBuilder endpoint, TokenScope scope) =>
        endpoint.RequireAuthorization(scope switch { TokenScope.Read => Read, TokenScope.Operate => Operate, _ => Admin })
            .ProducesProblem(StatusCodes.Status403Forbidden)
            .WithMetadata(new ScopeRequirement(scope));

    /// <summary>403 problem details: the token's scope and the one the request needs.</summary>
    public static IResult Problem(HttpContext context, TokenScope held, TokenScope needed) => TypedResults.Problem(
        statusCode: StatusCodes.Status403Forbidden,
        title: "The token's scope does not allow this.",
        detail: $"This token has scope '{ApiTokenService.Name(held)}'; {context.Request.Method} {context.Request.Path} needs '{ApiTokenService.Name(needed)}'. " +
                "Create a token with that scope on the API tokens page or with POST /api/tokens.");

    /// <summary>The scope a token-authenticated principal holds; null for a cookie sign-in.</summary>
    public static TokenScope? Of(System.Security.Claims.ClaimsPrincipal user) =>
        user.Identity?.AuthenticationType == AuthExtensions.TokenScheme
            ? ApiTokenService.ParseScope(user.FindFirst(PanelClaims.TokenScope)?.Value) ?? TokenScope.Read
            : null;

    /// <summary>The least scope a request needs: the endpoint's own, else read for GET/HEAD and admin for anything else.</summary>
    public static TokenScope Needed(HttpContext context)
    {
        var declared = context.GetEndpoint()?.Metadata.GetMetadata<ScopeRequirement>()?.Least;
        return declared ?? (HttpMethods.IsGet(context.Request.Method) || HttpMethods.IsHead(context.Request.Method) ? TokenScope.Read : TokenScope.Admin);
    }

    private sealed class ScopeHandler : AuthorizationHandler<ScopeRequirement>
    {
        protected override Task HandleRequirementAsync(AuthorizationHandlerContext context, ScopeRequirement requirement)
        {
            if (context.User.Identity?.IsAuthenticated == true && (Of(context.User) ?? TokenScope.Admin) >= requirement.Least) context.Succeed(requirement);
            return Task.CompletedTask;
        }
    }

    /// <summary>
    /// A token below the request's scope gets 403 problem details naming both scopes, whether the endpoint declared its
    /// scope (its policy failed) or not (the fallback passed any signed-in caller: GET needs read, anything else admin).
    /// </summary>
    private sealed class ScopeProblemHandler : IAuthorizationMiddlewareResultHandler
    {
        private readonly AuthorizationMiddlewareResultHandler _default = new();

        public async Task HandleAsync(RequestDelegate next, HttpContext context, AuthorizationPolicy policy, PolicyAuthorizationResult authorizeResult)
        {
            if (Of(context.User) is { } held && Needed(context) is var needed && held < needed)
            {
                await Problem(context, held, needed).ExecuteAsync(context);
                return;
            }
            await _default.HandleAsync(next, context, policy, authorizeResult);
        }
    }
}
