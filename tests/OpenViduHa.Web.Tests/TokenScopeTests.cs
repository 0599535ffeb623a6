using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.AspNetCore.Routing;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Users;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Tests;

/// <summary>API tokens with scopes and expiry, managed over the API; bearer tokens only where the API is.</summary>
public sealed class TokenScopeTests
{
    /// <summary>What each scope may do, one request of each kind; the bootstrap token (admin) makes the others over the API.</summary>
    [Fact]
    public async Task Scopes_ReadOperateAdmin_EachAllowedItsOwnAndRefusedTheNextWith403Problem()
    {
        using var factory = new PanelFactory();
        var admin = factory.ApiClient();
        var clusterId = (await (await admin.PostAsJsonAsync("/api/clusters", Specs.Valid())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
        var read = await ClientAsync(factory, admin, "dashboard", "read");
        var operate = await ClientAsync(factory, admin, "deploy", "operate");

        // read: every GET but the credentials; nothing else.
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync($"/api/clusters/{clusterId}")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await read.GetAsync($"/api/clusters/{clusterId}/artifacts/nginx.conf")).StatusCode);
        await AssertScopeProblemAsync(await read.GetAsync($"/api/clusters/{clusterId}/artifacts/credentials.env"), "read", "operate");
        await AssertScopeProblemAsync(await read.GetAsync($"/api/clusters/{clusterId}/artifacts/install-commands.sh"), "read", "operate");
        await AssertScopeProblemAsync(await read.PostAsync("/api/jobs/999/cancel", null), "read", "operate");
        await AssertScopeProblemAsync(await read.PostAsync($"/api/clusters/{clusterId}/status/refresh", null), "read", "operate");

        // operate: jobs and node actions reach their endpoint (404: no such job or node); definitions and tokens do not.
        Assert.Equal(HttpStatusCode.NotFound, (await operate.PostAsync("/api/jobs/999/cancel", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operate.PostAsync("/api/jobs/999/retry", null)).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await operate.PostAsJsonAsync("/api/nodes/999/host-key", new { fingerprint = "SHA256:" + new string('A', 43) })).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await operate.GetAsync($"/api/clusters/{clusterId}/artifacts/credentials.env")).StatusCode);
        await AssertScopeProblemAsync(await operate.DeleteAsync($"/api/clusters/{clusterId}"), "operate", "admin");
        await AssertScopeProblemAsync(await operate.PutAsJsonAsync($"/api/clusters/{clusterId}", Specs.Valid()), "operate", "admin");
        await AssertScopeProblemAsync(await operate.PostAsJsonAsync($"/api/clusters/{clusterId}/nodes", Specs.Node("media", "10.5.0.30", "203.0.113.30")), "operate", "admin");
        await AssertScopeProblemAsync(await operate.GetAsync("/api/tokens"), "operate", "admin");
        await AssertScopeProblemAsync(await operate.PostAsJsonAsync("/api/tokens", new { name = "escalate", scope = "admin" }), "operate", "admin");

        // Nothing a refused call asked for happened.
        Assert.Equal(1, factory.Count("Clusters"));
        Assert.Equal(3, factory.Count("ApiTokens"));
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/clusters/{clusterId}")).StatusCode);
    }

    [Fact]
    public async Task TokenApi_CreateShownOnce_ListWithoutValues_RevokeStopsIt()
    {
        using var factory = new PanelFactory();
        var admin = factory.ApiClient();

        var response = await admin.PostAsJsonAsync("/api/tokens", new { name = "ci", scope = "operate", expiresInDays = 30 });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var created = await response.Content.ReadFromJsonAsync<JsonElement>();
        var id = created.GetProperty("id").GetInt32();
        var token = created.GetProperty("token").GetString()!;
        Assert.Matches("^ovha_[0-9a-f]{48}$", token);
        Assert.Equal($"/api/tokens/{id}", response.Headers.Location?.ToString());
        var expires = created.GetProperty("expiresAt").GetDateTimeOffset();
        Assert.InRange(expires - DateTimeOffset.UtcNow, TimeSpan.FromDays(29.9), TimeSpan.FromDays(30));

        var list = await admin.GetStringAsync("/api/tokens");
        Assert.DoesNotContain(token, list, StringComparison.Ordinal);
        var listed = JsonDocument.Parse(list).RootElement.EnumerateArray().ToList();
        Assert.Equal(["ci", "bootstrap"], listed.Select(t => t.GetProperty("name").GetString()));
        Assert.Equal(["operate", "admin"], listed.Select(t => t.GetProperty("scope").GetString())); // the bootstrap token is admin
        Assert.All(listed, t => Assert.Equal("active", t.GetProperty("state").GetString()));

        using var ci = factory.CreateClient();
        ci.DefaultRequestHeaders.Authorization = new("Bearer", token);
        Assert.Equal(HttpStatusCode.OK, (await ci.GetAsync("/api/clusters")).StatusCode);
        Assert.Equal(HttpStatusCode.NoContent, (await admin.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.Equal(HttpStatusCode.Unauthorized, (await ci.GetAsync("/api/clusters")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await admin.DeleteAsync($"/api/tokens/{id}")).StatusCode);
        Assert.Equal("revoked", JsonDocument.Parse(await admin.GetStringAsync("/api/tokens")).RootElement[0].GetProperty("state").GetString());
        Assert.DoesNotContain(token, System.Text.Encoding.Latin1.GetString(await File.ReadAllBytesAsync(Path.Combine(factory.DataDirectory, "panel.db"))), StringComparison.Ordinal);
    }

    [Fact]
    public async Task TokenApi_BadRequest_EveryFieldNamed_NothingStored()
    {
        using var factory = new PanelFactory();

        var response = await factory.ApiClient().PostAsJsonAsync("/api/tokens", new { name = "two\nlines", scope = "root", expiresInDays = 0 });

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var errors = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("errors");
        Assert.Equal(["expiresInDays", "name", "scope"], errors.EnumerateObject().Select(e => e.Name).Order());
        Assert.Equal(1, factory.Count("ApiTokens"));
    }

    [Fact]
    public async Task ExpiredToken_401_AndListedAsExpired()
    {
        using var factory = new PanelFactory();
        var admin = factory.ApiClient();
        var created = await (await admin.PostAsJsonAsync("/api/tokens", new { name = "short", scope = "read", expiresInDays = 1 })).Content.ReadFromJsonAsync<JsonElement>();
        using var client = factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", created.GetProperty("token").GetString());
        Assert.Equal(HttpStatusCode.OK, (await client.GetAsync("/api/clusters")).StatusCode);

        // A day and a second later (the stored expiry moved back rather than the clock forward).
        var dbFactory = factory.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            var row = await db.ApiTokens.SingleAsync(t => t.Name == "short");
            row.ExpiresAt = DateTimeOffset.UtcNow.AddSeconds(-1);
            await db.SaveChangesAsync();
        }

        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/clusters")).StatusCode);
        Assert.Equal("expired", JsonDocument.Parse(await admin.GetStringAsync("/api/tokens")).RootElement[0].GetProperty("state").GetString());
    }

    /// <summary>A bearer token is for the API and /metrics: pages, the live connection and the dashboard want a person's sign-in.</summary>
    [Fact]
    public async Task BearerToken_WorksOnApiAndMetrics_NeverOnPagesHubOrDashboard()
    {
        using var factory = new PanelFactory();
        var admin = factory.ApiClient();

        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/api/clusters")).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await admin.GetAsync("/metrics")).StatusCode);
        foreach (var page in new[] { "/clusters", "/tokens", "/hangfire", "/api-docs" })
        {
            var response = await admin.GetAsync(page);
            Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
            Assert.StartsWith("/login", response.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        }
        var hub = await admin.PostAsync("/_blazor/negotiate?negotiateVersion=1", null);
        Assert.NotEqual(HttpStatusCode.OK, hub.StatusCode);
        Assert.DoesNotContain("connectionToken", await hub.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    /// <summary>
    /// No write endpoint is open to a weaker token by omission: each one of the API declares operate or admin, and the
    /// declared ones are the list the README gives.
    /// </summary>
    [Fact]
    public void EveryApiWrite_DeclaresItsScope()
    {
        using var factory = new PanelFactory();
        var endpoints = factory.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Where(e => e.RoutePattern.RawText?.StartsWith("/api/", StringComparison.Ordinal) == true)
            .SelectMany(e => (e.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? []).Select(m => (Method: m, e.RoutePattern.RawText, Scope: e.Metadata.GetMetadata<ScopeRequirement>()?.Least)))
            .Where(e => e.Method != "GET")
            .Select(e => $"{e.Method} {e.RawText} {e.Scope?.ToString().ToLowerInvariant() ?? "NONE"}")
            .Order(StringComparer.Ordinal)
            .ToList();

        Assert.Equal(
        [
            "DELETE /api/clusters/{id:int} admin",
            "DELETE /api/tokens/{tokenId:int} admin",
            "POST /api/backup admin", // every secret, decrypted into the file
            "POST /api/clusters/ admin",
            "POST /api/clusters/adopt admin",
            "POST /api/clusters/{id:int}/jobs operate",
            "POST /api/clusters/{id:int}/nodes admin",
            "POST /api/clusters/{id:int}/reconfigure-plan read", // plans only: changes nothing
            "POST /api/clusters/{id:int}/status/refresh operate",
            "POST /api/jobs/{jobId:int}/cancel operate",
            "POST /api/jobs/{jobId:int}/retry operate",
            "POST /api/nodes/{nodeId:int}/host-key operate",
            "POST /api/restore admin",
            "POST /api/tokens/ admin",
            "PUT /api/clusters/{id:int} admin",
            "PUT /api/clusters/{id:int}/installer-sha256 admin",
        ], endpoints);
    }

    /// <summary>
    /// The sign-in cookie names a server-side session: after signing out, or after the session is revoked from another
    /// browser, a copy of the cookie signs nobody in.
    /// </summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public async Task SessionEnded_SignOutOrRevoked_CopiedCookieNoLongerWorks(bool signOut)
    {
        using var factory = new PanelFactory();
        var (browser, signIn) = await factory.SignedInClientAsync();
        Assert.Equal(HttpStatusCode.OK, (await browser.GetAsync("/clusters")).StatusCode);
        // The same cookie, copied elsewhere (another machine, a stolen backup of a browser profile).
        var copy = factory.CreateClient(new() { AllowAutoRedirect = false, HandleCookies = false });
        copy.DefaultRequestHeaders.Add("Cookie", signIn.Headers.GetValues("Set-Cookie").Single(c => c.StartsWith("ovha.auth=", StringComparison.Ordinal)).Split(';')[0]);
        Assert.Equal(HttpStatusCode.OK, (await copy.GetAsync("/clusters")).StatusCode);

        var sessions = factory.Services.GetRequiredService<SessionService>();
        var session = Assert.Single(await sessions.ListAsync());
        if (signOut)
        {
            var logout = await browser.GetStringAsync("/logout");
            var signedOut = await browser.PostAsync("/logout", new FormUrlEncodedContent(new Dictionary<string, string>
            {
                ["_handler"] = "logout", ["__RequestVerificationToken"] = PanelFactory.AntiforgeryToken(logout),
            }));
            Assert.Equal(HttpStatusCode.Redirect, signedOut.StatusCode);
        }
        else
        {
            Assert.True(await sessions.EndAsync(session.Id, "admin", "revoked"));
        }

        var again = await copy.GetAsync("/clusters");
        Assert.Equal(HttpStatusCode.Redirect, again.StatusCode);
        Assert.StartsWith("/login", again.Headers.Location!.PathAndQuery, StringComparison.Ordinal);
        Assert.Equal(signOut ? "signed out" : "revoked", Assert.Single(await sessions.ListAsync()).EndReason);
        Assert.Contains((await factory.Services.GetRequiredService<OpenViduHa.Core.Audit.AuditLog>().RecentAsync(5)).Select(e => e.Action),
            a => a == (signOut ? "signout" : "session.revoked"));
    }

    private static async Task<HttpClient> ClientAsync(PanelFactory factory, HttpClient admin, string name, string scope)
    {
        var response = await admin.PostAsJsonAsync("/api/tokens", new { name, scope });
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var client = factory.CreateClient(new() { AllowAutoRedirect = false });
        client.DefaultRequestHeaders.Authorization = new("Bearer", (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("token").GetString());
        return client;
    }

    private static async Task AssertScopeProblemAsync(HttpResponseMessage response, string held, string needed)
    {
        Assert.Equal(HttpStatusCode.Forbidden, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType?.MediaType);
        var problem = await response.Content.ReadFromJsonAsync<JsonElement>();
        Assert.Equal(403, problem.GetProperty("status").GetInt32());
        Assert.Contains($"scope '{held}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Contains($"needs '{needed}'", problem.GetProperty("detail").GetString(), StringComparison.Ordinal);
    }
}
