using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Tests.Shared;


namespace OpenViduHa.Web.Tests;

public sealed class ClusterApiTests : IClassFixture<PanelFactory>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private readonly PanelFactory _factory;
    private readonly HttpClient _api;

    public ClusterApiTests(PanelFactory factory)
    {
        _factory = factory;
        _api = factory.ApiClient();
    }

    private async Task<int> CreateAsync(ClusterSpec spec)
    {
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        var id = body!["id"]!.GetValue<int>();
        Assert.Equal($"/api/clusters/{id}", response.Headers.Location!.ToString());
        return id;
    }

    private static async Task<JsonObject> ProblemAsync(HttpResponseMessage response)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    [Fact]
    public async Task Healthz_WithoutSignIn_Answers200()
    {
        var response = await _factory.CreateClient().GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
    }

    [Theory]
    [InlineData("GET", "/api/clusters")]
    [InlineData("POST", "/api/clusters")]
    [InlineData("GET", "/api/clusters/1")]
    [InlineData("DELETE", "/api/clusters/1")]
    [InlineData("GET", "/api/clusters/1/artifacts/nginx.conf")]
    [InlineData("GET", "/openapi/v1.json")]
    public async Task Api_WithoutToken_Answers401(string method, string path)
    {
        var client = _factory.CreateClient(new() { AllowAutoRedirect = false });
        var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path) { Content = JsonContent.Create(new { }) });
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Api_WithUnknownToken_Answers401()
    {
        var client = _factory.CreateClient();
        client.DefaultRequestHeaders.Authorization = new("Bearer", "ovha_not_a_real_token_000000000000000000");
        var response = await client.GetAsync("/api/clusters");
        Assert.Equal(HttpStatusCode.Unauthorized, response.StatusCode);
    }

    [Fact]
    public async Task Create_ValidCluster_201WithLocationAndStoredWithoutSecretsInView()
    {
        var id = await CreateAsync(Specs.Valid(name: "create-ok"));

        var view = await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}");
        Assert.Equal("create-ok", view!["name"]!.GetValue<string>());
        Assert.Equal("3.0.0", view["openviduVersion"]!.GetValue<string>());
        Assert.True(view["licenseKeySet"]!.GetValue<bool>());
        Assert.Equal(6, view["nodes"]!.AsArray().Count);
        Assert.Equal("key", view["nodes"]![0]!["ssh"]!["auth"]!.GetValue<string>());
        Assert.Equal(["master", "master", "master", "master", "media", "media"], view["nodes"]!.AsArray().Select(n => n!["role"]!.GetValue<string>()));
        var text = view.ToJsonString();
        Assert.DoesNotContain("TESTLICENSE", text, StringComparison.Ordinal);
        Assert.DoesNotContain("PRIVATE KEY", text, StringComparison.Ordinal);

        var list = await _api.GetFromJsonAsync<JsonArray>("/api/clusters");
        Assert.Contains(list!, c => c!["id"]!.GetValue<int>() == id);
    }

    [Fact]
    public async Task Create_BadInput_400WithFieldErrorsAndNothingStored()
    {
        var clustersBefore = _factory.Count("Clusters");
        var nodesBefore = _factory.Count("Nodes");
        var spec = Specs.Valid(name: "bad-input");
        spec.DomainName = "not a domain";
        spec.Nodes![5].PrivateIp = "10.5.0.11"; // duplicate of media-1
        spec.Nodes[5].Ssh!.Host = "10.5.0.99";
        spec.Nodes[2].Ssh!.PrivateKey = "garbage";
        spec.Secrets = new() { ["redisPassword"] = "has space" };

        var problem = await ProblemAsync(await _api.PostAsJsonAsync("/api/clusters", spec, Json));

        var errors = problem["errors"]!.AsObject();
        Assert.Contains("fully qualified", errors["domainName"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Contains("already the private IP", errors["nodes[5].privateIp"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.True(errors.ContainsKey("nodes[4].privateIp"));
        Assert.True(errors.ContainsKey("nodes[2].ssh.privateKey"));
        Assert.Contains("letters and digits", errors["secrets.redisPassword"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        Assert.Equal(400, problem["status"]!.GetValue<int>());
        Assert.Equal(clustersBefore, _factory.Count("Clusters"));
        Assert.Equal(nodesBefore, _factory.Count("Nodes"));
    }

    [Fact]
    public async Task Create_WrongJsonType_400AtThatField()
    {
        var json = JsonSerializer.Serialize(Specs.Valid(name: "wrong-type"), Json).Replace("\"port\":22", "\"port\":\"twenty-two\"");
        var response = await _api.PostAsync("/api/clusters", new StringContent(json, Encoding.UTF8, "application/json"));

        var problem = await ProblemAsync(response);
        Assert.True(problem["errors"]!.AsObject().ContainsKey("nodes[0].ssh.port"), problem.ToJsonString());
    }

    [Fact]
    public async Task Create_NotJson_400()
    {
        var response = await _api.PostAsync("/api/clusters", new StringContent("{\"name\": ", Encoding.UTF8, "application/json"));
        await ProblemAsync(response);
    }

    [Fact]
    public async Task Create_DuplicateName_400AtName()
    {
        await CreateAsync(Specs.Valid(name: "twice"));
        var problem = await ProblemAsync(await _api.PostAsJsonAsync("/api/clusters", Specs.Valid(name: "twice"), Json));
        Assert.Contains("already exists", problem["errors"]!["name"]![0]!.GetValue<string>(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Create_Mediasoup_ReturnsWarning()
    {
        var spec = Specs.Valid(name: "mediasoup");
        spec.RtcEngine = "mediasoup";
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);
        var body = await response.Content.ReadFromJsonAsync<JsonObject>();
        Assert.Contains(body!["warnings"]!.AsArray(), w => w!.GetValue<string>().Contains("experimental", StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_WithoutSecrets_KeepsThemAndChangesTheRest()
    {
        var id = await CreateAsync(Specs.Valid(name: "update-me"));
        var before = await _api.GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env");
        var view = await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}");

        var spec = Specs.Valid(name: "update-me");
        spec.LicenseKey = null;
        spec.DomainName = "video.example.io";
        for (var i = 0; i < spec.Nodes!.Count; i++)
        {
            spec.Nodes[i].Id = view!["nodes"]![i]!["id"]!.GetValue<int>();
            spec.Nodes[i].Ssh!.PrivateKey = null;
        }
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);

        var after = await _api.GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env");
        Assert.Contains("wss://video.example.io/", after, StringComparison.Ordinal);
        Assert.Equal(Line(before, "LIVEKIT_API_SECRET="), Line(after, "LIVEKIT_API_SECRET="));
        Assert.Equal(Line(before, "LIVEKIT_API_KEY="), Line(after, "LIVEKIT_API_KEY="));

        static string Line(string text, string prefix) => text.Split('\n').Single(l => l.StartsWith(prefix, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Update_BadInput_400AndStoredClusterUnchanged()
    {
        var id = await CreateAsync(Specs.Valid(name: "keep-me"));
        var spec = Specs.Valid(name: "keep-me");
        spec.Nodes!.RemoveAt(0);
        var problem = await ProblemAsync(await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json));
        Assert.True(problem["errors"]!.AsObject().ContainsKey("nodes"));
        var view = await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}");
        Assert.Equal(6, view!["nodes"]!.AsArray().Count);
    }

    [Fact]
    public async Task Update_ChangingAPinnedHostKey_IsRefusedAtTheField()
    {
        const string pinned = "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0";
        var spec = Specs.Valid(name: "pinned");
        spec.Nodes![0].Ssh!.HostKeyFingerprint = pinned;
        var id = await CreateAsync(spec);
        var view = await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}");
        for (var i = 0; i < spec.Nodes.Count; i++) spec.Nodes[i].Id = view!["nodes"]![i]!["id"]!.GetValue<int>();
        spec.Nodes[0].Ssh!.HostKeyFingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA";

        var problem = await ProblemAsync(await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json));

        Assert.Contains("Re-pin it explicitly", problem["errors"]!["nodes[0].ssh.hostKeyFingerprint"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var after = await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}");
        Assert.Equal(pinned, after!["nodes"]![0]!["ssh"]!["hostKeyFingerprint"]!.GetValue<string>());
    }

    [Fact]
    public async Task Delete_Cluster_204ThenGone()
    {
        var id = await CreateAsync(Specs.Valid(name: "delete-me"));
        Assert.Equal(HttpStatusCode.NoContent, (await _api.DeleteAsync($"/api/clusters/{id}")).StatusCode);
        var response = await _api.GetAsync($"/api/clusters/{id}");
        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
        Assert.Equal("application/problem+json", response.Content.Headers.ContentType!.MediaType);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.DeleteAsync($"/api/clusters/{id}")).StatusCode);
    }

    [Fact]
    public async Task Artifacts_ListAndDownloadEach_WithClusterNameInFileName()
    {
        var id = await CreateAsync(Specs.Valid(name: "files", version: "3.8.0"));

        var list = await _api.GetFromJsonAsync<JsonArray>($"/api/clusters/{id}/artifacts");
        var names = list!.Select(a => a!["name"]!.GetValue<string>()).ToList();
        Assert.Equal(["install-commands.sh", "firewall-master.sh", "firewall-media.sh", "nginx.conf", "haproxy.cfg", "credentials.env", "credentials.json"], names);

        foreach (var name in names)
        {
            var response = await _api.GetAsync($"/api/clusters/{id}/artifacts/{name}");
            Assert.Equal(HttpStatusCode.OK, response.StatusCode);
            Assert.Equal($"files-{name}", response.Content.Headers.ContentDisposition!.FileName?.Trim('"'));
            Assert.Equal("no-store", response.Headers.CacheControl!.ToString());
            Assert.NotEmpty(await response.Content.ReadAsStringAsync());
        }

        var nginx = await _api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");
        foreach (var ip in new[] { "10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4" }) Assert.Contains($"{ip}:7880", nginx, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Artifacts_UnknownName_404AndUnknownCluster_404()
    {
        var id = await CreateAsync(Specs.Valid(name: "unknown-artifact"));
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync($"/api/clusters/{id}/artifacts/secrets.txt")).StatusCode);
        Assert.Equal(HttpStatusCode.NotFound, (await _api.GetAsync("/api/clusters/999999/artifacts/nginx.conf")).StatusCode);
    }

    [Fact]
    public async Task CredentialDownload_IsAudited()
    {
        var id = await CreateAsync(Specs.Valid(name: "audited"));
        await _api.GetStringAsync($"/api/clusters/{id}/artifacts/credentials.json");

        using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(_factory.DataDirectory, "panel.db")};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = "SELECT Actor, Detail FROM AuditLog WHERE Action = 'credentials.downloaded' AND Target = 'audited'";
        using var reader = command.ExecuteReader();
        Assert.True(reader.Read(), "no audit entry for the credential download");
        Assert.Equal("admin (token bootstrap)", reader.GetString(0));
        Assert.Equal("credentials.json", reader.GetString(1));
    }

    [Fact]
    public async Task OpenApi_Document_DescribesTheClusterApi()
    {
        var document = await _api.GetFromJsonAsync<JsonObject>("/openapi/v1.json");
        var paths = document!["paths"]!.AsObject();
        Assert.True(paths.ContainsKey("/api/clusters"));
        Assert.True(paths.ContainsKey("/api/clusters/{id}"));
        Assert.True(paths.ContainsKey("/api/clusters/{id}/artifacts/{name}"));
    }

    [Fact]
    public async Task Json_IsCamelCase()
    {
        var id = await CreateAsync(Specs.Valid(name: "camel"));
        var raw = await _api.GetStringAsync($"/api/clusters/{id}");
        Assert.Contains("\"domainName\"", raw, StringComparison.Ordinal);
        Assert.DoesNotContain("\"DomainName\"", raw, StringComparison.Ordinal);
    }
}
