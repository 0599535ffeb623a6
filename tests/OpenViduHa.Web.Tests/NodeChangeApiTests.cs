using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// remove-node and set-public-ip refused before anything runs: their parameters at the field, the cluster's rules with
/// the reason; and the definition refusing to drop or re-address an installed media node behind the jobs' back.
/// </summary>
public sealed class NodeChangeApiTests(PanelFactory factory) : IClassFixture<PanelFactory>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private const string Fingerprint = "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0";
    private readonly HttpClient _api = factory.ApiClient();

    [Theory]
    [InlineData("remove-node", """{"drainTimeout":"half an hour"}""", "drainTimeout", "'half an hour' is not a duration: write hh:mm:ss, e.g. 00:30:00.")]
    [InlineData("remove-node", """{"drainTimeout":"00:00:00"}""", "drainTimeout", "Give more than 0 and at most 1.00:00:00.")]
    [InlineData("remove-node", """{"drainTimeout":"2.00:00:00"}""", "drainTimeout", "Give more than 0 and at most 1.00:00:00.")]
    [InlineData("set-public-ip", """{}""", "publicIp", "Give the media node's public IP (IPv4), the address clients send media to.")]
    [InlineData("set-public-ip", """{"publicIp":"203.0.113.300"}""", "publicIp", "'203.0.113.300' is not an IPv4 address (four numbers 0-255, dot separated).")]
    [InlineData("set-public-ip", """{"publicIp":"2001:db8::1"}""", "publicIp", "'2001:db8::1' is not an IPv4 address (four numbers 0-255, dot separated).")]
    public async Task BadParameters_400AtTheField_NothingQueued(string kind, string extra, string field, string message)
    {
        var id = await CreateInstalledAsync($"param-{Guid.NewGuid():N}"[..20]);
        var media = await NodeIdAsync(id, "media-1");
        var body = JsonNode.Parse(extra)!.AsObject();
        body["kind"] = kind;
        body["nodeId"] = media;

        var response = await _api.PostAsync($"/api/clusters/{id}/jobs", JsonContent.Create(body));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal($"The {kind} job's parameters are not valid.", problem["title"]!.GetValue<string>());
        Assert.Equal(message, problem["errors"]![field]![0]!.GetValue<string>());
        Assert.Empty((await _api.GetFromJsonAsync<JsonArray>($"/api/clusters/{id}/jobs"))!);
    }

    [Theory]
    [InlineData("remove-node", "master-2", "Masters never leave: an HA cluster has exactly 4, and their private IPs are written into every node. Only media nodes are removed.")]
    [InlineData("set-public-ip", "master-2", "Only media nodes take a public IP: masters are reached through the load balancer.")]
    public async Task AMaster_Refused(string kind, string node, string detail)
    {
        var id = await CreateInstalledAsync($"{kind}-master");

        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind, nodeId = await NodeIdAsync(id, node), publicIp = "198.51.100.7" }, Json);

        await AssertRefusedAsync(response, detail);
    }

    [Fact]
    public async Task RemoveNode_TheLastInstalledMediaNode_Refused()
    {
        var id = await CreateInstalledAsync("remove-last", media: 2);
        // media-2 was stored but never installed: media-1 carries every room.
        await using (var db = await DbAsync())
            await db.Nodes.Where(n => n.ClusterId == id && n.Name == "media-2").ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, (DateTimeOffset?)null));

        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "remove-node", nodeId = await NodeIdAsync(id, "media-1") }, Json);

        await AssertRefusedAsync(response, "media-1 is the cluster's last installed media node: without one no room can carry media. Add and install another media node first.");
    }

    [Fact]
    public async Task RemoveNode_NotInstalled_RefusedPointingToTheDefinition()
    {
        var id = await CreateInstalledAsync("remove-fresh", media: 2);
        await using (var db = await DbAsync())
            await db.Nodes.Where(n => n.ClusterId == id && n.Name == "media-2").ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, (DateTimeOffset?)null));

        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "remove-node", nodeId = await NodeIdAsync(id, "media-2") }, Json);

        await AssertRefusedAsync(response, "media-2 is not installed: nothing runs on it to drain. Remove it from the cluster's definition (Edit) instead.");
    }

    [Fact]
    public async Task Edit_DroppingOrReaddressingAnInstalledMediaNode_400NamingTheJob_NothingStored()
    {
        var id = await CreateInstalledAsync("edit-installed", media: 2);
        var before = await _api.GetStringAsync($"/api/clusters/{id}");

        var dropped = Specs.Valid(name: "edit-installed", media: 1);
        var drop = await _api.PutAsJsonAsync($"/api/clusters/{id}", await WithIdsAsync(id, dropped), Json);
        var moved = await WithIdsAsync(id, Specs.Valid(name: "edit-installed", media: 2));
        moved.Nodes![5].PublicIp = "198.51.100.9";
        var move = await _api.PutAsJsonAsync($"/api/clusters/{id}", moved, Json);

        Assert.Equal(HttpStatusCode.BadRequest, drop.StatusCode);
        Assert.Equal("media-2 is installed: take it out with a remove-node job (it drains its rooms, stops it, then removes it), not by editing.",
            (await drop.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["nodes"]![0]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.BadRequest, move.StatusCode);
        Assert.Equal("media-2 is installed with 203.0.113.12: change it with a set-public-ip job (it reinstalls the node), not by editing.",
            (await move.Content.ReadFromJsonAsync<JsonObject>())!["errors"]!["nodes[5].publicIp"]![0]!.GetValue<string>());
        Assert.Equal(before, await _api.GetStringAsync($"/api/clusters/{id}"));
    }

    private static async Task AssertRefusedAsync(HttpResponseMessage response, string detail)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("The job cannot run.", problem["title"]!.GetValue<string>());
        Assert.Equal(detail, problem["detail"]!.GetValue<string>());
    }

    /// <summary>A stored cluster whose nodes are all installed and pinned, as after an install job (no job runs here).</summary>
    private async Task<int> CreateInstalledAsync(string name, int media = 2)
    {
        var spec = Specs.Valid(name: name, media: media);
        foreach (var node in spec.Nodes!) node.Ssh!.HostKeyFingerprint = Fingerprint;
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        await using var db = await DbAsync();
        await db.Nodes.Where(n => n.ClusterId == id).ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, new DateTimeOffset(2026, 11, 29, 9, 0, 0, TimeSpan.Zero)));
        return id;
    }

    /// <summary>The spec with the stored nodes' ids (an edit, not new nodes), in order.</summary>
    private async Task<Core.Clusters.ClusterSpec> WithIdsAsync(int id, Core.Clusters.ClusterSpec spec)
    {
        var nodes = (await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}"))!["nodes"]!.AsArray();
        for (var i = 0; i < spec.Nodes!.Count; i++) spec.Nodes[i].Id = nodes[i]!["id"]!.GetValue<int>();
        return spec;
    }

    private async Task<int> NodeIdAsync(int clusterId, string name) =>
        (await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}"))!["nodes"]!.AsArray().First(n => n!["name"]!.GetValue<string>() == name)!["id"]!.GetValue<int>();

    private Task<PanelDbContext> DbAsync() => factory.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
}
