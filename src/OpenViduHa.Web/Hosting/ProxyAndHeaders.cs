using System.ComponentModel.DataAnnotations;
using System.Net;
using System.Security.Cryptography;
using Microsoft.AspNetCore.HttpOverrides;
using Microsoft.Extensions.Options;

namespace OpenViduHa.Web.Hosting;

/// <summary>The <c>Proxy</c> section: which reverse proxies in front of the panel are trusted to say who the client is.</summary>
public sealed class ProxyOptions
{
    public const string Section = "Proxy";

    /// <summary>Addresses of trusted proxies (e.g. <c>127.0.0.1</c>). None by default: forwarded headers are ignored.</summary>
    public List<string> KnownProxies { get; set; } = [];

    /// <summary>Networks of trusted proxies in CIDR form (e.g. <c>10.0.0.0/24</c>).</summary>
    public List<string> KnownNetworks { get; set; } = [];
}

/// <summary>
/// Behind a TLS proxy: <c>X-Forwarded-For</c> and <c>X-Forwarded-Proto</c> are believed only from the configured proxies,
/// so the audit log records the client (not the proxy) and the sign-in cookie is <c>Secure</c> when the browser used
/// https. And on every answer, the security headers: a content security policy with what Blazor Server and MudBlazor
/// need and nothing more, no framing, no MIME sniffing, no referrer leaving the panel, HSTS over https.
/// </summary>
public static class ProxyAndHeaders
{
    /// <summary>Where the page's script nonce is kept for this request (the import map's inline script carries it).</summary>
    public const string NonceKey = "ovha.csp-nonce";

    /// <summary>
    /// Blazor Server: its own scripts and a WebSocket to the same origin ('self'), the import map by this answer's nonce;
    /// MudBlazor: inline style attributes and the theme's style element ('unsafe-inline' for styles only), SVG icons
    /// inline. No other inline script, no framing, nothing from another origin.
    /// </summary>
    public static string ContentSecurityPolicy(string nonce) =>
        $"default-src 'self'; script-src 'self' 'nonce-{nonce}'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self'; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>The Hangfire dashboard and the API reference (Scalar) carry inline scripts of their own.</summary>
    public const string ToolsContentSecurityPolicy =
        "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; " +
        "connect-src 'self'; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'";

    /// <summary>This request's script nonce (set by <see cref="UsePanelProxyAndHeaders"/>).</summary>
    public static string Nonce(HttpContext context) => context.Items[NonceKey] as string ?? "";

    public static void AddPanelProxy(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<ProxyOptions>().BindConfiguration(ProxyOptions.Section)
            .Validate(o => o.KnownProxies.All(p => IPAddress.TryParse(p, out _)), "Proxy:KnownProxies holds addresses such as 127.0.0.1.")
            .Validate(o => o.KnownNetworks.All(n => System.Net.IPNetwork.TryParse(n, out _)), "Proxy:KnownNetworks holds networks such as 10.0.0.0/24.")
            .ValidateOnStart();
        builder.Services.AddOptions<ForwardedHeadersOptions>().Configure<IOptions<ProxyOptions>>((o, options) =>
        {
            var proxy = options.Value;
            o.ForwardedHeaders = ForwardedHeaders.XForwardedFor | ForwardedHeaders.XForwardedProto;
            // Only the configured ones: ASP.NET Core's default trusts loopback, which here would be anyone on the machine.
            o.KnownProxies.Clear();
            o.KnownIPNetworks.Clear();
            foreach (var address in proxy.KnownProxies) if (IPAddress.TryParse(address, out var ip)) o.KnownProxies.Add(ip);
            foreach (var network in proxy.KnownNetworks) if (System.Net.IPNetwork.TryParse(network, out var net)) o.KnownIPNetworks.Add(net);
        });
    }

    public static void UsePanelProxyAndHeaders(this WebApplication app)
    {
        // With no proxy listed, ASP.NET Core's middleware would believe the headers from anyone: so then it is not used.
        var proxy = app.Services.GetRequiredService<IOptions<ProxyOptions>>().Value;
        if (proxy.KnownProxies.Count > 0 || proxy.KnownNetworks.Count > 0) app.UseForwardedHeaders();
        if (!app.Environment.IsDevelopment()) app.UseHsts(); // only over https: ASP.NET Core never sends it on http
        app.Use((context, next) =>
        {
            var headers = context.Response.Headers;
            var path = context.Request.Path;
            if (path.StartsWithSegments("/hangfire") || path.StartsWithSegments("/api-docs"))
            {
                headers.ContentSecurityPolicy = ToolsContentSecurityPolicy;
            }
            else
            {
                // Hex: no character the page would have to escape in the attribute (base64 has + and /).
                var nonce = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16));
                context.Items[NonceKey] = nonce;
                headers.ContentSecurityPolicy = ContentSecurityPolicy(nonce);
            }
            headers.XContentTypeOptions = "nosniff";
            headers.XFrameOptions = "DENY";
            headers["Referrer-Policy"] = "same-origin";
            return next(context);
        });
    }
}
