using System.Security.Claims;
using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Auth;

/// <summary><c>Authorization: Bearer &lt;token&gt;</c> against the hashed tokens (page or API), with the token's scope as a claim.</summary>
public sealed class ApiTokenHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory loggerFactory,
    UrlEncoder encoder,
    ApiTokenService tokens) : AuthenticationHandler<AuthenticationSchemeOptions>(options, loggerFactory, encoder)
{
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        var header = Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)) return AuthenticateResult.NoResult();
        var principal = await tokens.ValidateAsync(header["Bearer ".Length..].Trim(), Context.RequestAborted);
        if (principal is null) return AuthenticateResult.Fail("Unknown, revoked or expired API token.");

        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, principal.UserId.ToString(System.Globalization.CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, principal.UserName),
            new Claim(PanelClaims.TokenName, principal.TokenName),
            new Claim(PanelClaims.TokenScope, ApiTokenService.Name(principal.Scope)),
        ], Scheme.Name);
        return AuthenticateResult.Success(new AuthenticationTicket(new ClaimsPrincipal(identity), Scheme.Name));
    }

    protected override Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        return Task.CompletedTask;
    }
}

public static class PanelClaims
{
    public const string TokenName = "ovha:token";
    public const string TokenScope = "ovha:scope";

    /// <summary>The audit log's actor: the user, and the token when the call came with one.</summary>
    public static string Actor(this ClaimsPrincipal user)
    {
        var name = user.Identity?.Name ?? "anonymous";
        var token = user.FindFirstValue(TokenName);
        return token is null ? name : $"{name} (token {token})";
    }

    public static int? UserId(this ClaimsPrincipal user) =>
        int.TryParse(user.FindFirstValue(ClaimTypes.NameIdentifier), out var id) ? id : null;
}
