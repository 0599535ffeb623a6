using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Tests.Shared;


namespace OpenViduHa.Web.Tests;

public sealed class SecretsNotLoggedTests
{
    [Fact]
    public async Task CreateAndGenerateEverything_NoSecretInLogsOrDatabaseFile()
    {
        // Arrange: every secret supplied with a recognisable value, plus SSH key, passphrase, password and sudo password.
        var json = new JsonSerializerOptions(JsonSerializerDefaults.Web);
        var secrets = new Dictionary<string, string>();
        var spec = Specs.Valid(name: "secretive");
        spec.LicenseKey = "LICENSEvalue" + SecretGenerator.Generate(20);
        spec.Secrets = [];
        foreach (var definition in SecretCatalog.For(Core.Clusters.InstallerGeneration.V30).Where(d => d.Kind != SecretKind.Identity))
        {
            var value = definition.Kind == SecretKind.ApiKey ? SecretGenerator.ApiKey() : SecretGenerator.Generate();
            spec.Secrets[definition.Key] = value;
            secrets[definition.Key] = value;
        }
        secrets["license"] = spec.LicenseKey;
        spec.Nodes![0].Ssh!.PrivateKey = TestKeys.Ed25519Encrypted;
        spec.Nodes[0].Ssh!.PrivateKeyPassphrase = TestKeys.Passphrase;
        spec.Nodes[1].Ssh!.PrivateKey = null;
        spec.Nodes[1].Ssh!.Password = "SshPasswordValue" + SecretGenerator.Generate(12);
        spec.Nodes[2].Ssh!.SudoPassword = "SudoPasswordValue" + SecretGenerator.Generate(12);
        secrets["passphrase"] = spec.Nodes[0].Ssh!.PrivateKeyPassphrase!;
        secrets["password"] = spec.Nodes[1].Ssh!.Password!;
        secrets["sudo"] = spec.Nodes[2].Ssh!.SudoPassword!;
        // The key's base64 body, line by line: any line of it in a file would be a leak.
        var keyLines = TestKeys.Ed25519Encrypted.Split('\n').Where(l => l.Length > 40 && !l.StartsWith("-----", StringComparison.Ordinal)).ToList();
        var ed25519Lines = TestKeys.Ed25519.Split('\n').Where(l => l.Length > 40 && !l.StartsWith("-----", StringComparison.Ordinal)).ToList();

        string dataDirectory;
        using (var factory = new PanelFactory { LogLevel = "Debug" })
        {
            dataDirectory = factory.DataDirectory;
            var api = factory.ApiClient();

            // Act: a rejected create that carries the secrets, the real create, every artifact, a read of the cluster.
            var bad = JsonSerializer.Deserialize<Core.Clusters.ClusterSpec>(JsonSerializer.Serialize(spec, json), json)!;
            bad.DomainName = "bad";
            Assert.Equal(HttpStatusCode.BadRequest, (await api.PostAsJsonAsync("/api/clusters", bad, json)).StatusCode);

            var created = await api.PostAsJsonAsync("/api/clusters", spec, json);
            Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
            var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
            var artifacts = new StringBuilder();
            foreach (var name in new[] { "install-commands.sh", "firewall-master.sh", "firewall-media.sh", "nginx.conf", "haproxy.cfg", "credentials.env", "credentials.json" })
                artifacts.Append(await api.GetStringAsync($"/api/clusters/{id}/artifacts/{name}"));
            await api.GetStringAsync($"/api/clusters/{id}");

            // The artifacts do carry the secrets: proof that the values were really used (this test could fail).
            Assert.Contains(secrets[SecretCatalog.LivekitApiSecret], artifacts.ToString(), StringComparison.Ordinal);
            Assert.Contains(secrets["license"], artifacts.ToString(), StringComparison.Ordinal);
        }

        // Assert: nothing on disk in plain text: logs, the SQLite file and its WAL and shared-memory files.
        var files = Directory.GetFiles(Path.Combine(dataDirectory, "logs")).Concat(Directory.GetFiles(dataDirectory, "panel.db*")).ToList();
        Assert.Contains(files, f => f.EndsWith(".log", StringComparison.Ordinal));
        Assert.Contains(files, f => f.EndsWith("panel.db", StringComparison.Ordinal));
        var logText = string.Concat(Directory.GetFiles(Path.Combine(dataDirectory, "logs")).Select(ReadShared));
        Assert.Contains("secretive", logText, StringComparison.Ordinal); // the log did record the work
        Assert.Contains("/api/clusters", logText, StringComparison.Ordinal);

        foreach (var file in files)
        {
            var text = ReadShared(file);
            foreach (var (key, value) in secrets)
                Assert.False(text.Contains(value, StringComparison.Ordinal), $"secret '{key}' found in plain text in {Path.GetFileName(file)}");
            foreach (var line in keyLines.Concat(ed25519Lines))
                Assert.False(text.Contains(line, StringComparison.Ordinal), $"private key material found in {Path.GetFileName(file)}");
        }
    }

    private static string ReadShared(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete);
        using var reader = new StreamReader(stream, Encoding.Latin1);
        return reader.ReadToEnd();
    }
}
