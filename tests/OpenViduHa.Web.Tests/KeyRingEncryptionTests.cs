using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// Storage:KeyEncryptionCertificate: a certificate made with openssl as the README says encrypts the Data Protection key
/// ring, so the data directory alone decrypts nothing; with the certificate, everything reads as before.
/// </summary>
public sealed class KeyRingEncryptionTests : IDisposable
{
    private const string PfxPassword = "pfx-password-never-logged-1";
    private readonly string _certificates = Directory.CreateTempSubdirectory("ovha-keyring-").FullName;

    public void Dispose() => Directory.Delete(_certificates, recursive: true);

    [Fact]
    public async Task WithTheCertificate_KeysEncryptedOnDisk_SecretsRead_WithoutIt_NothingDecrypts()
    {
        var pfx = await MakePfxAsync();
        var settings = new Dictionary<string, string?> { ["Storage:KeyEncryptionCertificate:Path"] = pfx, ["Storage:KeyEncryptionCertificate:Password"] = PfxPassword };
        string dataDirectory;
        int id;
        string secret;
        using (var first = new PanelFactory { Settings = settings })
        {
            dataDirectory = first.DataDirectory;
            var api = first.ApiClient();
            id = (await (await api.PostAsJsonAsync("/api/clusters", Specs.Valid())).Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetInt32();
            secret = Value(await api.GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env"), "LIVEKIT_API_SECRET");
        }

        // On disk the key ring holds only encrypted keys: no key material in the clear.
        var ring = Directory.GetFiles(Path.Combine(dataDirectory, "keys"), "key-*.xml").Select(File.ReadAllText).ToList();
        Assert.NotEmpty(ring);
        Assert.All(ring, xml => Assert.Contains("<EncryptedData", xml, StringComparison.Ordinal));
        Assert.All(ring, xml => Assert.DoesNotContain("<value>", xml, StringComparison.Ordinal));

        // The same data directory and the certificate: the panel reads its secrets as before.
        using (var again = new PanelFactory(bootstrap: true, dataDirectory) { Settings = settings })
            Assert.Equal(secret, Value(await again.ApiClient().GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env"), "LIVEKIT_API_SECRET"));

        // A copy of the data directory without the certificate decrypts nothing.
        using var copy = new PanelFactory(bootstrap: true, dataDirectory);
        var response = await copy.ApiClient().GetAsync($"/api/clusters/{id}/artifacts/credentials.env");
        Assert.NotEqual(HttpStatusCode.OK, response.StatusCode);
        Assert.DoesNotContain(secret, await response.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("wrong-password", "cannot be read with the given Storage:KeyEncryptionCertificate:Password")]
    [InlineData(null, "does not exist")]
    public async Task BadSetting_StartRefused_NamingIt_NeverThePassword(string? password, string message)
    {
        var pfx = password is null ? Path.Combine(_certificates, "missing.pfx") : await MakePfxAsync();
        using var factory = new PanelFactory
        {
            Settings = { ["Storage:KeyEncryptionCertificate:Path"] = pfx, ["Storage:KeyEncryptionCertificate:Password"] = password ?? PfxPassword },
        };

        var error = Record.Exception(() => factory.Services);

        Assert.NotNull(error);
        Assert.Contains(message, error.ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain(password ?? PfxPassword, error.ToString(), StringComparison.Ordinal);
    }

    /// <summary>The README's two openssl commands: a self-signed RSA certificate and its PKCS#12 file.</summary>
    private async Task<string> MakePfxAsync()
    {
        var key = Path.Combine(_certificates, "keyring-key.pem");
        var cert = Path.Combine(_certificates, "keyring-cert.pem");
        var pfx = Path.Combine(_certificates, "keyring.pfx");
        var made = await ProcessRunner.RunAsync(RequiredTools.OpenSsl,
            ["req", "-x509", "-newkey", "rsa:3072", "-nodes", "-keyout", key, "-out", cert, "-days", "3650", "-subj", "/CN=openvidu-ha-panel key ring"]);
        Assert.True(made.ExitCode == 0, made.ToString());
        var exported = await ProcessRunner.RunAsync(RequiredTools.OpenSsl,
            ["pkcs12", "-export", "-in", cert, "-inkey", key, "-out", pfx, "-passout", "env:PFX_PASSWORD"],
            new Dictionary<string, string> { ["PFX_PASSWORD"] = PfxPassword, ["PATH"] = "/usr/bin:/bin" });
        Assert.True(exported.ExitCode == 0, exported.ToString());
        return pfx;
    }

    private static string Value(string env, string key) =>
        env.Split('\n').Single(l => l.StartsWith(key + "=", StringComparison.Ordinal))[(key.Length + 1)..];
}
