using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Clusters;

public class ClusterValidatorTests
{
    private static ClusterValidationResult Validate(Action<ClusterSpec> change, string version = "3.0.0")
    {
        var spec = Specs.Valid(version: version);
        change(spec);
        return ClusterValidator.Validate(spec);
    }

    private static void AssertError(ClusterValidationResult result, string field, string fragment)
    {
        Assert.False(result.IsValid);
        Assert.Null(result.Definition);
        var messages = result.Errors.For(field);
        Assert.True(messages.Count > 0, $"No error at '{field}'. Errors: {result.Errors}");
        Assert.Contains(messages, m => m.Contains(fragment, StringComparison.OrdinalIgnoreCase));
    }

    [Theory]
    [InlineData("3.0.0", InstallerGeneration.V30)]
    [InlineData("3.8.0", InstallerGeneration.Current)]
    public void Validate_ValidSpec_ProducesCompleteDefinition(string version, InstallerGeneration generation)
    {
        var result = Validate(_ => { }, version);

        Assert.True(result.IsValid, result.Errors.ToString());
        var d = result.Definition!;
        Assert.Equal(generation, d.Generation);
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"], d.Nodes.Select(n => n.Name));
        Assert.Equal("10.5.0.1,10.5.0.2,10.5.0.3,10.5.0.4", d.MasterIpList);
        Assert.Equal(SecretCatalog.For(generation).Select(s => s.Key).Order(), d.Secrets.Keys.Order());
        Assert.Equal(6, result.Nodes.Count);
        Assert.Empty(result.Warnings);
    }

    [Theory]
    [InlineData(null, "Give the cluster a name")]
    [InlineData("Prod Cluster", "lowercase")]
    [InlineData("-prod", "lowercase")]
    [InlineData("a-very-long-cluster-name-that-goes-beyond-forty", "at most 40")]
    public void Validate_BadName_ErrorAtName(string? name, string message) =>
        AssertError(Validate(s => s.Name = name), "name", message);

    [Theory]
    [InlineData(null, "Give the OpenVidu version")]
    [InlineData("latest", "Pin a version")]
    [InlineData("3.0", "Pin a version")]
    [InlineData("2.30.0", "starts at 3.0.0")]
    [InlineData("3.1.0", "OpenVidu 3.1.0 is not supported: 3.1.0 to 3.3.x take the new installer flags with the old default app")]
    [InlineData("3.2.0", "OpenVidu 3.2.0 is not supported")]
    [InlineData("3.3.9", "Use 3.0.x, or 3.4.0 and later.")]
    [InlineData("4.0.0", "Only OpenVidu 3.x")]
    public void Validate_BadVersion_ErrorAtVersion(string? version, string message) =>
        AssertError(Validate(s => s.OpenviduVersion = version), "openviduVersion", message);

    [Theory]
    [InlineData("3.0.5", InstallerGeneration.V30)]
    [InlineData("3.4.0", InstallerGeneration.Current)]
    [InlineData("3.9.0", InstallerGeneration.Current)]
    [InlineData("3.10.1", InstallerGeneration.Current)]
    public void OpenViduVersion_Boundary_PicksGeneration(string text, InstallerGeneration expected)
    {
        Assert.True(OpenViduVersion.TryParse(text, out var version));
        Assert.Null(version.Unsupported());
        Assert.Equal(expected, version.Generation);
    }

    [Theory]
    [InlineData(null, "Give the domain name")]
    [InlineData("openvidu", "fully qualified")]
    [InlineData("10.5.0.1", "fully qualified")]
    [InlineData("open vidu.example.io", "fully qualified")]
    [InlineData("-bad.example.io", "fully qualified")]
    public void Validate_BadDomain_ErrorAtDomain(string? domain, string message) =>
        AssertError(Validate(s => s.DomainName = domain), "domainName", message);

    [Fact]
    public void Validate_TurnDomainEqualsDomain_ErrorAtTurnDomain() =>
        AssertError(Validate(s => s.TurnDomainName = "OpenVidu.Example.io"), "turnDomainName", "must differ");

    [Fact]
    public void Validate_TurnDomainNotFqdn_ErrorAtTurnDomain() =>
        AssertError(Validate(s => s.TurnDomainName = "turn"), "turnDomainName", "fully qualified");

    [Fact]
    public void Validate_NoTurnDomain_IsValid()
    {
        var result = Validate(s => s.TurnDomainName = "  ");
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Null(result.Definition!.TurnDomainName);
    }

    [Theory]
    [InlineData(null, "licence is required")]
    [InlineData("ABC DEF", "only letters")]
    [InlineData("ABC;rm", "only letters")]
    public void Validate_BadLicense_ErrorAtLicense(string? license, string message) =>
        AssertError(Validate(s => s.LicenseKey = license), "licenseKey", message);

    [Fact]
    public void Validate_UnknownRtcEngine_ErrorAtRtcEngine() =>
        AssertError(Validate(s => s.RtcEngine = "janus"), "rtcEngine", "'pion' or 'mediasoup'");

    [Fact]
    public void Validate_Mediasoup_WarnsExperimental()
    {
        var result = Validate(s => s.RtcEngine = "mediasoup");
        Assert.True(result.IsValid);
        Assert.Equal(RtcEngine.Mediasoup, result.Definition!.RtcEngine);
        Assert.Contains(result.Warnings, w => w.Field == "rtcEngine" && w.Message.Contains("experimental", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_AppModuleOnCurrentGeneration_ErrorNamesOpenViduMeet() =>
        AssertError(Validate(s => s.Modules = ["app"], "3.8.0"), "modules", "openviduMeet");

    [Fact]
    public void Validate_MeetModuleOn30_ErrorNamesApp() =>
        AssertError(Validate(s => s.Modules = ["openviduMeet"]), "modules", "'app'");

    [Fact]
    public void Validate_Modules_AreCanonicalAndDeduplicated()
    {
        var result = Validate(s => s.Modules = ["APP", "observability", "app"]);
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(["observability", "app"], result.Definition!.Modules);
    }

    [Theory]
    [InlineData("ftp://mirror.example.io")]
    [InlineData("http://mirror.example.io/?x=1")]
    [InlineData("http://user:pw@mirror.example.io")]
    [InlineData("not a url")]
    public void Validate_BadInstallerUrl_ErrorAtInstallerBaseUrl(string url) =>
        AssertError(Validate(s => s.InstallerBaseUrl = url), "installerBaseUrl", "http or https URL");

    [Fact]
    public void Validate_PlainHttpInstaller_WarnsButPasses()
    {
        var https = Validate(_ => { });
        var http = Validate(s => s.InstallerBaseUrl = "http://mirror.example.io");

        Assert.True(http.IsValid, http.Errors.ToString());
        Assert.DoesNotContain(https.Warnings, w => w.Field == "installerBaseUrl");
        Assert.Contains(http.Warnings, w => w.Field == "installerBaseUrl" && w.Message.Contains("plain http", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_InstallerSha256_StoredLowercaseAndEmptyMeansNone()
    {
        var upper = new string('A', 63) + "0";
        var result = Validate(s => s.InstallerSha256 = new InstallerSha256Spec { Master = $" {upper} ", Media = "" });

        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(upper.ToLowerInvariant(), result.Definition!.MasterInstallerSha256);
        Assert.Null(result.Definition.MediaInstallerSha256);
    }

    [Theory]
    [InlineData("abc", "installerSha256.master")]
    [InlineData("sha256:0000000000000000000000000000000000000000000000000000000000000000", "installerSha256.master")]
    [InlineData("000000000000000000000000000000000000000000000000000000000000000g", "installerSha256.master")]
    public void Validate_BadInstallerSha256_ErrorAtField(string digest, string field) =>
        AssertError(Validate(s => s.InstallerSha256 = new InstallerSha256Spec { Master = digest }), field, "64 hexadecimal digits");

    [Fact]
    public void Validate_InstallerSha256WithTrailingNewline_Refused() =>
        AssertError(Validate(s => s.InstallerSha256 = new InstallerSha256Spec { Media = new string('0', 64) + "\n0" }), "installerSha256.media", "64 hexadecimal digits");

    [Fact]
    public void Validate_BadLoadBalancerIp_ErrorAtField() =>
        AssertError(Validate(s => s.LoadBalancerIp = "10.0.0.300"), "loadBalancerIp", "IPv4");

    [Fact]
    public void Validate_ThreeMasters_ErrorAtNodes() =>
        AssertError(Validate(s => s.Nodes!.RemoveAt(0)), "nodes", "exactly 4 master");

    [Fact]
    public void Validate_FiveMasters_ErrorAtNodes() =>
        AssertError(Validate(s => s.Nodes!.Add(Specs.Node("master", "10.5.0.5", null))), "nodes", "this one has 5");

    [Fact]
    public void Validate_NoMediaNode_ErrorAtNodes() =>
        AssertError(Validate(s => s.Nodes!.RemoveAll(n => n.Role == "media")), "nodes", "at least one media node");

    [Fact]
    public void Validate_OneMediaNode_WarnsButPasses()
    {
        var result = ClusterValidator.Validate(Specs.Valid(media: 1));
        Assert.True(result.IsValid);
        Assert.Contains(result.Warnings, w => w.Field == "nodes" && w.Message.Contains("at least 2", StringComparison.Ordinal));
    }

    [Fact]
    public void Validate_UnknownRole_ErrorAtRole() =>
        AssertError(Validate(s => s.Nodes![0].Role = "worker"), "nodes[0].role", "'master' or 'media'");

    [Theory]
    [InlineData(null, "Give the node's private IPv4")]
    [InlineData("10.5.0", "IPv4")]
    [InlineData("fe80::1", "IPv4")]
    public void Validate_BadPrivateIp_ErrorAtNode(string? ip, string message) =>
        AssertError(Validate(s => s.Nodes![1].PrivateIp = ip), "nodes[1].privateIp", message);

    [Fact]
    public void Validate_DuplicatePrivateIp_ErrorAtBothNodes()
    {
        var result = Validate(s => { s.Nodes![5].PrivateIp = "10.5.0.2"; s.Nodes[5].Ssh!.Host = "10.5.0.99"; });
        AssertError(result, "nodes[5].privateIp", "already the private IP of master-2.");
        AssertError(result, "nodes[1].privateIp", "also the private IP of media-2.");
    }

    [Fact]
    public void Validate_DuplicateSshEndpoint_ErrorAtBothNodes()
    {
        var result = Validate(s => s.Nodes![3].Ssh!.Host = "10.5.0.1");
        AssertError(result, "nodes[3].ssh.host", "already the SSH address of master-1.");
        AssertError(result, "nodes[0].ssh.host", "also the SSH address");
    }

    [Fact]
    public void Validate_OneFingerprintPinnedOnThreeNodes_WarnsNamingThem()
    {
        const string fingerprint = "SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s";
        var result = Validate(s =>
        {
            foreach (var i in new[] { 0, 2, 5 }) s.Nodes![i].Ssh!.HostKeyFingerprint = fingerprint;
            s.Nodes![1].Ssh!.HostKeyFingerprint = "SHA256:" + new string('A', 43);
        });

        Assert.True(result.Errors.IsEmpty);
        var warning = Assert.Single(result.Warnings, w => w.Message.Contains("same host key", StringComparison.Ordinal));
        Assert.StartsWith($"master-1, master-3 and media-2 are pinned to the same host key ({fingerprint}).", warning.Message);
    }

    [Fact]
    public void Validate_SameHostOtherPort_IsValid()
    {
        var result = Validate(s => { s.Nodes![3].Ssh!.Host = "10.5.0.1"; s.Nodes[3].Ssh!.Port = 2222; });
        Assert.True(result.IsValid, result.Errors.ToString());
    }

    [Fact]
    public void Validate_PublicIpOnMaster_Error() =>
        AssertError(Validate(s => s.Nodes![0].PublicIp = "203.0.113.1"), "nodes[0].publicIp", "Only media nodes");

    [Fact]
    public void Validate_BadPublicIp_Error() =>
        AssertError(Validate(s => s.Nodes![4].PublicIp = "public"), "nodes[4].publicIp", "IPv4");

    [Theory]
    [InlineData(0)]
    [InlineData(70000)]
    public void Validate_BadSshPort_Error(int port) =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.Port = port), "nodes[2].ssh.port", "between 1 and 65535");

    [Fact]
    public void Validate_MissingSsh_Error() =>
        AssertError(Validate(s => s.Nodes![2].Ssh = null), "nodes[2].ssh", "SSH access");

    [Theory]
    [InlineData(null, "Give the SSH user")]
    [InlineData("root user", "Not a valid Unix user name")]
    public void Validate_BadSshUser_Error(string? user, string message) =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.Username = user), "nodes[2].ssh.username", message);

    [Fact]
    public void Validate_NoKeyNoPassword_Error() =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.PrivateKey = null), "nodes[2].ssh.privateKey", "Give a private key");

    [Fact]
    public void Validate_KeyAndPassword_Error() =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.Password = "secret"), "nodes[2].ssh.password", "not both");

    [Fact]
    public void Validate_PasswordAuth_IsValid()
    {
        var result = Validate(s => { s.Nodes![2].Ssh!.PrivateKey = null; s.Nodes[2].Ssh!.Password = "s3cret pass"; });
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.False(result.Nodes[2].Ssh.Credentials.UsesKey);
    }

    [Fact]
    public void Validate_KeyThatDoesNotParse_Error() =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.PrivateKey = "-----BEGIN OPENSSH PRIVATE KEY-----\nbm90IGEga2V5\n-----END OPENSSH PRIVATE KEY-----"),
            "nodes[2].ssh.privateKey", "not a private key SSH can use");

    [Fact]
    public void Validate_PublicKeyInsteadOfPrivate_Error() =>
        AssertError(Validate(s => s.Nodes![2].Ssh!.PrivateKey = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ0dGVzdGtleWJ5dGVzMDEyMzQ1Njc4OTAxMjM0NTY3 test"),
            "nodes[2].ssh.privateKey", "not a private key");

    [Theory]
    [InlineData("ed25519")]
    [InlineData("ecdsa-pem")]
    [InlineData("rsa-pem")]
    [InlineData("rsa")]
    public void Validate_EveryKeyType_IsAccepted(string kind)
    {
        var key = kind switch
        {
            "ed25519" => TestKeys.Ed25519,
            "ecdsa-pem" => TestKeys.EcdsaPem,
            "rsa-pem" => TestKeys.RsaPem,
            _ => TestKeys.RsaOpenSsh,
        };
        var result = Validate(s => s.Nodes![0].Ssh!.PrivateKey = key);
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.True(result.Nodes[0].Ssh.Credentials.UsesKey);
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_EncryptedKeyWithPassphrase_IsAccepted(bool openSshFormat)
    {
        var result = Validate(s =>
        {
            s.Nodes![0].Ssh!.PrivateKey = openSshFormat ? TestKeys.Ed25519Encrypted : TestKeys.RsaPemEncrypted;
            s.Nodes[0].Ssh!.PrivateKeyPassphrase = TestKeys.Passphrase;
        });
        Assert.True(result.IsValid, result.Errors.ToString());
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_EncryptedKeyWithoutPassphrase_AsksForIt(bool openSshFormat) =>
        AssertError(Validate(s => s.Nodes![0].Ssh!.PrivateKey = openSshFormat ? TestKeys.Ed25519Encrypted : TestKeys.RsaPemEncrypted),
            "nodes[0].ssh.privateKeyPassphrase", "give the passphrase");

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_WrongPassphrase_Error(bool openSshFormat) =>
        AssertError(Validate(s =>
        {
            s.Nodes![0].Ssh!.PrivateKey = openSshFormat ? TestKeys.Ed25519Encrypted : TestKeys.RsaPemEncrypted;
            s.Nodes[0].Ssh!.PrivateKeyPassphrase = "wrong";
        }), "nodes[0].ssh.privateKeyPassphrase", "does not open");

    [Fact]
    public void Validate_PassphraseWithoutKey_Error() =>
        AssertError(Validate(s =>
        {
            s.Nodes![0].Ssh!.PrivateKey = null;
            s.Nodes[0].Ssh!.Password = "pw";
            s.Nodes[0].Ssh!.PrivateKeyPassphrase = "x";
        }), "nodes[0].ssh.privateKeyPassphrase", "goes with a private key");

    [Theory]
    [InlineData("MD5:aa:bb")]
    [InlineData("SHA256:short")]
    [InlineData("sha256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0")]
    public void Validate_BadFingerprint_Error(string fingerprint) =>
        AssertError(Validate(s => s.Nodes![0].Ssh!.HostKeyFingerprint = fingerprint), "nodes[0].ssh.hostKeyFingerprint", "SHA256:");

    [Fact]
    public void Validate_GoodFingerprint_IsKept()
    {
        const string fp = "SHA256:uYMlfGrnmsQ0fUy7vCMkYrDAYUMfDJJflaVVHtRL3m0";
        var result = Validate(s => s.Nodes![0].Ssh!.HostKeyFingerprint = fp);
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(fp, result.Nodes[0].Ssh.HostKeyFingerprint);
    }

    [Fact]
    public void Validate_SuppliedSecretWithSymbols_ErrorSaysWhy() =>
        AssertError(Validate(s => s.Secrets = new() { ["redisPassword"] = "pass word!" }), "secrets.redisPassword", "letters and digits only");

    [Fact]
    public void Validate_ShortLivekitSecret_Error() =>
        AssertError(Validate(s => s.Secrets = new() { ["livekitApiSecret"] = "short1" }), "secrets.livekitApiSecret", "at least 32");

    [Fact]
    public void Validate_UnknownSecret_Error() =>
        AssertError(Validate(s => s.Secrets = new() { ["rootPassword"] = "abc" }), "secrets.rootPassword", "Unknown secret");

    [Fact]
    public void Validate_SecretOfOtherGeneration_Error() =>
        AssertError(Validate(s => s.Secrets = new() { ["meetInitialApiKey"] = "abcdefgh12" }), "secrets.meetInitialApiKey", "not taken");

    [Fact]
    public void Validate_SuppliedSecret_IsKeptOthersGenerated()
    {
        var secret = new string('a', 40);
        var result = Validate(s => s.Secrets = new() { ["livekitApiSecret"] = secret });
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(secret, result.Definition!.Secret(SecretCatalog.LivekitApiSecret));
        Assert.StartsWith("API", result.Definition.Secret(SecretCatalog.LivekitApiKey), StringComparison.Ordinal);
        Assert.Equal(44, result.Definition.Secret(SecretCatalog.RedisPassword).Length);
    }

    [Fact]
    public void Validate_Update_KeepsStoredSecretsAndNodeCredentials()
    {
        var stored = new StoredSecrets("STOREDLICENSE", new Dictionary<string, string> { ["redisPassword"] = "StoredRedisPassword123" },
            new Dictionary<int, SshCredentials> { [7] = new(TestKeys.Ed25519, null, null, "sudo") });
        var spec = Specs.Valid();
        spec.LicenseKey = null;
        spec.Nodes![0].Id = 7;
        spec.Nodes[0].Ssh!.PrivateKey = null;

        var result = ClusterValidator.Validate(spec, stored);

        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal("STOREDLICENSE", result.Definition!.LicenseKey);
        Assert.Equal("StoredRedisPassword123", result.Definition.Secret(SecretCatalog.RedisPassword));
        Assert.Equal(TestKeys.Ed25519.Trim(), result.Nodes[0].Ssh.Credentials.PrivateKey!.Trim());
        Assert.Equal("sudo", result.Nodes[0].Ssh.Credentials.SudoPassword);
    }

    [Fact]
    public void Validate_ManyErrors_AllReportedAtOnce()
    {
        var result = Validate(s => { s.Name = ""; s.DomainName = "x"; s.Nodes![0].PrivateIp = "bad"; });
        Assert.Equal(["domainName", "name", "nodes[0].privateIp"], result.Errors.Fields.Order(StringComparer.Ordinal));
    }
}
