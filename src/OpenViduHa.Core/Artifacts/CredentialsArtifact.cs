using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Artifacts;

/// <summary>
/// <c>credentials.env</c> and <c>credentials.json</c>: what applications and operators need to use the cluster, the same
/// values in two shapes. Groups of modules that are not enabled are left out.
/// </summary>
public static partial class CredentialsArtifact
{
    public const string EnvName = "credentials.env";
    public const string JsonName = "credentials.json";

    private static readonly JsonSerializerOptions _jsonOptions = new()
    {
        WriteIndented = true,
        NewLine = "\n",
        // Keep URLs and secrets readable ('+', '&'...); the file is not embedded in HTML.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
    };

    private sealed record Entry(string EnvKey, string JsonKey, string Value);

    /// <summary>A group of values; <paramref name="Notes"/> say where a value is shared or what it is for (comments in .env, <c>notes</c> in JSON).</summary>
    private sealed record Group(string JsonKey, string Title, IReadOnlyList<Entry> Entries, IReadOnlyList<string>? Notes = null);

    internal static GeneratedArtifact GenerateEnv(ClusterDefinition cluster)
    {
        var text = new ArtifactText()
            .Header(cluster, "#", "OpenVidu HA credentials: URLs, users and secrets. Holds secrets: keep it private.");
        foreach (var group in Groups(cluster))
        {
            text.Line().Line($"# {group.Title}");
            foreach (var note in group.Notes ?? []) text.Line($"# {note}");
            foreach (var entry in group.Entries) text.Line($"{entry.EnvKey}={EnvValue(entry.Value)}");
        }
        return ArtifactCatalog.Create(cluster, EnvName, ContentTypes.PlainText, text.ToString());
    }

    internal static GeneratedArtifact GenerateJson(ClusterDefinition cluster)
    {
        // JSON has no comments: the header's facts are properties.
        var root = new JsonObject
        {
            ["cluster"] = cluster.Name,
            ["openviduVersion"] = cluster.Version.ToString(),
            ["generatedBy"] = "OpenVidu HA panel",
        };
        foreach (var group in Groups(cluster))
        {
            var obj = new JsonObject();
            foreach (var entry in group.Entries) obj[entry.JsonKey] = entry.Value;
            if (group.Notes is { Count: > 0 } notes) obj["notes"] = new JsonArray([.. notes.Select(n => (JsonNode)n)]);
            root[group.JsonKey] = obj;
        }
        return ArtifactCatalog.Create(cluster, JsonName, ContentTypes.Json, root.ToJsonString(_jsonOptions) + "\n");
    }

    private static List<Group> Groups(ClusterDefinition cluster)
    {
        var baseUrl = $"https://{cluster.DomainName}/";
        string S(string key) => cluster.Secret(key);
        var groups = new List<Group>
        {
            new("livekit", "Applications built with a LiveKit SDK",
            [
                new("LIVEKIT_URL", "url", $"wss://{cluster.DomainName}/"),
                new("LIVEKIT_HTTP_URL", "httpUrl", baseUrl),
                new("LIVEKIT_API_KEY", "apiKey", S(SecretCatalog.LivekitApiKey)),
                new("LIVEKIT_API_SECRET", "apiSecret", S(SecretCatalog.LivekitApiSecret)),
            ],
            [
                "Client SDKs connect to LIVEKIT_URL; server SDKs (RoomService, Egress, webhooks) take LIVEKIT_HTTP_URL, the https form.",
                "Tokens signed with this key and secret are accepted by every node of the cluster.",
            ]),
        };
        if (cluster.TurnDomainName is { } turn)
        {
            groups.Add(new("turn", "TURN with TLS, for clients behind restrictive firewalls",
            [
                new("TURN_DOMAIN", "domain", turn),
                new("TURN_URL", "url", $"turns:{turn}:443?transport=tcp"),
            ],
            ["Nothing to configure in applications: LiveKit hands this server to clients itself. Its DNS record points to the load balancer."]));
        }
        if (cluster.HasModule(Modules.V2Compatibility))
        {
            groups.Add(new("v2compatibility", "Applications built for OpenVidu 2 (module v2compatibility)",
            [
                new("OPENVIDU_V2_URL", "url", baseUrl),
                new("OPENVIDU_V2_USER", "user", "OPENVIDUAPP"),
                new("OPENVIDU_V2_PASSWORD", "password", S(SecretCatalog.LivekitApiSecret)),
            ],
            ["OPENVIDU_V2_PASSWORD is the LiveKit API secret (LIVEKIT_API_SECRET): rotating one changes the other."]));
        }
        groups.Add(new("dashboard", "OpenVidu Dashboard",
        [
            new("DASHBOARD_URL", "url", baseUrl + "dashboard/"),
            new("DASHBOARD_ADMIN_USER", "user", S(SecretCatalog.DashboardAdminUser)),
            new("DASHBOARD_ADMIN_PASSWORD", "password", S(SecretCatalog.DashboardAdminPassword)),
        ]));
        if (cluster.HasModule(Modules.Observability))
        {
            groups.Add(new("grafana", "Grafana (module observability)",
            [
                new("GRAFANA_URL", "url", baseUrl + "grafana/"),
                new("GRAFANA_ADMIN_USER", "user", S(SecretCatalog.GrafanaAdminUser)),
                new("GRAFANA_ADMIN_PASSWORD", "password", S(SecretCatalog.GrafanaAdminPassword)),
            ]));
        }
        if (cluster.HasDefaultApp && cluster.Generation == InstallerGeneration.V30)
        {
            groups.Add(new("defaultApp", "OpenVidu Call, the default app (module app)",
            [
                new("OPENVIDU_CALL_URL", "url", baseUrl),
                new("DEFAULT_APP_USER", "user", S(SecretCatalog.DefaultAppUser)),
                new("DEFAULT_APP_PASSWORD", "password", S(SecretCatalog.DefaultAppPassword)),
                new("DEFAULT_APP_ADMIN_USER", "adminUser", S(SecretCatalog.DefaultAppAdminUser)),
                new("DEFAULT_APP_ADMIN_PASSWORD", "adminPassword", S(SecretCatalog.DefaultAppAdminPassword)),
            ]));
        }
        else if (cluster.HasDefaultApp)
        {
            groups.Add(new("meet", "OpenVidu Meet (module openviduMeet); the initial values are read on first start only",
            [
                new("MEET_URL", "url", baseUrl),
                new("MEET_INITIAL_ADMIN_USER", "initialAdminUser", "admin"),
                new("MEET_INITIAL_ADMIN_PASSWORD", "initialAdminPassword", S(SecretCatalog.MeetInitialAdminPassword)),
                new("MEET_INITIAL_API_KEY", "initialApiKey", S(SecretCatalog.MeetInitialApiKey)),
            ]));
        }
        groups.Add(new("minio", "MinIO console (recordings storage)",
        [
            new("MINIO_CONSOLE_URL", "consoleUrl", baseUrl + "minio-console/"),
            new("MINIO_ACCESS_KEY", "accessKey", S(SecretCatalog.MinioAccessKey)),
            new("MINIO_SECRET_KEY", "secretKey", S(SecretCatalog.MinioSecretKey)),
        ]));
        return groups;
    }

    /// <summary>
    /// Generated values are alphanumeric and written bare (what Docker's <c>--env-file</c> and dotenv readers expect). A
    /// value with anything else is single-quoted so that a shell <c>source</c> or dotenv reader still gets it whole and no
    /// newline can start a line of its own.
    /// </summary>
    private static string EnvValue(string value) => PlainEnvValue().IsMatch(value) ? value : ShellQuote.Quote(value);

    [GeneratedRegex(@"\A[A-Za-z0-9._:/@%+,=-]*\z", RegexOptions.CultureInvariant)]
    private static partial Regex PlainEnvValue();
}
