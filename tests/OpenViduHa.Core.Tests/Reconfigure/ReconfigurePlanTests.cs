using OpenViduHa.Core.Reconfigure;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Tests.Reconfigure;

/// <summary>The reconfigure planner: which keys change on which node, how it takes effect, and what it refuses.</summary>
public sealed class ReconfigurePlanTests
{
    [Fact]
    public void RotateClusterWideKeys_FullStop_NewValuesMade_EveryNodeThatHoldsThemListed()
    {
        var cluster = TestClusters.Full("3.8.0");

        var (plan, errors) = ReconfigurePlanner.Plan(cluster, new ReconfigureRequest { Rotate = ["redisPassword", "livekitApiSecret"] });

        Assert.Null(errors);
        Assert.Equal(RestartMode.FullStop, plan!.Restart);
        Assert.True(plan.ApplicationsAffected);
        Assert.NotEqual(cluster.Secret(SecretCatalog.RedisPassword), plan.After.Secret(SecretCatalog.RedisPassword));
        Assert.Equal(SecretCatalog.GeneratedLength, plan.After.Secret(SecretCatalog.LivekitApiSecret).Length);
        Assert.True(SecretGenerator.IsAlphanumeric(plan.After.Secret(SecretCatalog.RedisPassword)));
        Assert.Equal(cluster.Secret(SecretCatalog.MinioSecretKey), plan.After.Secret(SecretCatalog.MinioSecretKey));
        Assert.Equal(
            ["master-1 /opt/openvidu/config/cluster/openvidu.env LIVEKIT_API_SECRET", "master-1 /opt/openvidu/config/node/master_node.env REDIS_PASSWORD"],
            plan.Changes.Where(c => c.Node == "master-1").Select(c => $"{c.Node} {c.File} {c.Key}"));
        Assert.Equal(["media-1 /opt/openvidu/config/node/media_node.env REDIS_PASSWORD"], plan.Changes.Where(c => c.Node == "media-1").Select(c => $"{c.Node} {c.File} {c.Key}"));
        Assert.Contains(plan.Steps(), s => s.StartsWith("Applications must switch", StringComparison.Ordinal));
    }

    [Fact]
    public void RotateTheDashboardPasswordOnly_MastersRestartOneAtATime_NoApplicationAffected()
    {
        var (plan, _) = ReconfigurePlanner.Plan(TestClusters.Full("3.8.0"), new ReconfigureRequest { Rotate = ["dashboardAdminPassword"] });

        Assert.Equal(RestartMode.RollingMasters, plan!.Restart);
        Assert.False(plan.ApplicationsAffected);
        Assert.All(plan.Changes, c => Assert.StartsWith("master-", c.Node, StringComparison.Ordinal));
    }

    [Fact]
    public void SetSettings_V30_EveryNodesEnv_FullStop()
    {
        var cluster = TestClusters.Full("3.0.0");

        var (plan, _) = ReconfigurePlanner.Plan(cluster, new ReconfigureRequest { Set = new ReconfigureSettings { RtcEngine = "mediasoup", Modules = ["app", "observability"] } });

        Assert.Equal(["modules", "rtcEngine"], plan!.SettingsChanged);
        Assert.Equal(["observability", "app"], plan.After.Modules); // the canonical order
        Assert.Equal(RestartMode.FullStop, plan.Restart);
        Assert.Equal(cluster.Nodes.Count * 2, plan.Changes.Count);
        Assert.All(plan.Changes, c => Assert.Equal("/opt/openvidu/.env", c.File));
    }

    [Theory]
    [InlineData("mongoAdminPassword", "kept inside its service's own data")]
    [InlineData("grafanaAdminPassword", "kept inside its service's own data")]
    [InlineData("meetInitialAdminPassword", "read by the default app on its first start only")]
    [InlineData("dashboardAdminUser", "a user name or access key id")]
    [InlineData("defaultAppPassword", "not a secret of this cluster's OpenVidu generation")]
    [InlineData("nope", "not a secret of this cluster's OpenVidu generation")]
    public void Rotate_RefusedKeys_AtRotateWithTheReason(string key, string reason)
    {
        var (plan, errors) = ReconfigurePlanner.Plan(TestClusters.Full("3.8.0"), new ReconfigureRequest { Rotate = [key] });

        Assert.Null(plan);
        Assert.Contains(reason, Assert.Single(errors!.For("rotate")), StringComparison.Ordinal);
    }

    [Fact]
    public void Refused_NothingToChange_UnknownSettings()
    {
        var cluster = TestClusters.Full("3.8.0");

        Assert.Equal("Nothing to change: name secrets to rotate, or settings that differ from the cluster's.",
            Assert.Single(ReconfigurePlanner.Plan(cluster, new ReconfigureRequest { Set = new ReconfigureSettings { Modules = [.. cluster.Modules] } }).Errors!.For("rotate")));
        var (_, errors) = ReconfigurePlanner.Plan(cluster, new ReconfigureRequest { Set = new ReconfigureSettings { RtcEngine = "webrtc", Modules = ["app"] } });
        Assert.Equal("The RTC engine is 'pion' or 'mediasoup'.", Assert.Single(errors!.For("set.rtcEngine")));
        Assert.StartsWith("Unknown module 'app' for OpenVidu 3.8.0", Assert.Single(errors.For("set.modules")), StringComparison.Ordinal);
        Assert.Empty(errors.For("modules"));
    }
}
