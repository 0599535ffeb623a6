using System.Net;
using System.Net.Http.Headers;
using System.Text;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Audit;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Web.Hosting;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// The panel on a real Kestrel socket, met as a browser or a TLS proxy meets it: security headers on every answer,
/// forwarded headers believed only from configured proxies, host filtering, the body limit.
/// </summary>
public sealed partial class ProxyAndHeadersTests
{
    private const string Client = "203.0.113.50";

    [Fact]
    public async Task EveryAnswer_CarriesTheSecurityHeaders_NoHstsOverPlainHttp()
    {
        using var factory = new PanelFactory();
        factory.StartKestrel();
        var api = factory.ApiClient();

        foreach (var path in new[] { "/login", "/healthz", "/api/clusters", "/favicon.svg", "/no-such-page" })
        {
            var response = await api.GetAsync(path);
            Assert.Equal("nosniff", Single(response, "X-Content-Type-Options"));
            Assert.Equal("DENY", Single(response, "X-Frame-Options"));
            Assert.Equal("same-origin", Single(response, "Referrer-Policy"));
            var policy = Single(response, "Content-Security-Policy");
            Assert.Contains("frame-ancestors 'none'", policy, StringComparison.Ordinal);
            Assert.Matches(@"script-src 'self' 'nonce-[0-9a-f]{32}'; style-src", policy); // no 'unsafe-inline' script
            Assert.False(response.Headers.Contains("Strict-Transport-Security"), path);
        }

        // The page's one inline script (the import map) carries the nonce of its own answer, a new one every time.
        var first = await api.GetAsync("/login");
        var nonce = ImportMapNonce().Match(await first.Content.ReadAsStringAsync()).Groups[1].Value;
        Assert.Equal(ProxyAndHeaders.ContentSecurityPolicy(nonce), Single(first, "Content-Security-Policy"));
        var second = await api.GetAsync("/login");
        Assert.NotEqual(nonce, ImportMapNonce().Match(await second.Content.ReadAsStringAsync()).Groups[1].Value);
    }

    /// <summary>
    /// A proxy's X-Forwarded-For and X-Forwarded-Proto count only when it is configured: then the audit log names the
    /// client, the sign-in cookie is Secure and HSTS is sent; from anyone else they are ignored (none are trusted by
    /// default, not even loopback: anyone on the machine could send them).
    /// </summary>
    [Theory]
    [InlineData(null, null, false)]
    [InlineData("127.0.0.1", null, true)]
    [InlineData(null, "127.0.0.0/8", true)]
    [InlineData("127.0.0.2", "10.0.0.0/8", false)]
    public async Task SignInThroughAProxy_ClientAndHttps_BelievedOnlyFromAConfiguredProxy(string? proxy, string? network, bool trusted)
    {
        var settings = new Dictionary<string, string?>();
        if (proxy is not null) settings["Proxy:KnownProxies:0"] = proxy;
        if (network is not null) settings["Proxy:KnownNetworks:0"] = network;
        using var factory = new PanelFactory { Settings = settings };
        var address = factory.StartKestrel();
        // Cookies by hand: a cookie jar keeps no Secure cookie for an http address, and the proxy's leg is http.
        using var http = new HttpClient(new SocketsHttpHandler { UseCookies = false, AllowAutoRedirect = false }) { BaseAddress = address };

        var form = await http.SendAsync(Proxied(HttpMethod.Get, "/login"));
        var token = PanelFactory.AntiforgeryToken(await form.Content.ReadAsStringAsync());
        var post = Proxied(HttpMethod.Post, "/login");
        post.Headers.Add("Cookie", string.Join("; ", form.Headers.GetValues("Set-Cookie").Select(c => c.Split(';')[0])));
        post.Content = new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["__RequestVerificationToken"] = token,
            ["Input.UserName"] = PanelFactory.AdminUser, ["Input.Password"] = PanelFactory.AdminPassword,
        });
        var signIn = await http.SendAsync(post);

        Assert.Equal(HttpStatusCode.Redirect, signIn.StatusCode);
        var cookie = signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ovha.auth=", StringComparison.Ordinal));
        Assert.Equal(trusted, cookie.Contains("; secure", StringComparison.OrdinalIgnoreCase));
        Assert.Equal(trusted, signIn.Headers.Contains("Strict-Transport-Security"));
        var entry = (await factory.Services.GetRequiredService<AuditLog>().RecentAsync(10)).Single(e => e.Action == "signin");
        Assert.Equal(trusted ? Client : "127.0.0.1", entry.RemoteIp);
    }

    [Fact]
    public async Task AllowedHosts_AnotherHostName_400()
    {
        using var factory = new PanelFactory { Settings = { ["AllowedHosts"] = "panel.example.io" } };
        var address = factory.StartKestrel();
        using var http = new HttpClient { BaseAddress = address };

        var wrong = new HttpRequestMessage(HttpMethod.Get, "/login");
        wrong.Headers.Host = "attacker.example.net";
        var right = new HttpRequestMessage(HttpMethod.Get, "/login");
        right.Headers.Host = "panel.example.io";

        Assert.Equal(HttpStatusCode.BadRequest, (await http.SendAsync(wrong)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await http.SendAsync(right)).StatusCode);
    }

    /// <summary>Over a socket the limit holds for a declared length and for a chunked body that declares none.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task BodyAboveOneMebibyte_OverKestrel_413ProblemNothingStored(bool declaredLength)
    {
        using var factory = new PanelFactory();
        factory.StartKestrel();
        var json = "{\"name\":\"" + new string('a', 1_100_000) + "\"}";
        HttpContent body = declaredLength
            ? new StringContent(json, Encoding.UTF8, "application/json")
            : new StreamContent(new ChunkedOnly(Encoding.UTF8.GetBytes(json)));
        body.Headers.ContentType = new MediaTypeHeaderValue("application/json");

        var response = await factory.ApiClient().PostAsync("/api/clusters", body);

        Assert.Equal(HttpStatusCode.RequestEntityTooLarge, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal(0, factory.Count("Clusters"));
    }

    [Theory]
    [InlineData("Proxy:KnownProxies:0", "proxy.example.io", "Proxy:KnownProxies")]
    [InlineData("Proxy:KnownNetworks:0", "10.0.0.0/33", "Proxy:KnownNetworks")]
    public void ProxySettings_Malformed_RefusedAtStart(string key, string value, string named)
    {
        using var factory = new PanelFactory { Settings = { [key] = value } };

        var error = Record.Exception(() => factory.Services);

        Assert.Contains(named, error?.ToString(), StringComparison.Ordinal);
    }

    private static HttpRequestMessage Proxied(HttpMethod method, string path)
    {
        var request = new HttpRequestMessage(method, path);
        request.Headers.Host = "panel.example.io";
        request.Headers.Add("X-Forwarded-For", Client);
        request.Headers.Add("X-Forwarded-Proto", "https");
        return request;
    }

    private static string Single(HttpResponseMessage response, string header) =>
        Assert.Single(response.Headers.TryGetValues(header, out var values) ? values : []);

    /// <summary>A stream of unknown length, so the client sends it chunked with no Content-Length.</summary>
    private sealed class ChunkedOnly(byte[] data) : MemoryStream(data)
    {
        public override bool CanSeek => false;
    }

    [GeneratedRegex("<script type=\"importmap\" nonce=\"([^\"]+)\"")]
    private static partial Regex ImportMapNonce();
}
