using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Secrets;

namespace OpenViduHa.Core.Reconfigure;

/// <summary>What a reconfigure asks for: secrets to rotate (new values made by the panel) and settings to change.</summary>
public sealed record ReconfigureRequest
{
    /// <summary>Secret keys (the create body's <c>secrets</c> keys) to give new values.</summary>
    public List<string>? Rotate { get; init; }

    public ReconfigureSettings? Set { get; init; }
}

public sealed record ReconfigureSettings
{
    public List<string>? Modules { get; init; }
    public string? RtcEngine { get; init; }
}

/// <summary>How the new configuration takes effect.</summary>
public enum RestartMode
{
    /// <summary>Every node stopped (media, then masters), written, started (masters, then media): OpenVidu's guide for cluster-wide keys.</summary>
    FullStop,

    /// <summary>Only the masters read the changed keys: written, then restarted one at a time (never two down).</summary>
    RollingMasters,
}

/// <summary>One key one node's file gets, never its value.</summary>
public sealed record PlannedChange(string Node, string File, string Key);

/// <summary>
/// A reconfigure decided before anything runs: the cluster after it (new secrets made here), per node the files and
/// keys that change, and how it takes effect. <see cref="After"/> carries the new values: never shown, never logged.
/// </summary>
public sealed record ReconfigurePlan(
    ClusterDefinition After,
    IReadOnlyList<string> Rotated,
    IReadOnlyList<string> SettingsChanged,
    IReadOnlyList<PlannedChange> Changes,
    RestartMode Restart,
    bool ApplicationsAffected,
    IReadOnlyList<string> Notes)
{
    public IEnumerable<string> Steps()
    {
        yield return Restart == RestartMode.FullStop
            ? "Stop every node: media nodes, then masters (the cluster is down until the masters are healthy again)."
            : "Nothing stops: only the masters read the changed keys.";
        yield return "On every node that changes: back up each file, then write the new values (0600, atomic rename); a value rotated is replaced wherever /opt/openvidu's config files hold the old one (not data/ nor backups/).";
        yield return Restart == RestartMode.FullStop
            ? "Start the masters and wait for their health, then the media nodes."
            : "Restart the masters one at a time, each healthy before the next.";
        yield return "Check every node's credentials against the panel's new values; any failure puts every node back on its backup and restarts the old configuration.";
        if (ApplicationsAffected)
            yield return "Applications must switch to the new LiveKit API key and secret (credentials.env) when the job ends: the old ones stop working.";
    }
}

public static class ReconfigurePlanner
{
    /// <summary>Keys the panel rotates, and why the others are not (value: the reason).</summary>
    public static string? WhyNotRotatable(string key, InstallerGeneration generation)
    {
        var definition = SecretCatalog.Find(key);
        if (definition is null || !definition.AppliesTo(generation)) return $"'{key}' is not a secret of this cluster's OpenVidu generation.";
        return key switch
        {
            SecretCatalog.LivekitApiKey or SecretCatalog.LivekitApiSecret or SecretCatalog.RedisPassword or SecretCatalog.MinioSecretKey
                or SecretCatalog.DashboardAdminPassword => null,
            SecretCatalog.MongoAdminPassword or SecretCatalog.MongoReplicaSetKey or SecretCatalog.GrafanaAdminPassword =>
                $"'{key}' is kept inside its service's own data after the first start (MongoDB's users, Grafana's database): a new value in the config files alone would lock the cluster out. Not rotated by the panel.",
            SecretCatalog.MeetInitialAdminPassword or SecretCatalog.MeetInitialApiKey or SecretCatalog.DefaultAppPassword or SecretCatalog.DefaultAppAdminPassword =>
                $"'{key}' is read by the default app on its first start only: change it in the app itself.",
            _ => $"'{key}' is a user name or access key id, not a secret to rotate.",
        };
    }

    /// <summary>The plan, or the field errors (<c>rotate</c>, <c>set.modules</c>, <c>set.rtcEngine</c>) that refuse the request.</summary>
    public static (ReconfigurePlan? Plan, ValidationErrors? Errors) Plan(ClusterDefinition cluster, ReconfigureRequest request)
    {
        var errors = new ValidationErrors();
        var rotate = (request.Rotate ?? []).Select(k => k?.Trim() ?? "").Distinct(StringComparer.Ordinal).ToList();
        foreach (var key in rotate)
        {
            if (WhyNotRotatable(key, cluster.Generation) is { } why) errors.Add("rotate", why);
        }

        var modules = cluster.Modules;
        var engine = cluster.RtcEngine;
        if (request.Set?.Modules is { } wanted)
        {
            modules = ClusterValidator.ValidateModules(wanted, cluster.Version, errors);
            if (errors.For("modules").Count > 0)
            {
                foreach (var message in errors.For("modules")) errors.Add("set.modules", message);
                errors = Without(errors, "modules");
            }
        }
        if (request.Set?.RtcEngine is { } text)
        {
            switch (text.Trim().ToLowerInvariant())
            {
                case "pion": engine = RtcEngine.Pion; break;
                case "mediasoup": engine = RtcEngine.Mediasoup; break;
                default: errors.Add("set.rtcEngine", "The RTC engine is 'pion' or 'mediasoup'."); break;
            }
        }
        var settings = new List<string>();
        if (!modules.SequenceEqual(cluster.Modules, StringComparer.Ordinal)) settings.Add("modules");
        if (engine != cluster.RtcEngine) settings.Add("rtcEngine");
        if (rotate.Count == 0 && settings.Count == 0 && errors.IsEmpty)
            errors.Add("rotate", "Nothing to change: name secrets to rotate, or settings that differ from the cluster's.");
        if (!errors.IsEmpty) return (null, errors);

        var secrets = cluster.Secrets.ToDictionary(s => s.Key, s => s.Value, StringComparer.Ordinal);
        foreach (var key in rotate) secrets[key] = SecretGenerator.For(SecretCatalog.Find(key)!);
        var after = cluster with { Secrets = secrets, Modules = modules, RtcEngine = engine };

        var changes = new List<PlannedChange>();
        foreach (var node in cluster.Nodes)
        {
            var before = CredentialLayout.For(cluster, node).Concat(SettingsLayout.For(cluster, node)).ToList();
            var now = CredentialLayout.For(after, node).Concat(SettingsLayout.For(after, node)).ToList();
            foreach (var entry in now.Where(e => before.FirstOrDefault(b => b.File == e.File && b.Key == e.Key)?.Expected != e.Expected))
                changes.Add(new(node.Name, entry.File, entry.Key));
        }
        var mastersOnly = settings.Count == 0 && rotate.All(k => k == SecretCatalog.DashboardAdminPassword);
        var notes = new List<string>();
        if (rotate.Contains(SecretCatalog.MinioSecretKey) && cluster.HasModule(Clusters.Modules.V2Compatibility))
            notes.Add("v2compatibility keeps the MinIO secret as V2COMPAT_OPENVIDU_PRO_AWS_SECRET_KEY too: replaced with the rest wherever the old value is.");
        if (settings.Contains("modules"))
            notes.Add("OpenVidu's guide also adds or removes, for the default app and v2compatibility, a webhook in each media node's config/livekit.yaml: the panel changes the modules' key only; check the media nodes' webhooks, or reinstall them.");
        return (new ReconfigurePlan(after, rotate, settings, changes, mastersOnly ? RestartMode.RollingMasters : RestartMode.FullStop,
            rotate.Contains(SecretCatalog.LivekitApiKey) || rotate.Contains(SecretCatalog.LivekitApiSecret), notes), null);
    }

    private static ValidationErrors Without(ValidationErrors errors, string field)
    {
        var copy = new ValidationErrors();
        foreach (var f in errors.Fields.Where(f => f != field))
        {
            foreach (var message in errors.For(f)) copy.Add(f, message);
        }
        return copy;
    }
}

/// <summary>Where each generation keeps the cluster's settings a reconfigure changes (the RTC engine and the modules).</summary>
public static class SettingsLayout
{
    public static IEnumerable<CredentialEntry> For(ClusterDefinition cluster, NodeDefinition node)
    {
        var engine = cluster.RtcEngine == RtcEngine.Mediasoup ? "mediasoup" : "pion";
        var modules = string.Join(',', cluster.Modules);
        if (cluster.Generation == InstallerGeneration.V30)
        {
            yield return new(CredentialLayout.V30Env, "OPENVIDU_RTC_ENGINE", engine);
            yield return new(CredentialLayout.V30Env, "ENABLED_MODULES", modules);
        }
        else if (node.Role == NodeRole.Master)
        {
            // Current media nodes read both from the masters.
            yield return new(CredentialLayout.ClusterEnv, "OPENVIDU_RTC_ENGINE", engine);
            yield return new(CredentialLayout.ClusterEnv, "ENABLED_MODULES", modules);
        }
    }
}
