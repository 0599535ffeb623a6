using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Authorization;
using OpenViduHa.Web.Hosting;

namespace OpenViduHa.Web.Auth;

public static class AuthExtensions
{
    public const string PanelScheme = "Panel";
    public const string TokenScheme = "ApiToken";

    /// <summary>Cookie sign-in for people, bearer tokens for scripts; everything requires one of them unless marked anonymous.</summary>
    public static void AddPanelAuth(this IHostApplicationBuilder builder)
    {
        builder.AddPanelSignInRateLimit();
        builder.Services.AddAuthentication(PanelScheme)
            // A bearer token counts on the API and /metrics only: never on pages, the live connection or the dashboard.
            .AddPolicyScheme(PanelScheme, "Cookie or API token", o => o.ForwardDefaultSelector = context =>
                IsApi(context.Request) && context.Request.Headers.Authorization.ToString().StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase)
                    ? TokenScheme
                    : CookieAuthenticationDefaults.AuthenticationScheme)
            .AddCookie(o =>
            {
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
                o.AccessDeniedPath = "/login";
                o.Cookie.Name = "ovha.auth";
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = TimeSpan.FromHours(12);
                o.SlidingExpiration = true;
                // API callers get status codes, not a login page.
                o.Events.OnRedirectToLogin = context => ApiAwareRedirect(context, StatusCodes.Status401Unauthorized);
                o.Events.OnRedirectToAccessDenied = context => ApiAwareRedirect(context, StatusCodes.Status403Forbidden);
                // The cookie names a server-side session: once it ended (signed out, revoked), the cookie signs nobody in.
                o.Events.OnValidatePrincipal = PanelSessions.ValidatePrincipalAsync;
            })
            .AddScheme<AuthenticationSchemeOptions, ApiTokenHandler>(TokenScheme, null);

        builder.Services.AddAuthorizationBuilder()
            .SetFallbackPolicy(new AuthorizationPolicyBuilder(PanelScheme).RequireAuthenticatedUser().Build())
            .AddPanelScopes(PanelScheme);
        builder.Services.AddCascadingAuthenticationState();
        builder.AddPanelSessions();
    }

    /// <summary>
    /// The sign-in cookie reads the API (downloads from the pages) but never changes anything through it: the pages
    /// call the services directly, and scripts use bearer tokens. A forged same-site form therefore cannot start,
    /// cancel or change anything with an operator's cookie, even without an antiforgery token on JSON endpoints.
    /// </summary>
    public static void UseApiWritesNeedToken(this WebApplication app) => app.Use(async (context, next) =>
    {
        var request = context.Request;
        if (request.Path.StartsWithSegments("/api") && !HttpMethods.IsGet(request.Method) && !HttpMethods.IsHead(request.Method) &&
            context.User.Identity is { IsAuthenticated: true, AuthenticationType: CookieAuthenticationDefaults.AuthenticationScheme })
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsJsonAsync(new
            {
                type = "https://tools.ietf.org/html/rfc9110#section-15.5.4",
                title = "API writes need an API token.",
                status = 403,
                detail = "Send 'Authorization: Bearer <token>' (create one on the API tokens page); the sign-in cookie only reads the API.",
            }, options: null, contentType: "application/problem+json");
            return;
        }
        await next(context);
    });

    /// <summary>Until the first administrator exists, every page leads to the one-time setup.</summary>
    public static void UseSetupRedirect(this WebApplication app) => app.Use(async (context, next) =>
    {
        var setup = context.RequestServices.GetRequiredService<SetupState>();
        var path = context.Request.Path;
        if (!setup.IsDone && HttpMethods.IsGet(context.Request.Method) && !IsSetupExempt(path))
        {
            context.Response.Redirect("/setup");
            return;
        }
        await next(context);
    });

    private static bool IsSetupExempt(PathString path) =>
        path.StartsWithSegments("/setup") || path.StartsWithSegments("/api") || path.StartsWithSegments("/healthz") ||
        path.StartsWithSegments("/openapi") || path.StartsWithSegments("/_framework") || path.StartsWithSegments("/_content") ||
        path.StartsWithSegments("/_blazor") || Path.HasExtension(path.Value);

    private static Task ApiAwareRedirect(RedirectContext<CookieAuthenticationOptions> context, int status)
    {
        if (IsApi(context.Request))
        {
            context.Response.StatusCode = status;
            return Task.CompletedTask;
        }
        context.Response.Redirect(context.RedirectUri);
        return Task.CompletedTask;
    }

    private static bool IsApi(HttpRequest request) =>
        request.Path.StartsWithSegments("/api") || request.Path.StartsWithSegments("/openapi") || request.Path.StartsWithSegments("/metrics");
}
