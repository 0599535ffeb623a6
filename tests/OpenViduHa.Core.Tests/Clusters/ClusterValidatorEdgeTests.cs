using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>The validator at its boundaries and in its exact words: what mutation testing found untested.</summary>
public sealed class ClusterValidatorEdgeTests
{
    private static ClusterValidationResult Validate(Action<ClusterSpec> change, string version = "3.0.0")
    {
        var spec = Specs.Valid(version: version);
        change(spec);
        return ClusterValidator.Validate(spec);
    }

    [Fact]
    public void Validate_NameOfExactlyFortyCharacters_IsValid()
    {
        // Act
        var result = Validate(s => s.Name = new string('a', ClusterValidator.MaxNameLength));

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData(" PION ")]
    public void Validate_RtcEngineLeftOutOrPion_IsPion(string? engine)
    {
        // Act
        var result = Validate(s => s.RtcEngine = engine);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(RtcEngine.Pion, result.Definition!.RtcEngine);
    }

    [Fact]
    public void Validate_InstallerUrlWithFragment_Error() =>
        Assert.NotEmpty(Validate(s => s.InstallerBaseUrl = "https://mirror.example.io/#top").Errors.For("installerBaseUrl"));

    [Fact]
    public void Validate_PlainHttpInstaller_WarnsInFullWords()
    {
        // Act
        var result = Validate(s => s.InstallerBaseUrl = "http://mirror.example.io/");

        // Assert
        Assert.Equal("http://mirror.example.io", result.Definition!.InstallerBaseUrl);
        Assert.Equal(new ValidationWarning("installerBaseUrl", "The installer comes over plain http: it runs as root on every node, and anything on the network path can " +
                                                               "change it. Use https, or pin the installer's SHA-256 (Fetch digests on the cluster page)."),
            Assert.Single(result.Warnings));
    }

    [Fact]
    public void Validate_OptionsLeftOut_WebrtcOverTcpOnTheRestOff()
    {
        // Act
        var definition = Validate(s => s.Options = null).Definition!;

        // Assert
        Assert.Equal((false, false, true), (definition.Rtmp, definition.Whip, definition.WebrtcOverTcp));
    }

    [Fact]
    public void Validate_OptionsGiven_Kept()
    {
        // Act
        var definition = Validate(s => s.Options = new ClusterOptionsSpec { Rtmp = true, Whip = true, WebrtcOverTcp = false }).Definition!;

        // Assert
        Assert.Equal((true, true, false), (definition.Rtmp, definition.Whip, definition.WebrtcOverTcp));
    }

    [Fact]
    public void Validate_OptionsWithDefaults_WebrtcOverTcpOn()
    {
        // Act
        var definition = Validate(s => s.Options = new ClusterOptionsSpec()).Definition!;

        // Assert
        Assert.True(definition.WebrtcOverTcp);
    }

    [Fact]
    public void Validate_UnknownModule_ErrorListsTheKnownOnes()
    {
        // Act
        var result = Validate(s => s.Modules = ["recording"]);

        // Assert
        Assert.Equal(["Unknown module 'recording' for OpenVidu 3.0.0: use observability, v2compatibility, app."], result.Errors.For("modules"));
    }

    [Fact]
    public void Validate_AppModuleOnCurrentGeneration_ErrorWithTheHint()
    {
        // Act
        var result = Validate(s => s.Modules = ["app"], "3.8.0");

        // Assert
        Assert.Equal(["Unknown module 'app' for OpenVidu 3.8.0: use observability, v2compatibility, openviduMeet. In 3.8.0 the default app is 'openviduMeet'."],
            result.Errors.For("modules"));
    }

    [Fact]
    public void Validate_MeetModuleOn30_ErrorWithTheHint()
    {
        // Act
        var result = Validate(s => s.Modules = ["openViduMeet"]);

        // Assert
        Assert.Equal(["Unknown module 'openViduMeet' for OpenVidu 3.0.0: use observability, v2compatibility, app. In 3.0.0 the default app is 'app'."],
            result.Errors.For("modules"));
    }

    [Fact]
    public void Validate_NullModule_ErrorNotACrash()
    {
        // Act
        var result = Validate(s => s.Modules = [null!]);

        // Assert
        Assert.StartsWith("Unknown module '' for OpenVidu 3.0.0", Assert.Single(result.Errors.For("modules")), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_UnknownSecret_ErrorListsTheKnownKeys()
    {
        // Act
        var result = Validate(s => s.Secrets = new() { ["rootPassword"] = "x" });

        // Assert
        Assert.StartsWith("Unknown secret 'rootPassword'. Known: livekitApiKey, livekitApiSecret, dashboardAdminUser, ", Assert.Single(result.Errors.For("secrets.rootPassword")), StringComparison.Ordinal);
    }

    [Fact]
    public void Validate_SecretOfOtherGenerationLeftEmpty_IsFine()
    {
        // Act
        var result = Validate(s => s.Secrets = new() { ["meetInitialApiKey"] = "" });

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
    }

    [Fact]
    public void Validate_SecretOfExactlyItsMinimumLength_IsKept()
    {
        // Act
        var result = Validate(s => s.Secrets = new() { ["redisPassword"] = "abcd1234" });

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal("abcd1234", result.Definition!.Secret("redisPassword"));
    }

    [Fact]
    public void Validate_SecretOneShorterThanItsMinimum_Error() =>
        Assert.Equal(["Too short: at least 8 characters."], Validate(s => s.Secrets = new() { ["redisPassword"] = "abcd123" }).Errors.For("secrets.redisPassword"));

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Validate_NoNodes_ErrorAtNodes(bool nullList)
    {
        // Act
        var result = Validate(s => s.Nodes = nullList ? null : []);

        // Assert
        Assert.Equal(["Add the 4 master nodes and at least one media node."], result.Errors.For("nodes"));
    }

    [Fact]
    public void Validate_NullNodeInTheList_ErrorAtThatNode() =>
        Assert.Equal(["A node is missing."], Validate(s => s.Nodes!.Insert(2, null!)).Errors.For("nodes[2]"));

    [Fact]
    public void Validate_DuplicateSshEndpoint_BothMessagesInFull()
    {
        // Act
        var result = Validate(s => s.Nodes![3].Ssh!.Host = "10.5.0.1");

        // Assert
        Assert.Equal(["10.5.0.1:22 is already the SSH address of master-1."], result.Errors.For("nodes[3].ssh.host"));
        Assert.Equal(["10.5.0.1:22 is also the SSH address of master-4."], result.Errors.For("nodes[0].ssh.host"));
    }

    [Theory]
    [InlineData("node_1.example.io", false)]
    [InlineData("-node.example.io", false)]
    [InlineData("node-1.example.io", true)]
    [InlineData("node-1", true)]
    public void Validate_SshHostName_LabelsChecked(string host, bool valid)
    {
        // Act
        var result = Validate(s => s.Nodes![1].Ssh!.Host = host);

        // Assert
        Assert.Equal(valid ? [] : ["Give a host name or IPv4 address."], result.Errors.For("nodes[1].ssh.host"));
    }

    [Fact]
    public void Validate_SshHostLongerThan253_Error() =>
        Assert.NotEmpty(Validate(s => s.Nodes![1].Ssh!.Host = string.Join('.', Enumerable.Repeat(new string('a', 63), 4))).Errors.For("nodes[1].ssh.host"));

    [Theory]
    [InlineData(1)]
    [InlineData(65535)]
    public void Validate_SshPortAtTheEnds_IsValid(int port)
    {
        // Act
        var result = Validate(s => s.Nodes![2].Ssh!.Port = port);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(port, result.Nodes[2].Ssh.Port);
    }

    [Fact]
    public void Validate_SshPortLeftOut_Is22()
    {
        // Act
        var result = Validate(s => s.Nodes![2].Ssh!.Port = null);

        // Assert
        Assert.Equal(22, result.Nodes[2].Ssh.Port);
    }

    [Fact]
    public void Validate_SshSpecDefaults_AreRootOnPort22()
    {
        // Arrange: an API body that gives the host and the key only.
        var ssh = new SshSpec { Host = "10.5.0.2", PrivateKey = TestKeys.Ed25519 };

        // Act
        var result = Validate(s => s.Nodes![1].Ssh = ssh);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(("root", 22), (result.Nodes[1].Ssh.Username, result.Nodes[1].Ssh.Port));
    }

    [Fact]
    public void Validate_Key_StoredTrimmedWithOneFinalNewline()
    {
        // Act
        var result = Validate(s => s.Nodes![0].Ssh!.PrivateKey = "\n  " + TestKeys.Ed25519.Trim() + "  \n\n");

        // Assert
        Assert.Equal(TestKeys.Ed25519.Trim() + "\n", result.Nodes[0].Ssh.Credentials.PrivateKey);
    }

    [Fact]
    public void Validate_KeyWithEmptyPasswordAndPassphrase_IsKeyOnly()
    {
        // Act
        var result = Validate(s => { s.Nodes![0].Ssh!.Password = ""; s.Nodes[0].Ssh!.PrivateKeyPassphrase = ""; });

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(new SshCredentials(TestKeys.Ed25519.Trim() + "\n", null, null, null), result.Nodes[0].Ssh.Credentials);
    }

    [Fact]
    public void Validate_EncryptedKeyWithPassphrase_KeepsThePassphrase()
    {
        // Act
        var result = Validate(s => { s.Nodes![0].Ssh!.PrivateKey = TestKeys.RsaPemEncrypted; s.Nodes[0].Ssh!.PrivateKeyPassphrase = TestKeys.Passphrase; });

        // Assert
        Assert.Equal(TestKeys.Passphrase, result.Nodes[0].Ssh.Credentials.PrivateKeyPassphrase);
    }

    private static StoredSecrets Stored(SshCredentials credentials) =>
        new("STOREDLICENSE", new Dictionary<string, string>(), new Dictionary<int, SshCredentials> { [7] = credentials });

    private static ClusterSpec Update(Action<SshSpec> change)
    {
        var spec = Specs.Valid();
        spec.Nodes![0].Id = 7;
        spec.Nodes[0].Ssh!.PrivateKey = null;
        change(spec.Nodes[0].Ssh!);
        return spec;
    }

    [Fact]
    public void Validate_UpdateLeavingCredentialsOut_KeepsKeyPassphraseAndSudo()
    {
        // Arrange
        var stored = Stored(new SshCredentials(TestKeys.RsaPemEncrypted, TestKeys.Passphrase, null, "OldSudo"));

        // Act
        var result = ClusterValidator.Validate(Update(_ => { }), stored);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(new SshCredentials(TestKeys.RsaPemEncrypted, TestKeys.Passphrase, null, "OldSudo"), result.Nodes[0].Ssh.Credentials);
    }

    [Fact]
    public void Validate_UpdateGivingAPassword_ReplacesTheStoredKey()
    {
        // Arrange
        var stored = Stored(new SshCredentials(TestKeys.Ed25519, null, null, null));

        // Act
        var result = ClusterValidator.Validate(Update(ssh => ssh.Password = "NewPassword"), stored);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(new SshCredentials(null, null, "NewPassword", null), result.Nodes[0].Ssh.Credentials);
    }

    [Fact]
    public void Validate_UpdateGivingANewSudoPassword_ReplacesTheStoredOne()
    {
        // Arrange
        var stored = Stored(new SshCredentials(TestKeys.Ed25519, null, null, "OldSudo"));

        // Act
        var result = ClusterValidator.Validate(Update(ssh => ssh.SudoPassword = "NewSudo"), stored);

        // Assert
        Assert.Equal("NewSudo", result.Nodes[0].Ssh.Credentials.SudoPassword);
    }

    [Fact]
    public void Validate_UpdateWithEmptySudoPassword_KeepsTheStoredOne()
    {
        // Arrange
        var stored = Stored(new SshCredentials(TestKeys.Ed25519, null, null, "OldSudo"));

        // Act
        var result = ClusterValidator.Validate(Update(ssh => ssh.SudoPassword = ""), stored);

        // Assert
        Assert.Equal("OldSudo", result.Nodes[0].Ssh.Credentials.SudoPassword);
    }

    [Fact]
    public void Validate_UpdateGivingANewPassphraseOnly_UsesItWithTheStoredKey()
    {
        // Arrange
        var stored = Stored(new SshCredentials(TestKeys.RsaPemEncrypted, "wrong", null, null));

        // Act
        var result = ClusterValidator.Validate(Update(ssh => ssh.PrivateKeyPassphrase = TestKeys.Passphrase), stored);

        // Assert
        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal(TestKeys.Passphrase, result.Nodes[0].Ssh.Credentials.PrivateKeyPassphrase);
    }

    [Fact]
    public void Validate_NewNodeWithoutCredentials_NotFilledFromAnother()
    {
        // Arrange: node id 8 was never stored.
        var spec = Update(_ => { });
        spec.Nodes![0].Id = 8;

        // Act
        var result = ClusterValidator.Validate(spec, Stored(new SshCredentials(TestKeys.Ed25519, null, null, null)));

        // Assert
        Assert.NotEmpty(result.Errors.For("nodes[0].ssh.privateKey"));
    }

    [Theory]
    [InlineData("openvidu.example.io", true)]
    [InlineData("example.io", true)]
    [InlineData("example.i0", true)]
    [InlineData("example.123", false)]
    [InlineData("io", false)]
    [InlineData("10.5.0.1", false)]
    public void IsFqdn_Text_NeedsTwoLabelsAndALetterInTheLast(string text, bool expected) =>
        Assert.Equal(expected, ClusterValidator.IsFqdn(text));

    [Fact]
    public void IsFqdn_LongerThan253_False()
    {
        // Arrange: 4 labels of 63 and one of 1: 257 characters.
        var text = string.Join('.', Enumerable.Repeat(new string('a', 63), 4)) + ".b";
        var fits = string.Join('.', Enumerable.Repeat(new string('a', 63), 3)) + "." + new string('b', 61);

        // Act
        var (tooLong, exactly) = (ClusterValidator.IsFqdn(text), ClusterValidator.IsFqdn(fits));

        // Assert
        Assert.Equal(253, fits.Length);
        Assert.False(tooLong);
        Assert.True(exactly);
    }

    [Theory]
    [InlineData("10.5.0.1", true)]
    [InlineData("255.255.255.255", true)]
    [InlineData("010.5.0.1", false)]
    [InlineData("10.5.0", false)]
    [InlineData("::1", false)]
    public void IsIPv4_Text_DottedQuadOnly(string text, bool expected) =>
        Assert.Equal(expected, ClusterValidator.IsIPv4(text));
}
