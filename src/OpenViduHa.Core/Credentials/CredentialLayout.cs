using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Credentials;

/// <summary>One value the installer wrote into a node's config file, and what the panel says it must be.</summary>
public sealed record CredentialEntry(string File, string Key, string Expected);

/// <summary>
/// Where each generation keeps the values that must be identical across nodes (facts file, "Config files written on
/// the nodes"): every credential, <c>REDIS_PASSWORD</c> everywhere and the four master private IPs.
/// </summary>
public static class CredentialLayout
{
    public const string V30Env = "/opt/openvidu/.env";
    public const string ClusterEnv = "/opt/openvidu/config/cluster/openvidu.env";
    public const string MeetEnv = "/opt/openvidu/config/cluster/master_node/meet.env";
    public const string MasterNodeEnv = "/opt/openvidu/config/node/master_node.env";
    public const string MediaNodeEnv = "/opt/openvidu/config/node/media_node.env";

    public static IReadOnlyList<CredentialEntry> For(ClusterDefinition cluster, NodeDefinition node)
    {
        string S(string key) => cluster.Secret(key);
        var entries = new List<CredentialEntry>();
        void Add(string file, string key, string value) => entries.Add(new(file, key, value));

        if (cluster.Generation == InstallerGeneration.V30)
        {
            Add(V30Env, "DOMAIN_OR_PUBLIC_IP", cluster.DomainName);
            Add(V30Env, "OPENVIDU_PRO_LICENSE", cluster.LicenseKey);
            Add(V30Env, "LIVEKIT_API_KEY", S(SecretCatalog.LivekitApiKey));
            Add(V30Env, "LIVEKIT_API_SECRET", S(SecretCatalog.LivekitApiSecret));
            Add(V30Env, "REDIS_PASSWORD", S(SecretCatalog.RedisPassword));
            Add(V30Env, "MINIO_ACCESS_KEY", S(SecretCatalog.MinioAccessKey));
            Add(V30Env, "MINIO_SECRET_KEY", S(SecretCatalog.MinioSecretKey));
            Add(V30Env, "MONGO_ADMIN_USER", S(SecretCatalog.MongoAdminUser));
            Add(V30Env, "MONGO_ADMIN_PASSWORD", S(SecretCatalog.MongoAdminPassword));
            if (node.Role == NodeRole.Master)
            {
                Add(V30Env, "DASHBOARD_ADMIN_USER", S(SecretCatalog.DashboardAdminUser));
                Add(V30Env, "DASHBOARD_ADMIN_PASSWORD", S(SecretCatalog.DashboardAdminPassword));
            }
            return entries;
        }

        var masters = cluster.Masters.ToList();
        if (node.Role == NodeRole.Master)
        {
            Add(ClusterEnv, "DOMAIN_NAME", cluster.DomainName);
            Add(ClusterEnv, "OPENVIDU_PRO_LICENSE", cluster.LicenseKey);
            Add(ClusterEnv, "LIVEKIT_API_KEY", S(SecretCatalog.LivekitApiKey));
            Add(ClusterEnv, "LIVEKIT_API_SECRET", S(SecretCatalog.LivekitApiSecret));
            Add(ClusterEnv, "MINIO_ACCESS_KEY", S(SecretCatalog.MinioAccessKey));
            Add(ClusterEnv, "MINIO_SECRET_KEY", S(SecretCatalog.MinioSecretKey));
            Add(ClusterEnv, "MONGO_ADMIN_USERNAME", S(SecretCatalog.MongoAdminUser));
            Add(ClusterEnv, "MONGO_ADMIN_PASSWORD", S(SecretCatalog.MongoAdminPassword));
            Add(ClusterEnv, "DASHBOARD_ADMIN_USERNAME", S(SecretCatalog.DashboardAdminUser));
            Add(ClusterEnv, "DASHBOARD_ADMIN_PASSWORD", S(SecretCatalog.DashboardAdminPassword));
            Add(ClusterEnv, "GRAFANA_ADMIN_USERNAME", S(SecretCatalog.GrafanaAdminUser));
            Add(ClusterEnv, "GRAFANA_ADMIN_PASSWORD", S(SecretCatalog.GrafanaAdminPassword));
            Add(MeetEnv, "MEET_INITIAL_ADMIN_PASSWORD", S(SecretCatalog.MeetInitialAdminPassword));
            Add(MeetEnv, "MEET_INITIAL_API_KEY", S(SecretCatalog.MeetInitialApiKey));
            Add(MasterNodeEnv, "REDIS_PASSWORD", S(SecretCatalog.RedisPassword));
            for (var i = 0; i < masters.Count; i++) Add(MasterNodeEnv, $"MASTER_NODE_{i + 1}_PRIVATE_IP", masters[i].PrivateIp);
        }
        else
        {
            Add(MediaNodeEnv, "REDIS_PASSWORD", S(SecretCatalog.RedisPassword));
            for (var i = 0; i < masters.Count; i++) Add(MediaNodeEnv, $"MASTER_NODE_{i + 1}_PRIVATE_IP", masters[i].PrivateIp);
        }
        return entries;
    }
}

/// <summary>KEY=value files as the installer writes them: read them, and change values in place keeping every other line.</summary>
public static class EnvFile
{
    public static Dictionary<string, string> Parse(string text)
    {
        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            if (line.TrimStart().StartsWith('#')) continue;
            var eq = line.IndexOf('=', StringComparison.Ordinal);
            if (eq <= 0) continue;
            var key = line[..eq].Trim();
            if (key.StartsWith("export ", StringComparison.Ordinal)) key = key[7..].Trim();
            values[key] = Unquote(line[(eq + 1)..].Trim());
        }
        return values;
    }

    /// <summary>Sets each key: the existing line is rewritten where it is, a missing key is appended.</summary>
    public static string Update(string text, IEnumerable<KeyValuePair<string, string>> values)
    {
        var lines = text.Replace("\r\n", "\n", StringComparison.Ordinal).Split('\n').ToList();
        if (lines.Count > 0 && lines[^1].Length == 0) lines.RemoveAt(lines.Count - 1);
        foreach (var (key, value) in values)
        {
            var index = lines.FindIndex(l => !l.TrimStart().StartsWith('#') && l.Contains('=', StringComparison.Ordinal) &&
                                             l[..l.IndexOf('=', StringComparison.Ordinal)].Trim() == key);
            if (index >= 0) lines[index] = $"{key}={value}";
            else lines.Add($"{key}={value}");
        }
        return string.Join('\n', lines) + "\n";
    }

    private static string Unquote(string value) =>
        value.Length >= 2 && (value[0] == '"' && value[^1] == '"' || value[0] == '\'' && value[^1] == '\'') ? value[1..^1] : value;
}
