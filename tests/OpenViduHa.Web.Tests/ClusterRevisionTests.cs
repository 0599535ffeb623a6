using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text.Json;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>Concurrent edits through the API: ETag and If-Match on a cluster, and nodes added at the same moment.</summary>
public sealed class ClusterRevisionTests
{
    [Fact]
    public async Task Put_WithTheETagRead_Saved_WithAStaleOne_412NothingChanged()
    {
        using var factory = new PanelFactory();
        var api = factory.ApiClient();
        var id = (await (await api.PostAsJsonAsync("/api/clusters", Specs.Valid())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        var read = await api.GetAsync($"/api/clusters/{id}");
        var etag = read.Headers.ETag;
        Assert.NotNull(etag);
        Assert.False(etag.IsWeak);
        Assert.Equal("\"1\"", etag.Tag);
        Assert.Equal(1, (await read.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("revision").GetInt32());

        // Alice saves with the tag she read: accepted, and the answer carries the next tag.
        var alice = await PutAsync(api, id, "alice.example.io", etag.Tag);
        Assert.Equal(HttpStatusCode.OK, alice.StatusCode);
        Assert.Equal("\"2\"", alice.Headers.ETag?.Tag);

        // Bob read at the same time as Alice: his save is refused whole.
        var audits = factory.Count("AuditLog");
        var bob = await PutAsync(api, id, "bob.example.io", etag.Tag);
        Assert.Equal(HttpStatusCode.PreconditionFailed, bob.StatusCode);
        Assert.Equal("application/problem+json", bob.Content.Headers.ContentType?.MediaType);
        Assert.Contains("changed since it was read (revision 1, now 2)", (await bob.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString(), StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await PutAsync(api, id, "bob.example.io", "W/\"2\"")).StatusCode); // a weak tag never matches
        Assert.Equal(HttpStatusCode.PreconditionFailed, (await PutAsync(api, id, "bob.example.io", "\"two\"")).StatusCode);
        Assert.Equal(audits, factory.Count("AuditLog"));
        var now = await api.GetAsync($"/api/clusters/{id}");
        Assert.Equal("alice.example.io", (await now.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("domainName").GetString());
        Assert.Equal("\"2\"", now.Headers.ETag?.Tag);

        // Without If-Match (scripts of before) the body replaces what is stored, as it always did; * means "whatever is there".
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(api, id, "carol.example.io", null)).StatusCode);
        Assert.Equal(HttpStatusCode.OK, (await PutAsync(api, id, "dave.example.io", "*")).StatusCode);
    }

    /// <summary>Eight media nodes added by eight callers at once: every one is stored, each under its own name and id.</summary>
    [Fact]
    public async Task PostNodes_EightAtOnce_AllStored()
    {
        using var factory = new PanelFactory();
        var api = factory.ApiClient();
        var id = (await (await api.PostAsJsonAsync("/api/clusters", Specs.Valid())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();

        var answers = await Task.WhenAll(Enumerable.Range(40, 8).Select(async i =>
        {
            using var client = factory.ApiClient();
            var response = await client.PostAsJsonAsync($"/api/clusters/{id}/nodes", Specs.Node("media", $"10.5.0.{i}", $"203.0.113.{i}"));
            return (Ip: $"10.5.0.{i}", response.StatusCode, Body: await response.Content.ReadAsStringAsync());
        }));

        Assert.All(answers, a => Assert.True(a.StatusCode == HttpStatusCode.Created, $"{a.Ip}: {(int)a.StatusCode} {a.Body}"));
        var cluster = await api.GetFromJsonAsync<JsonElement>($"/api/clusters/{id}");
        var nodes = cluster.GetProperty("nodes").EnumerateArray().ToList();
        Assert.Equal(10, nodes.Count(n => n.GetProperty("role").GetString() == "media"));
        Assert.Equal(nodes.Count, nodes.Select(n => n.GetProperty("name").GetString()).Distinct().Count());
        foreach (var (ip, _, body) in answers)
        {
            var nodeId = JsonDocument.Parse(body).RootElement.GetProperty("id").GetInt32();
            Assert.Equal(ip, nodes.Single(n => n.GetProperty("id").GetInt32() == nodeId).GetProperty("privateIp").GetString());
        }
    }

    private static async Task<HttpResponseMessage> PutAsync(HttpClient api, int id, string domain, string? ifMatch)
    {
        var spec = Specs.Valid();
        spec.DomainName = domain;
        var request = new HttpRequestMessage(HttpMethod.Put, $"/api/clusters/{id}") { Content = JsonContent.Create(spec) };
        if (ifMatch is not null) request.Headers.TryAddWithoutValidation("If-Match", ifMatch);
        return await api.SendAsync(request);
    }
}
