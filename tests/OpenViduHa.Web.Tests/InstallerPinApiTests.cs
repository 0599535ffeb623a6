using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>Pinning the installer scripts' SHA-256 through the API, and what an edit does to the pins.</summary>
public sealed class InstallerPinApiTests : IClassFixture<PanelFactory>
{
    private static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);
    private static readonly string MasterDigest = new('a', 64);
    private static readonly string MediaDigest = new('b', 64);
    private readonly HttpClient _api;

    public InstallerPinApiTests(PanelFactory factory) => _api = factory.ApiClient();

    [Fact]
    public async Task PutInstallerSha256_Valid_PinsBothAndTheInstallCommandsCheckThem()
    {
        // Arrange
        var id = await CreateAsync("pin-valid");

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = MasterDigest.ToUpperInvariant(), media = MediaDigest }, Json);

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var pins = (await ClusterAsync(id))["installerSha256"]!;
        Assert.Equal(MasterDigest, pins["master"]!.GetValue<string>());
        Assert.Equal(MediaDigest, pins["media"]!.GetValue<string>());
        var commands = await _api.GetStringAsync($"/api/clusters/{id}/artifacts/{InstallCommandsArtifact.Name}");
        Assert.Contains($"install_ov_master_node.sh' '{MasterDigest}' \\", commands, StringComparison.Ordinal);
        Assert.Contains($"install_ov_media_node.sh' '{MediaDigest}' \\", commands, StringComparison.Ordinal);
    }

    [Fact]
    public async Task PutInstallerSha256_NotHex_ProblemAtFieldAndNothingStored()
    {
        // Arrange
        var id = await CreateAsync("pin-invalid");

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = MasterDigest, media = "sha256:nope" }, Json);

        // Assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains("64 hexadecimal digits", problem["errors"]!["media"]![0]!.GetValue<string>(), StringComparison.Ordinal);
        var pins = (await ClusterAsync(id))["installerSha256"]!;
        Assert.Null(pins["master"]);
    }

    [Fact]
    public async Task PutInstallerSha256_Nulls_RemovesThePins()
    {
        // Arrange
        var id = await CreateAsync("pin-remove");
        await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = MasterDigest, media = MediaDigest }, Json);

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = (string?)null, media = (string?)null }, Json);

        // Assert
        Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        var pins = (await ClusterAsync(id))["installerSha256"]!;
        Assert.Null(pins["master"]);
        Assert.Null(pins["media"]);
    }

    [Fact]
    public async Task PutInstallerSha256_UnknownCluster_404()
    {
        var response = await _api.PutAsJsonAsync("/api/clusters/987654/installer-sha256", new { master = MasterDigest }, Json);

        Assert.Equal(HttpStatusCode.NotFound, response.StatusCode);
    }

    [Fact]
    public async Task UpdateCluster_PinsLeftOut_KeepsThemWhileVersionAndUrlStay()
    {
        // Arrange
        var id = await CreateAsync("pin-kept");
        await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = MasterDigest, media = MediaDigest }, Json);
        var spec = Specs.Valid("pin-kept", version: "3.8.0");
        spec.DomainName = "other.example.io";

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(MasterDigest, (await ClusterAsync(id))["installerSha256"]!["master"]!.GetValue<string>());
    }

    [Fact]
    public async Task UpdateCluster_NewVersion_DropsThePinsWithAWarning()
    {
        // Arrange
        var id = await CreateAsync("pin-dropped");
        await _api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = MasterDigest, media = MediaDigest }, Json);
        var spec = Specs.Valid("pin-dropped", version: "3.9.0");

        // Act
        var response = await _api.PutAsJsonAsync($"/api/clusters/{id}", spec, Json);

        // Assert
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var warnings = (await response.Content.ReadFromJsonAsync<JsonObject>())!["warnings"]!.AsArray().Select(w => w!.GetValue<string>()).ToList();
        Assert.Contains(warnings, w => w.StartsWith("installerSha256: The installer pins were for OpenVidu 3.8.0", StringComparison.Ordinal));
        Assert.Null((await ClusterAsync(id))["installerSha256"]!["master"]);
    }

    [Fact]
    public async Task CreateCluster_PlainHttpInstaller_WarnsAndKeepsIt()
    {
        // Arrange
        var spec = Specs.Valid("plain-http", version: "3.8.0");
        spec.InstallerBaseUrl = "http://mirror.example.io";

        // Act
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);

        // Assert
        Assert.Equal(HttpStatusCode.Created, response.StatusCode);
        var body = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Contains(body["warnings"]!.AsArray(), w => w!.GetValue<string>().StartsWith("installerBaseUrl: The installer comes over plain http", StringComparison.Ordinal));
        var commands = await _api.GetStringAsync($"/api/clusters/{body["id"]}/artifacts/{InstallCommandsArtifact.Name}");
        Assert.Contains("  curl -fsSL -o \"$ovha_dir/installer.sh\" \"$url\" || return\n", commands, StringComparison.Ordinal);
    }

    [Fact]
    public async Task CreateCluster_DefaultInstaller_IsHttpsOnly()
    {
        // Arrange
        var spec = Specs.Valid("default-https", version: "3.8.0");
        spec.InstallerBaseUrl = null;

        // Act
        var id = await CreateAsync(spec);

        // Assert
        Assert.Equal("https://get.openvidu.io", (await ClusterAsync(id))["installerBaseUrl"]!.GetValue<string>());
        var commands = await _api.GetStringAsync($"/api/clusters/{id}/artifacts/{InstallCommandsArtifact.Name}");
        Assert.Contains("  curl -fsSL --proto '=https' --proto-redir '=https' -o \"$ovha_dir/installer.sh\" \"$url\" || return\n", commands, StringComparison.Ordinal);
    }

    private Task<int> CreateAsync(string name) => CreateAsync(Specs.Valid(name, version: "3.8.0"));

    private async Task<int> CreateAsync(Core.Clusters.ClusterSpec spec)
    {
        var response = await _api.PostAsJsonAsync("/api/clusters", spec, Json);
        Assert.True(response.StatusCode == HttpStatusCode.Created, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }

    private async Task<JsonObject> ClusterAsync(int id) => (await _api.GetFromJsonAsync<JsonObject>($"/api/clusters/{id}"))!;
}
