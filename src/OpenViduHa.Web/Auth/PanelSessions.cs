using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Security.Claims;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Components.Authorization;
using Microsoft.AspNetCore.Components.Server;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Auth;

/// <summary>The <c>Sessions</c> section.</summary>
public sealed class SessionOptions
{
    public const string Section = "Sessions";

    /// <summary>How often a live page checks that its session is still open; an ended session signs the page out within it.</summary>
    [Range(typeof(TimeSpan), "00:00:01", "00:01:00", ErrorMessage = "Sessions:RevalidationInterval must be between 1 s and 1 min.")]
    public TimeSpan RevalidationInterval { get; set; } = TimeSpan.FromSeconds(30);
}

/// <summary>
/// Cookie sign-ins backed by a server-side session (<see cref="SessionService"/>): the cookie carries the session id,
/// every request checks it, and live pages (Blazor circuits) check it again every
/// <see cref="SessionOptions.RevalidationInterval"/>, so a sign-out or a revoked session ends them too.
/// </summary>
public static class PanelSessions
{
    public const string SessionClaim = "ovha:session";

    public static void AddPanelSessions(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<SessionOptions>().BindConfiguration(SessionOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddScoped<AuthenticationStateProvider, SessionRevalidatingStateProvider>();
    }

    /// <summary>Opens a session for the user and signs the browser in with a cookie naming it.</summary>
    public static async Task SignInAsync(HttpContext http, int userId, string userName)
    {
        var sessions = http.RequestServices.GetRequiredService<SessionService>();
        var sessionId = await sessions.StartAsync(userId, http.Connection.RemoteIpAddress?.ToString(), http.Request.Headers.UserAgent.ToString(), http.RequestAborted);
        var identity = new ClaimsIdentity(
        [
            new Claim(ClaimTypes.NameIdentifier, userId.ToString(CultureInfo.InvariantCulture)),
            new Claim(ClaimTypes.Name, userName),
            new Claim(SessionClaim, sessionId),
        ], CookieAuthenticationDefaults.AuthenticationScheme);
        await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
    }

    /// <summary>Ends the browser's session on the server, then drops its cookie.</summary>
    public static async Task SignOutAsync(HttpContext http)
    {
        if (http.User.FindFirstValue(SessionClaim) is { } sessionId)
            await http.RequestServices.GetRequiredService<SessionService>().EndAsync(sessionId, http.User.Actor(), SessionService.SignedOut, http.RequestAborted);
        await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }

    /// <summary>The cookie's own check on every request: a cookie whose session ended (or that names none) signs nobody in.</summary>
    public static async Task ValidatePrincipalAsync(CookieValidatePrincipalContext context)
    {
        var sessions = context.HttpContext.RequestServices.GetRequiredService<SessionService>();
        var principal = context.Principal;
        if (principal is not null &&
            await sessions.IsActiveAsync(principal.FindFirstValue(SessionClaim), principal.UserId(), context.HttpContext.RequestAborted))
            return;
        context.RejectPrincipal();
        await context.HttpContext.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
    }
}

/// <summary>A live page's sign-in, checked against its session every <see cref="SessionOptions.RevalidationInterval"/>.</summary>
public sealed class SessionRevalidatingStateProvider(ILoggerFactory loggerFactory, SessionService sessions, IOptions<SessionOptions> options)
    : RevalidatingServerAuthenticationStateProvider(loggerFactory)
{
    protected override TimeSpan RevalidationInterval => options.Value.RevalidationInterval;

    protected override Task<bool> ValidateAuthenticationStateAsync(AuthenticationState authenticationState, CancellationToken cancellationToken)
    {
        var user = authenticationState.User;
        return sessions.IsActiveAsync(user.FindFirstValue(PanelSessions.SessionClaim), user.UserId(), cancellationToken);
    }
}
