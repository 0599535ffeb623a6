using System.Net;
using System.Net.Http.Json;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// What the API answers when it refuses: status, type, title, detail and errors of each problem, and the JSON of a
/// job, compared whole (less the trace id) so that a change to how refusals are built cannot change what clients read.
/// </summary>
public sealed class RefusalApiTests : IClassFixture<PanelFactory>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private const string Fingerprint = "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0";
    private readonly PanelFactory _factory;
    private readonly HttpClient _api;

    public RefusalApiTests(PanelFactory factory)
    {
        _factory = factory;
        _api = factory.ApiClient();
    }

    [Fact]
    public async Task UpdateCluster_UnknownCluster_404ClusterNotFound()
    {
        // Act
        var response = await _api.PutAsJsonAsync("/api/clusters/987001", Specs.Valid(name: "nowhere"), Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.NotFound, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Cluster not found.","status":404,"detail":"There is no cluster 987001."}""");
    }

    [Fact]
    public async Task DeleteCluster_UnknownCluster_404ClusterNotFound()
    {
        // Act
        var response = await _api.DeleteAsync("/api/clusters/987002");

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.NotFound, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Cluster not found.","status":404,"detail":"There is no cluster 987002."}""");
    }

    [Fact]
    public async Task UpdateCluster_InvalidSpec_400ClusterNotValidWithTheField()
    {
        // Arrange
        var id = await CreateAsync("refuse-invalid");
        var spec = Specs.Valid(name: "refuse-invalid");
        spec.DomainName = "not a domain";

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The cluster is not valid.","status":400,"detail":"Nothing was stored. Fix the fields listed in 'errors'.","errors":{"domainName":["Give a fully qualified domain name such as openvidu.example.io (not an IP address)."]}}""");
    }

    /// <summary>A domain with a line break in it: refused at save, the field named, nothing stored (it used to be stored, then every artifact answered 500).</summary>
    [Fact]
    public async Task CreateCluster_LineBreakInTheDomain_400AtTheFieldNothingStored()
    {
        // Arrange
        var spec = Specs.Valid(name: "refuse-newline");
        spec.DomainName = "a\n.example.io";
        var before = _factory.Count("Clusters");

        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The cluster is not valid.","status":400,"detail":"Nothing was stored. Fix the fields listed in 'errors'.","errors":{"domainName":["Remove the line break, tab or other control character: this field is one line of plain text."]}}""");
        Assert.Equal(before, _factory.Count("Clusters"));
    }

    [Fact]
    public async Task CreateCluster_BodyAboveOneMebibyte_413NothingStored()
    {
        // Arrange: a valid cluster whose licence alone is 1.5 MiB.
        var spec = Specs.Valid(name: "refuse-huge");
        spec.LicenseKey = new string('A', 3 * 512 * 1024);
        var before = _factory.Count("Clusters");

        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.RequestEntityTooLarge, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.14","title":"The request is too large.","status":413,"detail":"Request bodies are limited to 1024 KiB. Nothing was stored."}""");
        Assert.Equal(before, _factory.Count("Clusters"));
    }

    /// <summary>The node limit comes from configuration (Clusters:MaxNodes).</summary>
    [Fact]
    public async Task CreateCluster_MoreNodesThanConfigured_400AtNodes()
    {
        await using var small = new PanelFactory { Settings = new() { ["Clusters:MaxNodes"] = "6" } };
        var api = small.ApiClient();

        var response = await api.PostAsJsonAsync("/api/clusters", Specs.Valid(name: "seven", media: 3), Json);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The cluster is not valid.","status":400,"detail":"Nothing was stored. Fix the fields listed in 'errors'.","errors":{"nodes":["At most 6 nodes per cluster (Clusters:MaxNodes); this one has 7."]}}""");
        Assert.Equal(HttpStatusCode.Created, (await api.PostAsJsonAsync("/api/clusters", Specs.Valid(name: "six", media: 2), Json)).StatusCode);
    }

    /// <summary>Below the body limit, each field has its own: a licence of 600 characters is refused at its field.</summary>
    [Fact]
    public async Task CreateCluster_LicenceTooLong_400AtTheField()
    {
        var spec = Specs.Valid(name: "refuse-long");
        spec.LicenseKey = new string('A', 600);

        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);

        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The cluster is not valid.","status":400,"detail":"Nothing was stored. Fix the fields listed in 'errors'.","errors":{"licenseKey":["Too long for a licence: at most 512 characters."]}}""");
    }

    [Fact]
    public async Task ChangingTheCluster_WhileAJobChangesIt_409NamingTheJob()
    {
        // Arrange
        var id = await CreateAsync("refuse-busy");
        var jobId = await AddJobAsync(id, JobKind.Install, JobState.Running);
        var expected = $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"A job is changing this cluster.","status":409,"detail":"Job {{jobId}} (install) is changing this cluster: wait for it to end, or cancel it, before changing the cluster."}""";

        // Act
        var update = await _api.PutAsJsonAsync($"/api/clusters/{id}", Specs.Valid(name: "refuse-busy"), Json);
        var pin = await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = new string('a', 64), media = new string('b', 64) }, Json);
        var addNode = await _api.PostAsJsonAsync($"/api/clusters/{id}/nodes", Specs.Node("media", "10.5.0.13", null), Json);
        var delete = await _api.DeleteAsync($"/api/clusters/{id}");

        // Assert
        await AssertProblemAsync(update, HttpStatusCode.Conflict, expected);
        await AssertProblemAsync(pin, HttpStatusCode.Conflict, expected);
        await AssertProblemAsync(addNode, HttpStatusCode.Conflict, expected);
        await AssertProblemAsync(delete, HttpStatusCode.Conflict, expected);
    }

    [Fact]
    public async Task PinInstallerSha256_NotHex_400ClusterNotValidAtTheScript()
    {
        // Arrange
        var id = await CreateAsync("refuse-pin");

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = "nope", media = new string('b', 64) }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The cluster is not valid.","status":400,"detail":"Nothing was stored. Fix the fields listed in 'errors'.","errors":{"master":["Give the SHA-256 as the 64 hexadecimal digits sha256sum prints, or leave it empty."]}}""");
    }

    [Fact]
    public async Task AddNode_Master_400NodeNotValid()
    {
        // Arrange
        var id = await CreateAsync("refuse-master");

        // Act
        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/nodes", Specs.Node("master", "10.5.0.5", null), Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The node is not valid.","status":400,"detail":"Nothing was stored.","errors":{"node.role":["Masters cannot be added: an HA cluster has exactly 4, and once installed their private IPs are written into every node and cannot change. Add media nodes only."]}}""");
    }

    [Fact]
    public async Task AddNode_UnknownCluster_404ClusterNotFound()
    {
        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters/987003/nodes", Specs.Node("media", "10.5.0.13", null), Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.NotFound, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Cluster not found.","status":404,"detail":"There is no cluster 987003."}""");
    }

    [Fact]
    public async Task AddNode_Media_201WithTheNodeAndItsWarningsWithoutTheirField()
    {
        // Arrange
        var spec = Specs.Valid(name: "accept-media");
        spec.RtcEngine = "mediasoup";
        var id = await CreateAsync(spec);

        // Act
        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/nodes", Specs.Node("media", "10.5.0.13", null), Json);

        // Assert
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        Assert.Equal($"/api/clusters/{id}", response.Headers.Location!.ToString());
        var nodeId = (await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}"))!["nodes"]![6]!["id"]!.GetValue<int>();
        Assert.Equal($$"""{"id":{{nodeId}},"warnings":["mediasoup is experimental in OpenVidu and should not be used in production."]}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task CreateCluster_Valid_201WithTheIdAndFieldWarnings()
    {
        // Arrange
        var spec = Specs.Valid(name: "accept-single-media", media: 1);

        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);

        // Assert
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var id = (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        Assert.Equal($$"""{"id":{{id}},"warnings":["nodes: One media node is no high availability for media: the guide asks for at least 2."]}""",
            await response.Content.ReadAsStringAsync());
    }

    [Fact]
    public async Task StartJob_UnknownCluster_404NotFound()
    {
        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters/987004/jobs", new { kind = "preflight" }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.NotFound, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not found.","status":404,"detail":"There is no cluster 987004."}""");
    }

    [Fact]
    public async Task StartJob_RestartWithoutANode_400JobCannotRun()
    {
        // Arrange
        var id = await CreateAsync("refuse-restart");

        // Act
        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "restart" }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"The job cannot run.","status":400,"detail":"A restart job needs a nodeId."}""");
    }

    [Fact]
    public async Task StartJob_UnknownKind_400AtTheKind()
    {
        // Arrange
        var id = await CreateAsync("refuse-kind");

        // Act
        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "reboot" }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"Unknown job kind.","status":400,"errors":{"kind":["Use one of: preflight, install, add-node, reinstall-node, restart, start, stop, rolling-restart, check-credentials, distribute-credentials, fetch-installer-digests, upgrade, rollback-upgrade, remove-node, set-public-ip, reconfigure."]}}""");
    }

    [Fact]
    public async Task StartJob_WhileAnotherChangesTheCluster_409RefusedWhileAnotherJobRuns()
    {
        // Arrange
        var id = await CreateAsync("refuse-second");
        var jobId = await AddJobAsync(id, JobKind.Install, JobState.Queued);

        // Act
        var response = await _api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "rolling-restart" }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.Conflict, $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Refused while another job runs.","status":409,"detail":"Job {{jobId}} (install, queued) is changing cluster 'refuse-second': one changing job at a time. Wait for it, or cancel it."}""");
    }

    [Fact]
    public async Task CancelAndRetry_UnknownJob_404NotFound()
    {
        // Act
        var cancel = await _api.PostAsync("/api/jobs/987005/cancel", null);
        var retry = await _api.PostAsync("/api/jobs/987005/retry", null);

        // Assert
        const string expected = """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Not found.","status":404,"detail":"There is no job 987005."}""";
        await AssertProblemAsync(cancel, HttpStatusCode.NotFound, expected);
        await AssertProblemAsync(retry, HttpStatusCode.NotFound, expected);
    }

    [Fact]
    public async Task CancelJob_Ended_409RefusedWhileAnotherJobRuns()
    {
        // Arrange
        var id = await CreateAsync("refuse-cancel");
        var jobId = await AddJobAsync(id, JobKind.Preflight, JobState.Succeeded);

        // Act
        var response = await _api.PostAsync($"/api/jobs/{jobId}/cancel", null);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.Conflict, $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Refused while another job runs.","status":409,"detail":"Job {{jobId}} is already succeeded."}""");
    }

    [Fact]
    public async Task RetryJob_Running_409RefusedWhileAnotherJobRuns()
    {
        // Arrange
        var id = await CreateAsync("refuse-retry");
        var jobId = await AddJobAsync(id, JobKind.Preflight, JobState.Running);

        // Act
        var response = await _api.PostAsync($"/api/jobs/{jobId}/retry", null);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.Conflict, $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Refused while another job runs.","status":409,"detail":"Job {{jobId}} is running: only failed, cancelled or interrupted jobs are retried."}""");
    }

    [Fact]
    public async Task GetJob_AddNodeJob_KindInKebabCaseAndStatesInLowerCase()
    {
        // Arrange
        var id = await CreateAsync("job-json");
        var nodeId = await NodeIdAsync(id, 4);
        var jobId = await AddJobAsync(id, JobKind.AddNode, JobState.Running, nodeId);

        // Act
        var job = await _api.GetStringAsync($"/api/jobs/{jobId}");
        var list = await _api.GetStringAsync($"/api/clusters/{id}/jobs");

        // Assert
        var expected = $$"""{"id":{{jobId}},"clusterId":{{id}},"kind":"add-node","nodeId":{{nodeId}},"state":"running","message":"Installing","createdBy":"alice","createdAt":"2026-11-28T10:00:00+00:00","startedAt":"2026-11-28T10:00:01+00:00","finishedAt":null,"retryOf":null,"nodes":[{"nodeId":{{nodeId}},"nodeName":"media-1","state":"running","message":"Downloading the installer","details":null}]}""";
        Assert.Equal(expected, job);
        Assert.Equal($"[{expected}]", list);
    }

    [Fact]
    public async Task PinHostKey_UnknownNode_404NodeNotFound()
    {
        // Act
        var response = await _api.PostAsJsonAsync("/api/nodes/987006/host-key", new { fingerprint = Fingerprint }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.NotFound, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.5","title":"Node not found.","status":404,"detail":"There is no node 987006."}""");
    }

    [Fact]
    public async Task PinHostKey_NotAFingerprint_400AtTheFingerprint()
    {
        // Arrange
        var nodeId = await NodeIdAsync(await CreateAsync("refuse-fingerprint"), 0);

        // Act
        var response = await _api.PostAsJsonAsync($"/api/nodes/{nodeId}/host-key", new { fingerprint = "MD5:00" }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.BadRequest, """{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.1","title":"One or more validation errors occurred.","status":400,"errors":{"fingerprint":["Give the SHA256 fingerprint as 'ssh-keygen -lf' prints it: SHA256: followed by 43 base64 characters."]}}""");
    }

    [Fact]
    public async Task PinHostKey_AnotherKeyPinned_409AnotherHostKeyIsPinned()
    {
        // Arrange
        var spec = Specs.Valid(name: "refuse-repin");
        spec.Nodes![0].Ssh!.HostKeyFingerprint = Fingerprint;
        var nodeId = await NodeIdAsync(await CreateAsync(spec), 0);
        const string other = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

        // Act
        var response = await _api.PostAsJsonAsync($"/api/nodes/{nodeId}/host-key", new { fingerprint = other }, Json);

        // Assert
        await AssertProblemAsync(response, HttpStatusCode.Conflict, $$"""{"type":"https://tools.ietf.org/html/rfc9110#section-15.5.10","title":"Another host key is pinned.","status":409,"detail":"master-1 is pinned to {{Fingerprint}}. To trust {{other}} instead (the machine was rebuilt), re-pin explicitly with replace: true."}""");
    }

    /// <summary>The status and the whole problem, less its trace id (different on every request).</summary>
    private static async Task AssertProblemAsync(HttpResponseMessage response, HttpStatusCode status, string json)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        problem.Remove("traceId");
        Assert.Equal(json, problem.ToJsonString(Readable));
    }

    private Task<int> CreateAsync(string name, int media = 2) => CreateAsync(Specs.Valid(name: name, media: media));

    private async Task<int> CreateAsync(Core.Clusters.ClusterSpec spec)
    {
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    private async Task<int> NodeIdAsync(int clusterId, int index) =>
        (await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}"))!["nodes"]![index]!["id"]!.GetValue<int>();

    /// <summary>A job row as the runner leaves it, written directly: no job runs, so the cluster stays in that state.</summary>
    private async Task<int> AddJobAsync(int clusterId, JobKind kind, JobState state, int? nodeId = null)
    {
        await using var db = await _factory.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        var at = new DateTimeOffset(2026, 11, 28, 10, 0, 0, TimeSpan.Zero);
        var job = new JobEntity
        {
            ClusterId = clusterId, Kind = kind, NodeId = nodeId, State = state, CreatedBy = "alice", CreatedAt = at, StartedAt = at.AddSeconds(1),
            Message = nodeId is null ? null : "Installing",
            Nodes = nodeId is { } node
                ? [new JobNodeEntity { NodeId = node, NodeName = "media-1", State = NodeJobState.Running, Message = "Downloading the installer", UpdatedAt = at }]
                : [],
        };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job.Id;
    }
}
