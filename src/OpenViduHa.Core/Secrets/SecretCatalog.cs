using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Secrets;

public enum SecretKind
{
    /// <summary>A password or key: 44 random alphanumeric characters when not given.</summary>
    Secret,

    /// <summary>The LiveKit API key: <c>API</c> followed by 12 random alphanumeric characters when not given.</summary>
    ApiKey,

    /// <summary>A user name or access key id: a fixed readable default when not given. Still a credential, still encrypted.</summary>
    Identity,
}

/// <summary>One value the installer takes as a flag and the cluster keeps identical on every node.</summary>
/// <param name="Key">The key in the API's <c>secrets</c> object.</param>
/// <param name="Flag">The installer flag, without the leading dashes.</param>
/// <param name="Generations">The installer generations that take the flag.</param>
public sealed record SecretDefinition(string Key, string Flag, SecretKind Kind, string? Default, InstallerGeneration[] Generations, int MinLength)
{
    public bool AppliesTo(InstallerGeneration generation) => Generations.Contains(generation);
}

/// <summary>Every secret flag of the HA installer, in the order the reference's master command passes them.</summary>
public static class SecretCatalog
{
    public const string LivekitApiKey = "livekitApiKey";
    public const string LivekitApiSecret = "livekitApiSecret";
    public const string DashboardAdminUser = "dashboardAdminUser";
    public const string DashboardAdminPassword = "dashboardAdminPassword";
    public const string RedisPassword = "redisPassword";
    public const string MinioAccessKey = "minioAccessKey";
    public const string MinioSecretKey = "minioSecretKey";
    public const string MongoAdminUser = "mongoAdminUser";
    public const string MongoAdminPassword = "mongoAdminPassword";
    public const string MongoReplicaSetKey = "mongoReplicaSetKey";
    public const string GrafanaAdminUser = "grafanaAdminUser";
    public const string GrafanaAdminPassword = "grafanaAdminPassword";
    public const string DefaultAppUser = "defaultAppUser";
    public const string DefaultAppPassword = "defaultAppPassword";
    public const string DefaultAppAdminUser = "defaultAppAdminUser";
    public const string DefaultAppAdminPassword = "defaultAppAdminPassword";
    public const string MeetInitialAdminPassword = "meetInitialAdminPassword";
    public const string MeetInitialApiKey = "meetInitialApiKey";

    /// <summary>Length of generated passwords and keys: what OpenVidu's own cloud templates generate.</summary>
    public const int GeneratedLength = 44;

    /// <summary>LiveKit refuses API secrets shorter than 32 characters.</summary>
    public const int LivekitSecretMinLength = 32;

    private static readonly InstallerGeneration[] Both = [InstallerGeneration.V30, InstallerGeneration.Current];
    private static readonly InstallerGeneration[] V30Only = [InstallerGeneration.V30];
    private static readonly InstallerGeneration[] CurrentOnly = [InstallerGeneration.Current];

    public static readonly IReadOnlyList<SecretDefinition> All =
    [
        new(LivekitApiKey, "livekit-api-key", SecretKind.ApiKey, null, Both, 3),
        new(LivekitApiSecret, "livekit-api-secret", SecretKind.Secret, null, Both, LivekitSecretMinLength),
        new(DashboardAdminUser, "dashboard-admin-user", SecretKind.Identity, "admin", Both, 1),
        new(DashboardAdminPassword, "dashboard-admin-password", SecretKind.Secret, null, Both, 8),
        new(RedisPassword, "redis-password", SecretKind.Secret, null, Both, 8),
        new(MinioAccessKey, "minio-access-key", SecretKind.Identity, "minioadmin", Both, 3),
        new(MinioSecretKey, "minio-secret-key", SecretKind.Secret, null, Both, 8),
        new(MongoAdminUser, "mongo-admin-user", SecretKind.Identity, "mongoadmin", Both, 1),
        new(MongoAdminPassword, "mongo-admin-password", SecretKind.Secret, null, Both, 8),
        new(MongoReplicaSetKey, "mongo-replica-set-key", SecretKind.Secret, null, Both, 8),
        new(GrafanaAdminUser, "grafana-admin-user", SecretKind.Identity, "admin", Both, 1),
        new(GrafanaAdminPassword, "grafana-admin-password", SecretKind.Secret, null, Both, 8),
        new(DefaultAppUser, "default-app-user", SecretKind.Identity, "calluser", V30Only, 1),
        new(DefaultAppPassword, "default-app-password", SecretKind.Secret, null, V30Only, 8),
        new(DefaultAppAdminUser, "default-app-admin-user", SecretKind.Identity, "calladmin", V30Only, 1),
        new(DefaultAppAdminPassword, "default-app-admin-password", SecretKind.Secret, null, V30Only, 8),
        new(MeetInitialAdminPassword, "meet-initial-admin-password", SecretKind.Secret, null, CurrentOnly, 8),
        new(MeetInitialApiKey, "meet-initial-api-key", SecretKind.Secret, null, CurrentOnly, 8),
    ];

    public static SecretDefinition? Find(string key) => All.FirstOrDefault(d => string.Equals(d.Key, key, StringComparison.Ordinal));

    public static IEnumerable<SecretDefinition> For(InstallerGeneration generation) => All.Where(d => d.AppliesTo(generation));
}
