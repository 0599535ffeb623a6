using System.Text.Json;
using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class CredentialsTests
{
    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Env_Always_HasLiveKitDashboardAndMinio(string version)
    {
        // Arrange
        var cluster = TestClusters.Minimal(version);

        // Act
        var env = Env(cluster);

        // Assert
        Assert.Equal("wss://openvidu.example.io/", env["LIVEKIT_URL"]);
        Assert.Equal("APIFakeKey0001", env["LIVEKIT_API_KEY"]);
        Assert.Equal(cluster.Secret(SecretCatalog.LivekitApiSecret), env["LIVEKIT_API_SECRET"]);
        Assert.Equal("https://openvidu.example.io/dashboard/", env["DASHBOARD_URL"]);
        Assert.Equal("admin", env["DASHBOARD_ADMIN_USER"]);
        Assert.Equal(cluster.Secret(SecretCatalog.DashboardAdminPassword), env["DASHBOARD_ADMIN_PASSWORD"]);
        Assert.Equal("https://openvidu.example.io/minio-console/", env["MINIO_CONSOLE_URL"]);
        Assert.Equal("minioadmin", env["MINIO_ACCESS_KEY"]);
        Assert.Equal(cluster.Secret(SecretCatalog.MinioSecretKey), env["MINIO_SECRET_KEY"]);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Env_V2Compatibility_AddsV2CredentialsOnlyWithTheModule(string version)
    {
        // Arrange
        var with = TestClusters.Full(version);
        var without = TestClusters.WithoutModule(with, Modules.V2Compatibility);

        // Act
        var withEnv = Env(with);
        var withoutEnv = Env(without);

        // Assert
        Assert.Equal("https://openvidu.example.io/", withEnv["OPENVIDU_V2_URL"]);
        Assert.Equal("OPENVIDUAPP", withEnv["OPENVIDU_V2_USER"]);
        Assert.Equal(with.Secret(SecretCatalog.LivekitApiSecret), withEnv["OPENVIDU_V2_PASSWORD"]);
        Assert.DoesNotContain(withoutEnv.Keys, k => k.StartsWith("OPENVIDU_V2_", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Env_Observability_AddsGrafanaOnlyWithTheModule(string version)
    {
        // Arrange
        var with = TestClusters.Full(version);
        var without = TestClusters.WithoutModule(with, Modules.Observability);

        // Act
        var withEnv = Env(with);
        var withoutEnv = Env(without);

        // Assert
        Assert.Equal("https://openvidu.example.io/grafana/", withEnv["GRAFANA_URL"]);
        Assert.Equal(with.Secret(SecretCatalog.GrafanaAdminPassword), withEnv["GRAFANA_ADMIN_PASSWORD"]);
        Assert.DoesNotContain(withoutEnv.Keys, k => k.StartsWith("GRAFANA_", StringComparison.Ordinal));
    }

    [Fact]
    public void Env_V30DefaultApp_AddsOpenViduCallOnlyWithTheModule()
    {
        // Arrange
        var with = TestClusters.Full("3.0.0");
        var without = TestClusters.WithoutModule(with, Modules.App);

        // Act
        var withEnv = Env(with);
        var withoutEnv = Env(without);

        // Assert
        Assert.Equal("https://openvidu.example.io/", withEnv["OPENVIDU_CALL_URL"]);
        Assert.Equal("calluser", withEnv["DEFAULT_APP_USER"]);
        Assert.Equal("calladmin", withEnv["DEFAULT_APP_ADMIN_USER"]);
        Assert.Equal(with.Secret(SecretCatalog.DefaultAppAdminPassword), withEnv["DEFAULT_APP_ADMIN_PASSWORD"]);
        Assert.DoesNotContain(withEnv.Keys, k => k.StartsWith("MEET_", StringComparison.Ordinal));
        Assert.DoesNotContain(withoutEnv.Keys, k => k.StartsWith("DEFAULT_APP_", StringComparison.Ordinal) || k == "OPENVIDU_CALL_URL");
    }

    [Fact]
    public void Env_CurrentDefaultApp_AddsOpenViduMeetOnlyWithTheModule()
    {
        // Arrange
        var with = TestClusters.Full("3.8.0");
        var without = TestClusters.WithoutModule(with, Modules.OpenViduMeet);

        // Act
        var withEnv = Env(with);
        var withoutEnv = Env(without);

        // Assert
        Assert.Equal("https://openvidu.example.io/", withEnv["MEET_URL"]);
        Assert.Equal("admin", withEnv["MEET_INITIAL_ADMIN_USER"]);
        Assert.Equal(with.Secret(SecretCatalog.MeetInitialAdminPassword), withEnv["MEET_INITIAL_ADMIN_PASSWORD"]);
        Assert.Equal(with.Secret(SecretCatalog.MeetInitialApiKey), withEnv["MEET_INITIAL_API_KEY"]);
        Assert.DoesNotContain(withEnv.Keys, k => k.StartsWith("DEFAULT_APP_", StringComparison.Ordinal));
        Assert.DoesNotContain(withoutEnv.Keys, k => k.StartsWith("MEET_", StringComparison.Ordinal));
    }

    [Fact]
    public void Env_ValueWithShellCharacters_IsSingleQuotedOnOneLine()
    {
        // Arrange
        var cluster = TestClusters.WithSecret(TestClusters.Full("3.8.0"), SecretCatalog.MinioSecretKey, "a b'c\nd");

        // Act
        var content = ArtifactCatalog.Generate(cluster, CredentialsArtifact.EnvName).Content;

        // Assert
        Assert.Contains("MINIO_SECRET_KEY='a b'\\''c\nd'\n", content);
    }

    [Theory]
    [InlineData("3.0.0", "defaultApp", "meet")]
    [InlineData("3.8.0", "meet", "defaultApp")]
    public void Json_FullCluster_HasEveryGroupInCamelCase(string version, string appGroup, string otherAppGroup)
    {
        // Arrange
        var cluster = TestClusters.Full(version);

        // Act
        using var json = Json(cluster);

        // Assert
        var root = json.RootElement;
        Assert.Equal("prod", root.GetProperty("cluster").GetString());
        Assert.Equal(version, root.GetProperty("openviduVersion").GetString());
        Assert.Equal("wss://openvidu.example.io/", root.GetProperty("livekit").GetProperty("url").GetString());
        Assert.Equal("APIFakeKey0001", root.GetProperty("livekit").GetProperty("apiKey").GetString());
        Assert.Equal(cluster.Secret(SecretCatalog.LivekitApiSecret), root.GetProperty("livekit").GetProperty("apiSecret").GetString());
        Assert.Equal("OPENVIDUAPP", root.GetProperty("v2compatibility").GetProperty("user").GetString());
        Assert.Equal("https://openvidu.example.io/dashboard/", root.GetProperty("dashboard").GetProperty("url").GetString());
        Assert.Equal("https://openvidu.example.io/grafana/", root.GetProperty("grafana").GetProperty("url").GetString());
        Assert.Equal("https://openvidu.example.io/", root.GetProperty(appGroup).GetProperty("url").GetString());
        Assert.False(root.TryGetProperty(otherAppGroup, out _));
        Assert.Equal("https://openvidu.example.io/minio-console/", root.GetProperty("minio").GetProperty("consoleUrl").GetString());
    }

    [Fact]
    public void Json_NoModules_OmitsModuleGroups()
    {
        // Arrange
        var cluster = TestClusters.Minimal("3.8.0");

        // Act
        using var json = Json(cluster);

        // Assert
        var groups = json.RootElement.EnumerateObject().Where(p => p.Value.ValueKind == JsonValueKind.Object).Select(p => p.Name);
        Assert.Equal(new[] { "livekit", "dashboard", "minio" }, groups);
    }

    private static Dictionary<string, string> Env(ClusterDefinition cluster) =>
        ArtifactCatalog.Generate(cluster, CredentialsArtifact.EnvName).Content
            .Split('\n')
            .Where(line => line.Length > 0 && !line.StartsWith('#'))
            .Select(line => line.Split('=', 2))
            .ToDictionary(kv => kv[0], kv => kv[1]);

    private static JsonDocument Json(ClusterDefinition cluster) =>
        JsonDocument.Parse(ArtifactCatalog.Generate(cluster, CredentialsArtifact.JsonName).Content);
}
