using OpenViduHa.Core.Credentials;

namespace OpenViduHa.Core.Tests.Credentials;

/// <summary>KEY=value files as the installer writes them: read, and changed in place.</summary>
public sealed class EnvFileTests
{
    [Fact]
    public void Parse_InstallerFile_ValuesByKeyWithoutQuotesCommentsOrExport()
    {
        // Arrange
        const string text = "# OpenVidu configuration\r\n" +
                            "DOMAIN_NAME=openvidu.example.io\r\n" +
                            "   # indented comment=not a value\n" +
                            "REDIS_PASSWORD=\"quoted value\"\n" +
                            "MINIO_ACCESS_KEY='single'\n" +
                            "export LIVEKIT_API_KEY = APIkey \n" +
                            "EMPTY=\n" +
                            "=no key\n" +
                            "no equals sign\n" +
                            "URL=https://x.example.io/?a=b\n" +
                            "LONE=\"\n";

        // Act
        var values = EnvFile.Parse(text);

        // Assert
        Assert.Equal(new Dictionary<string, string>
        {
            ["DOMAIN_NAME"] = "openvidu.example.io",
            ["REDIS_PASSWORD"] = "quoted value",
            ["MINIO_ACCESS_KEY"] = "single",
            ["LIVEKIT_API_KEY"] = "APIkey",
            ["EMPTY"] = "",
            ["URL"] = "https://x.example.io/?a=b",
            ["LONE"] = "\"",
        }, values);
    }

    [Theory]
    [InlineData("A=\"x'", "\"x'")]
    [InlineData("A='x\"", "'x\"")]
    [InlineData("A=\"\"", "")]
    [InlineData("A=x\"", "x\"")]
    public void Parse_MismatchedQuotes_KeptAsWritten(string line, string expected)
    {
        // Act
        var values = EnvFile.Parse(line);

        // Assert
        Assert.Equal(expected, values["A"]);
    }

    [Fact]
    public void Parse_KeyTwice_LastWins()
    {
        // Act
        var values = EnvFile.Parse("A=1\nA=2\n");

        // Assert
        Assert.Equal("2", values["A"]);
    }

    [Fact]
    public void Update_ExistingKeys_RewrittenInPlaceEverythingElseKept()
    {
        // Arrange
        const string text = "# header\nDOMAIN_NAME=old.example.io\n# REDIS_PASSWORD=commented\nno equals sign\nREDIS_PASSWORD = \"old\"\nOTHER=1\n";

        // Act
        var updated = EnvFile.Update(text, [KeyValuePair.Create("REDIS_PASSWORD", "new"), KeyValuePair.Create("DOMAIN_NAME", "new.example.io")]);

        // Assert
        Assert.Equal("# header\nDOMAIN_NAME=new.example.io\n# REDIS_PASSWORD=commented\nno equals sign\nREDIS_PASSWORD=new\nOTHER=1\n", updated);
    }

    [Fact]
    public void Update_MissingKey_AppendedAtTheEnd()
    {
        // Act
        var updated = EnvFile.Update("A=1\n", [KeyValuePair.Create("B", "2")]);

        // Assert
        Assert.Equal("A=1\nB=2\n", updated);
    }

    [Fact]
    public void Update_CrLfAndNoFinalNewline_NormalizedToOneFinalNewline()
    {
        // Act
        var updated = EnvFile.Update("A=1\r\nB=2", [KeyValuePair.Create("A", "3")]);

        // Assert
        Assert.Equal("A=3\nB=2\n", updated);
    }

    [Fact]
    public void Update_KeyThatIsAPrefixOfAnother_OnlyTheExactKeyChanges()
    {
        // Act
        var updated = EnvFile.Update("REDIS_PASSWORD_OLD=x\nREDIS_PASSWORD=y\n", [KeyValuePair.Create("REDIS_PASSWORD", "z")]);

        // Assert
        Assert.Equal("REDIS_PASSWORD_OLD=x\nREDIS_PASSWORD=z\n", updated);
    }

    [Fact]
    public void Update_SameValues_SameText()
    {
        // Arrange
        const string text = "A=1\nB=2\n";

        // Act
        var updated = EnvFile.Update(text, [KeyValuePair.Create("B", "2")]);

        // Assert
        Assert.Equal(text, updated);
    }

    [Fact]
    public void Update_EmptyFile_OnlyTheNewKeys()
    {
        // Act
        var updated = EnvFile.Update("", [KeyValuePair.Create("A", "1")]);

        // Assert
        Assert.Equal("A=1\n", updated);
    }
}
