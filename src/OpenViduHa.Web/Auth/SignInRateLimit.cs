using System.Globalization;
using System.Threading.RateLimiting;
using Microsoft.AspNetCore.RateLimiting;
using Microsoft.Extensions.Options;

namespace OpenViduHa.Web.Auth;

/// <summary>
/// ASP.NET Core's rate limiter on the forms that check a password (POST /login, POST /setup): at most
/// <see cref="PerMinute"/> per client address and minute, the rest answered 429 with Retry-After before any password
/// hash is computed. Other requests are not limited. Behind a proxy the address is the proxy's unless forwarded headers
/// are trusted (see the README's Security section).
/// </summary>
public static class SignInRateLimit
{
    public const int PerMinute = 10;

    public static void AddPanelSignInRateLimit(this IHostApplicationBuilder builder)
    {
        builder.Services.AddRateLimiter(Configure);
        // ASP.NET Core never disposes the global limiter it is given: its replenishing timer would outlive the host
        // (and hold it, through the timer's execution context, where hosts start and stop in one process).
        builder.Services.AddHostedService<GlobalLimiterDisposal>();
    }

    private static void Configure(RateLimiterOptions o)
    {
        o.GlobalLimiter = PartitionedRateLimiter.Create<HttpContext, string>(context =>
            IsPasswordForm(context.Request)
                ? RateLimitPartition.GetFixedWindowLimiter(context.Connection.RemoteIpAddress?.ToString() ?? "unknown", _ => new FixedWindowRateLimiterOptions
                {
                    PermitLimit = PerMinute,
                    Window = TimeSpan.FromMinutes(1),
                    QueueLimit = 0,
                })
                : RateLimitPartition.GetNoLimiter(""));
        o.RejectionStatusCode = StatusCodes.Status429TooManyRequests;
        o.OnRejected = async (rejected, ct) =>
        {
            var response = rejected.HttpContext.Response;
            if (rejected.Lease.TryGetMetadata(MetadataName.RetryAfter, out var retryAfter))
                response.Headers.RetryAfter = ((int)Math.Ceiling(retryAfter.TotalSeconds)).ToString(CultureInfo.InvariantCulture);
            response.ContentType = "text/plain; charset=utf-8";
            await response.WriteAsync($"Too many sign-in attempts from your address: at most {PerMinute} a minute. Wait a minute and try again.", ct);
        };
    }

    /// <summary>Disposes the global limiter once the host has stopped (after the server has finished its requests).</summary>
    private sealed class GlobalLimiterDisposal(IOptions<RateLimiterOptions> options, IHostApplicationLifetime lifetime) : IHostedService
    {
        public Task StartAsync(CancellationToken cancellationToken)
        {
            lifetime.ApplicationStopped.Register(() => options.Value.GlobalLimiter?.Dispose());
            return Task.CompletedTask;
        }

        public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
    }

    private static bool IsPasswordForm(HttpRequest request) =>
        HttpMethods.IsPost(request.Method) && (request.Path.Equals("/login", StringComparison.OrdinalIgnoreCase) || request.Path.Equals("/setup", StringComparison.OrdinalIgnoreCase));
}
