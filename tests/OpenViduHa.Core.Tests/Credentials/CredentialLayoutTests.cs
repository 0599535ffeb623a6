using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Tests.Credentials;

/// <summary>Where each generation's installer keeps the values every node must agree on (the facts file's config layout).</summary>
public sealed class CredentialLayoutTests
{
    private static string S(ClusterDefinition c, string key) => c.Secret(key);

    [Fact]
    public void For_V30Master_EverythingInDotEnvWithTheDashboard()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0");

        // Act
        var entries = CredentialLayout.For(cluster, cluster.Nodes[0]);

        // Assert
        Assert.Equal(
        [
            new("/opt/openvidu/.env", "DOMAIN_OR_PUBLIC_IP", TestClusters.Domain),
            new("/opt/openvidu/.env", "OPENVIDU_PRO_LICENSE", TestClusters.License),
            new("/opt/openvidu/.env", "LIVEKIT_API_KEY", S(cluster, SecretCatalog.LivekitApiKey)),
            new("/opt/openvidu/.env", "LIVEKIT_API_SECRET", S(cluster, SecretCatalog.LivekitApiSecret)),
            new("/opt/openvidu/.env", "REDIS_PASSWORD", S(cluster, SecretCatalog.RedisPassword)),
            new("/opt/openvidu/.env", "MINIO_ACCESS_KEY", S(cluster, SecretCatalog.MinioAccessKey)),
            new("/opt/openvidu/.env", "MINIO_SECRET_KEY", S(cluster, SecretCatalog.MinioSecretKey)),
            new("/opt/openvidu/.env", "MONGO_ADMIN_USER", S(cluster, SecretCatalog.MongoAdminUser)),
            new("/opt/openvidu/.env", "MONGO_ADMIN_PASSWORD", S(cluster, SecretCatalog.MongoAdminPassword)),
            new("/opt/openvidu/.env", "DASHBOARD_ADMIN_USER", S(cluster, SecretCatalog.DashboardAdminUser)),
            new("/opt/openvidu/.env", "DASHBOARD_ADMIN_PASSWORD", S(cluster, SecretCatalog.DashboardAdminPassword)),
        ], entries);
    }

    [Fact]
    public void For_V30Media_DotEnvWithoutTheDashboard()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0");

        // Act
        var entries = CredentialLayout.For(cluster, cluster.MediaNodes.First());

        // Assert
        Assert.Equal(9, entries.Count);
        Assert.All(entries, e => Assert.Equal(CredentialLayout.V30Env, e.File));
        Assert.DoesNotContain(entries, e => e.Key.StartsWith("DASHBOARD_", StringComparison.Ordinal));
        Assert.Equal("MONGO_ADMIN_PASSWORD", entries[^1].Key);
    }

    [Fact]
    public void For_CurrentMaster_ClusterMeetAndNodeFilesWithTheMasterIps()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");

        // Act
        var entries = CredentialLayout.For(cluster, cluster.Nodes[2]);

        // Assert
        Assert.Equal(
        [
            new("/opt/openvidu/config/cluster/openvidu.env", "DOMAIN_NAME", TestClusters.Domain),
            new("/opt/openvidu/config/cluster/openvidu.env", "OPENVIDU_PRO_LICENSE", TestClusters.License),
            new("/opt/openvidu/config/cluster/openvidu.env", "LIVEKIT_API_KEY", S(cluster, SecretCatalog.LivekitApiKey)),
            new("/opt/openvidu/config/cluster/openvidu.env", "LIVEKIT_API_SECRET", S(cluster, SecretCatalog.LivekitApiSecret)),
            new("/opt/openvidu/config/cluster/openvidu.env", "MINIO_ACCESS_KEY", S(cluster, SecretCatalog.MinioAccessKey)),
            new("/opt/openvidu/config/cluster/openvidu.env", "MINIO_SECRET_KEY", S(cluster, SecretCatalog.MinioSecretKey)),
            new("/opt/openvidu/config/cluster/openvidu.env", "MONGO_ADMIN_USERNAME", S(cluster, SecretCatalog.MongoAdminUser)),
            new("/opt/openvidu/config/cluster/openvidu.env", "MONGO_ADMIN_PASSWORD", S(cluster, SecretCatalog.MongoAdminPassword)),
            new("/opt/openvidu/config/cluster/openvidu.env", "DASHBOARD_ADMIN_USERNAME", S(cluster, SecretCatalog.DashboardAdminUser)),
            new("/opt/openvidu/config/cluster/openvidu.env", "DASHBOARD_ADMIN_PASSWORD", S(cluster, SecretCatalog.DashboardAdminPassword)),
            new("/opt/openvidu/config/cluster/openvidu.env", "GRAFANA_ADMIN_USERNAME", S(cluster, SecretCatalog.GrafanaAdminUser)),
            new("/opt/openvidu/config/cluster/openvidu.env", "GRAFANA_ADMIN_PASSWORD", S(cluster, SecretCatalog.GrafanaAdminPassword)),
            new("/opt/openvidu/config/cluster/master_node/meet.env", "MEET_INITIAL_ADMIN_PASSWORD", S(cluster, SecretCatalog.MeetInitialAdminPassword)),
            new("/opt/openvidu/config/cluster/master_node/meet.env", "MEET_INITIAL_API_KEY", S(cluster, SecretCatalog.MeetInitialApiKey)),
            new("/opt/openvidu/config/node/master_node.env", "REDIS_PASSWORD", S(cluster, SecretCatalog.RedisPassword)),
            new("/opt/openvidu/config/node/master_node.env", "MASTER_NODE_1_PRIVATE_IP", "10.5.0.1"),
            new("/opt/openvidu/config/node/master_node.env", "MASTER_NODE_2_PRIVATE_IP", "10.5.0.2"),
            new("/opt/openvidu/config/node/master_node.env", "MASTER_NODE_3_PRIVATE_IP", "10.5.0.3"),
            new("/opt/openvidu/config/node/master_node.env", "MASTER_NODE_4_PRIVATE_IP", "10.5.0.4"),
        ], entries);
    }

    [Fact]
    public void For_CurrentMedia_RedisAndTheMasterIpsOnly()
    {
        // Arrange
        var cluster = TestClusters.Full("3.8.0");

        // Act
        var entries = CredentialLayout.For(cluster, cluster.MediaNodes.Last());

        // Assert
        Assert.Equal(
        [
            new("/opt/openvidu/config/node/media_node.env", "REDIS_PASSWORD", S(cluster, SecretCatalog.RedisPassword)),
            new("/opt/openvidu/config/node/media_node.env", "MASTER_NODE_1_PRIVATE_IP", "10.5.0.1"),
            new("/opt/openvidu/config/node/media_node.env", "MASTER_NODE_2_PRIVATE_IP", "10.5.0.2"),
            new("/opt/openvidu/config/node/media_node.env", "MASTER_NODE_3_PRIVATE_IP", "10.5.0.3"),
            new("/opt/openvidu/config/node/media_node.env", "MASTER_NODE_4_PRIVATE_IP", "10.5.0.4"),
        ], entries);
    }
}
