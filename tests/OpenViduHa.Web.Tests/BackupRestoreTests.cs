using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Backup;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Users;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// POST /api/backup and POST /api/restore between two real panels, each on its own data directory (its own SQLite file and
/// its own Data Protection keys): what comes out of one goes into the other whole, and a refused restore stores nothing.
/// </summary>
public sealed class BackupRestoreTests
{
    private const string Passphrase = "correct horse battery staple";
    private const string PanelAPassword = "panel-a-admin-password-9";
    private const string Fingerprint = "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0";

    [Fact]
    public async Task Backup_RestoresIntoAFreshPanel_OnAnotherDataDirectory()
    {
        using var a = new PanelFactory { BootstrapPassword = PanelAPassword };
        var (clusterId, readToken, finishedJob, runningJob) = await FillAsync(a);
        var api = a.ApiClient();
        var clusterBefore = await api.GetStringAsync($"/api/clusters/{clusterId}");
        var credentialsBefore = await api.GetStringAsync($"/api/clusters/{clusterId}/artifacts/{OpenViduHa.Core.Artifacts.CredentialsArtifact.EnvName}");
        var definitionBefore = Definition(a, clusterId);
        var auditA = AuditActions(a);

        var response = await api.PostAsJsonAsync("/api/backup", new { passphrase = Passphrase });

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("no-store", response.Headers.CacheControl?.ToString());
        Assert.Matches(@"^openvidu-ha-panel-\d{8}-\d{6}Z\.ovhabak$", response.Content.Headers.ContentDisposition!.FileName!.Trim('"'));
        var file = await response.Content.ReadAsByteArrayAsync();
        Assert.Equal("OVHA-BAK", Encoding.ASCII.GetString(file, 0, 8));
        foreach (var secret in Secrets(a, clusterId)) Assert.DoesNotContain(secret, Encoding.UTF8.GetString(file), StringComparison.Ordinal);

        using var b = new PanelFactory();
        Assert.NotEqual(a.DataDirectory, b.DataDirectory);
        var restored = await RestoreAsync(b, file, Passphrase);

        Assert.True(restored.StatusCode == HttpStatusCode.OK, await restored.Content.ReadAsStringAsync());
        var summary = (await restored.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(1, summary["clusters"]!.GetValue<int>());
        Assert.Equal(6, summary["nodes"]!.GetValue<int>());
        Assert.Equal(1, summary["usersReplaced"]!.GetValue<int>()); // admin is on both
        Assert.Equal(1, summary["tokensSkipped"]!.GetValue<int>()); // the bootstrap token is on both
        Assert.Equal(1, summary["jobsInterrupted"]!.GetValue<int>());

        // One audit log in time order: A's entries first, in their order, then B's own (its start), then the restore.
        var auditB = AuditActions(b);
        Assert.Equal(auditA, auditB.Take(auditA.Count));
        Assert.Contains("cluster.created", auditA);
        Assert.Equal("panel.restored", auditB[^1]);
        Assert.True(auditB.Count > auditA.Count + 1);

        var bApi = b.ApiClient();
        // The cluster as the API shows it (pinned host keys, installed marks, revision), and every secret behind it.
        Assert.Equal(clusterBefore, await bApi.GetStringAsync($"/api/clusters/{clusterId}"));
        Assert.Equal(credentialsBefore, await bApi.GetStringAsync($"/api/clusters/{clusterId}/artifacts/{OpenViduHa.Core.Artifacts.CredentialsArtifact.EnvName}"));
        Assert.Equal(definitionBefore, Definition(b, clusterId));
        var view = (await bApi.GetFromJsonAsync<JsonObject>($"/api/clusters/{clusterId}"))!;
        Assert.All(view["nodes"]!.AsArray(), n => Assert.Equal(Fingerprint, n!["ssh"]!["hostKeyFingerprint"]!.GetValue<string>()));
        // Encrypted again under B's own keys: the same secrets, another ciphertext.
        Assert.NotEqual(StoredSecrets(a, clusterId), StoredSecrets(b, clusterId));

        // A's read token signs in on B; B's admin now has A's password.
        using var withReadToken = b.CreateClient();
        withReadToken.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", readToken);
        Assert.Equal(HttpStatusCode.OK, (await withReadToken.GetAsync($"/api/clusters/{clusterId}")).StatusCode);
        var users = b.Services.GetRequiredService<UserService>();
        Assert.Equal(SignInOutcome.Succeeded, (await users.SignInAsync(PanelFactory.AdminUser, PanelAPassword, "127.0.0.9")).Outcome);
        Assert.Equal(SignInOutcome.Failed, (await users.SignInAsync(PanelFactory.AdminUser, PanelFactory.AdminPassword, "127.0.0.10")).Outcome);

        // Job history: the finished job as it was, its log line for line; the running one interrupted, retry possible.
        Assert.Equal(await api.GetStringAsync($"/api/jobs/{finishedJob}"), await bApi.GetStringAsync($"/api/jobs/{finishedJob}"));
        Assert.Equal(await api.GetStringAsync($"/api/jobs/{finishedJob}/log?format=text"), await bApi.GetStringAsync($"/api/jobs/{finishedJob}/log?format=text"));
        var interrupted = (await bApi.GetFromJsonAsync<JsonObject>($"/api/jobs/{runningJob}"))!;
        Assert.Equal("interrupted", interrupted["state"]!.GetValue<string>());
        Assert.All(interrupted["nodes"]!.AsArray(), n => Assert.Equal("interrupted", n!["state"]!.GetValue<string>()));
        Assert.EndsWith("Interrupted: restored from a backup made while this job ran.", (await bApi.GetStringAsync($"/api/jobs/{runningJob}/log?format=text")).TrimEnd());
    }

    [Fact]
    public async Task Restore_WrongPassphrase_400AtThePassphrase_NothingStored()
    {
        using var a = new PanelFactory();
        await FillAsync(a);
        var file = await BackupAsync(a);
        using var b = new PanelFactory();
        var bApi = b.ApiClient();
        var before = Counts(b);

        var response = await RestoreAsync(b, file, "not the passphrase at all");

        await AssertFieldAsync(response, "passphrase", "The passphrase does not open this backup (or the file was changed after it was made). Nothing was restored.");
        Assert.Equal(before, Counts(b));
        Assert.Empty(await bApi.GetFromJsonAsync<JsonArray>("/api/clusters") ?? []);
    }

    [Fact]
    public async Task Restore_AChangedByte_RefusedLikeAWrongPassphrase()
    {
        using var a = new PanelFactory();
        await FillAsync(a);
        var file = await BackupAsync(a);
        file[BackupFile.HeaderBytes + 10] ^= 1;
        using var b = new PanelFactory();

        await AssertFieldAsync(await RestoreAsync(b, file, Passphrase), "passphrase",
            "The passphrase does not open this backup (or the file was changed after it was made). Nothing was restored.");
        Assert.Equal(0, b.Count("Clusters"));
    }

    [Fact]
    public async Task Restore_IntoAPanelWithClusters_409_NothingStored()
    {
        using var a = new PanelFactory();
        await FillAsync(a);
        var file = await BackupAsync(a);
        var before = Counts(a);

        var response = await RestoreAsync(a, file, Passphrase);

        Assert.Equal(HttpStatusCode.Conflict, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal("This panel has 1 cluster: a backup is restored only into a panel without clusters (a fresh data directory, or delete them first). Nothing was restored.",
            problem["detail"]!.GetValue<string>());
        Assert.Equal(before, Counts(a));
    }

    [Theory]
    [InlineData("""{}""", "Give a passphrase: the backup is encrypted with it, and only it opens the file again.")]
    [InlineData("""{"passphrase":"too short"}""", "Use at least 12 characters: the passphrase is all that protects every secret in the file.")]
    public async Task Backup_AWeakPassphrase_400AtTheField(string body, string message)
    {
        using var a = new PanelFactory();
        var api = a.ApiClient();
        var audit = a.Count("AuditLog");

        var response = await api.PostAsync("/api/backup", new StringContent(body, Encoding.UTF8, "application/json"));

        await AssertFieldAsync(response, "passphrase", message);
        Assert.Equal(audit, a.Count("AuditLog"));
    }

    [Fact]
    public async Task Restore_NotABackup_400AtTheFile()
    {
        using var b = new PanelFactory();

        await AssertFieldAsync(await RestoreAsync(b, Encoding.UTF8.GetBytes("MASTER_NODE_PRIVATE_IP=10.5.0.1\n"), Passphrase), "file",
            "This is not a panel backup (it does not start with OVHA-BAK). Nothing was restored.");
        using var noFile = new MultipartFormDataContent { { new StringContent(Passphrase), "passphrase" } };
        await AssertFieldAsync(await b.ApiClient().PostAsync("/api/restore", noFile), "file", "Choose the backup file (.ovhabak) to restore.");
        var json = await b.ApiClient().PostAsJsonAsync("/api/restore", new { passphrase = Passphrase });
        Assert.Equal(HttpStatusCode.UnsupportedMediaType, json.StatusCode);
        Assert.Equal("application/problem+json", json.Content.Headers.ContentType?.MediaType);
        var noType = await b.ApiClient().PostAsync("/api/restore", new ByteArrayContent([1, 2, 3]));
        await AssertFieldAsync(noType, "file", "Send multipart/form-data: the backup file in 'file' and its passphrase in 'passphrase'.");
        Assert.Equal(0, b.Count("Clusters"));
    }

    /// <summary>
    /// The format is what the README says: its Python lines (the standard library and pyca/cryptography, nothing of the
    /// panel's) open a backup the panel made.
    /// </summary>
    [Fact]
    public async Task TheReadmesPythonOpensABackup()
    {
        using var a = new PanelFactory();
        var (clusterId, _, _, _) = await FillAsync(a);
        var path = Path.Combine(a.DataDirectory, "test.ovhabak");
        await File.WriteAllBytesAsync(path, await BackupAsync(a));
        var readme = await File.ReadAllTextAsync(Path.Combine(RepoRoot.Path, "README.md"));
        var script = Regex.Match(readme, "```python\n(# open-ovhabak.py.*?)```", RegexOptions.Singleline).Groups[1].Value;
        Assert.NotEmpty(script);
        var scriptPath = Path.Combine(a.DataDirectory, "open-ovhabak.py");
        await File.WriteAllTextAsync(scriptPath, script);

        var start = new ProcessStartInfo("python3") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true };
        foreach (var arg in new[] { scriptPath, path }) start.ArgumentList.Add(arg);
        using var python = Process.Start(start)!;
        await python.StandardInput.WriteLineAsync(Passphrase); // the passphrase on stdin, never an argument
        python.StandardInput.Close();
        var output = python.StandardOutput.ReadToEndAsync();
        var errors = await python.StandardError.ReadToEndAsync();
        await python.WaitForExitAsync();
        Assert.True(python.ExitCode == 0, errors);

        var payload = JsonNode.Parse(await output)!;
        Assert.Equal(BackupService.Format, payload["format"]!.GetValue<string>());
        var cluster = payload["clusters"]![0]!;
        Assert.Equal(clusterId, cluster["cluster"]!["id"]!.GetValue<int>());
        Assert.Equal(Specs.Valid().LicenseKey, cluster["secrets"]!["licenseKey"]!.GetValue<string>());
        Assert.Equal(TestKeys.Ed25519, cluster["nodeCredentials"]![cluster["cluster"]!["nodes"]![0]!["id"]!.GetValue<int>().ToString(System.Globalization.CultureInfo.InvariantCulture)]!["privateKey"]!.GetValue<string>());
        Assert.Null(cluster["cluster"]!["protectedSecrets"]);
    }

    /// <summary>A cluster (installed, host keys pinned, a sudo password), a read token, a finished job with its log and a running one.</summary>
    private static async Task<(int ClusterId, string ReadToken, int FinishedJob, int RunningJob)> FillAsync(PanelFactory panel)
    {
        var spec = Specs.Valid("backed-up");
        foreach (var node in spec.Nodes!)
        {
            node.Ssh!.HostKeyFingerprint = Fingerprint;
            node.Ssh.SudoPassword = "sudo-password-of-" + node.PrivateIp;
        }
        var created = await panel.Services.GetRequiredService<ClusterService>().CreateAsync(spec, "test");
        Assert.True(created.Succeeded, created.Message);
        var id = created.Id!.Value;
        var dbFactory = panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>();
        await using (var db = await dbFactory.CreateDbContextAsync())
            await db.Nodes.Where(n => n.ClusterId == id).ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, DateTimeOffset.UtcNow.AddDays(-3)));

        var admin = (await panel.Services.GetRequiredService<UserService>().SignInAsync(PanelFactory.AdminUser, panel.BootstrapPassword!, "127.0.0.8")).UserId!.Value;
        var token = await panel.Services.GetRequiredService<ApiTokenService>().CreateAsync(admin, new TokenRequest("ci-read", "read", 30), "test");

        var finished = await JobSeed.CreateAsync(panel.Services, id, 40);
        await using (var db = await dbFactory.CreateDbContextAsync())
        {
            await db.Jobs.Where(j => j.Id == finished.JobId).ExecuteUpdateAsync(u => u
                .SetProperty(j => j.State, JobState.Succeeded).SetProperty(j => j.FinishedAt, DateTimeOffset.UtcNow).SetProperty(j => j.Message, "Every node answered."));
            await db.JobNodes.Where(n => n.JobId == finished.JobId).ExecuteUpdateAsync(u => u.SetProperty(n => n.State, NodeJobState.Succeeded));
        }
        var running = await JobSeed.CreateAsync(panel.Services, id, 5, JobKind.Install);
        return (id, token.Token, finished.JobId, running.JobId);
    }

    private static async Task<byte[]> BackupAsync(PanelFactory panel)
    {
        var response = await panel.ApiClient().PostAsJsonAsync("/api/backup", new { passphrase = Passphrase });
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        return await response.Content.ReadAsByteArrayAsync();
    }

    private static Task<HttpResponseMessage> RestoreAsync(PanelFactory panel, byte[] file, string passphrase)
    {
        var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(file), "file", "panel.ovhabak" },
            { new StringContent(passphrase), "passphrase" },
        };
        return panel.ApiClient().PostAsync("/api/restore", form);
    }

    private static async Task AssertFieldAsync(HttpResponseMessage response, string field, string message)
    {
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var problem = (await response.Content.ReadFromJsonAsync<JsonObject>())!;
        Assert.Equal(message, problem["errors"]![field]![0]!.GetValue<string>());
    }

    /// <summary>The whole definition the jobs work from, secrets and SSH credentials included, as JSON.</summary>
    private static string Definition(PanelFactory panel, int clusterId) =>
        JsonSerializer.Serialize(panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(clusterId).GetAwaiter().GetResult());

    private static IEnumerable<string> Secrets(PanelFactory panel, int clusterId)
    {
        var definition = panel.Services.GetRequiredService<ClusterService>().LoadDefinitionAsync(clusterId).GetAwaiter().GetResult()!;
        return definition.Secrets.Values.Where(v => v.Length >= 8).Append(definition.LicenseKey).Append("sudo-password-of-10.5.0.1");
    }

    private static string StoredSecrets(PanelFactory panel, int clusterId)
    {
        using var db = panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContext();
        return db.Clusters.Single(c => c.Id == clusterId).ProtectedSecrets;
    }

    private static List<string> AuditActions(PanelFactory panel)
    {
        using var db = panel.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContext();
        return db.AuditEntries.OrderBy(e => e.Id).Select(e => e.Action).ToList();
    }

    private static string Counts(PanelFactory panel) =>
        string.Join(",", new[] { "Clusters", "Nodes", "Users", "ApiTokens", "Jobs", "JobLog", "AuditLog", "StatusChanges" }.Select(t => $"{t}={panel.Count(t)}"));
}
