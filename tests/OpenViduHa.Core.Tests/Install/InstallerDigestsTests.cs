using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Install;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests.Install;

/// <summary>
/// fetch-installer-digests' script, run by real bash with the real sha256sum and a stub curl first on PATH (it prints
/// "curl" and its arguments as the downloaded script, or fails like a 404 for URLs holding "missing"), and the parser of
/// what it prints. Through a real node over SSH: OpenViduHa.Install.Tests.
/// </summary>
public sealed class InstallerDigestsTests
{
    private const string MasterUrl = "https://get.openvidu.io/pro/ha/3.0.0/install_ov_master_node.sh";
    private const string MissingUrl = "https://get.openvidu.io/pro/ha/3.0.0/missing_media_node.sh";
    private const string Curl404 = "curl: (22) The requested URL returned error: 404";

    private static async Task<ProcessResult> RunAsync(string script)
    {
        using var dir = new TempDirectory();
        dir.Write("bin/curl", $$"""
            #!/bin/bash
            case "${@: -1}" in *missing*) echo 'curl: (6) retrying' >&2; echo '{{Curl404}}' >&2; exit 22 ;; esac
            printf 'curl %s\n' "$*"

            """, (UnixFileMode)0b111_101_101);
        var file = dir.Write("digests.sh", script);
        return await ProcessRunner.RunAsync(RequiredTools.Bash, [file], new Dictionary<string, string> { ["PATH"] = $"{dir.File("bin")}:/usr/bin:/bin" });
    }

    private static string Sha256Hex(string text) =>
        Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(text)));

    [Fact]
    public async Task Script_RealBash_OneDigestPerUrlAndCurlsLastErrorLine()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0");
        (string Role, string Url)[] urls = [("master", MasterUrl), ("media", MissingUrl)];

        // Act
        var result = await RunAsync(InstallerDigestsHandler.Script(cluster, urls));
        var digests = InstallerDigestsHandler.Parse(result.StdOut, result.StdErr, urls);

        // Assert
        Assert.Equal(
        [
            new InstallerDigest("master", MasterUrl, Sha256Hex($"curl -fsSL --proto =https --proto-redir =https {MasterUrl}\n"), null),
            new InstallerDigest("media", MissingUrl, null, Curl404),
        ], digests);
    }

    [Fact]
    public async Task Script_PlainHttpInstaller_FetchesWithoutHttpsOnly()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0") with { InstallerBaseUrl = "http://mirror.example.io" };
        const string url = "http://mirror.example.io/pro/ha/3.0.0/install_ov_media_node.sh";

        // Act
        var result = await RunAsync(InstallerDigestsHandler.Script(cluster, [("media", url)]));
        var digests = InstallerDigestsHandler.Parse(result.StdOut, result.StdErr, [("media", url)]);

        // Assert
        Assert.Equal(Sha256Hex($"curl -fsSL {url}\n"), Assert.Single(digests).Sha256);
    }

    [Fact]
    public async Task Script_UrlWithQuotes_PassedToCurlAsOneArgument()
    {
        // Arrange
        var cluster = TestClusters.Full("3.0.0");
        const string url = "https://mirror.example.io/it's here/install.sh";

        // Act
        var result = await RunAsync(InstallerDigestsHandler.Script(cluster, [("master", url)]));

        // Assert
        Assert.Equal(Sha256Hex($"curl -fsSL --proto =https --proto-redir =https {url}\n"),
            InstallerDigestsHandler.Parse(result.StdOut, result.StdErr, [("master", url)])[0].Sha256);
    }

    [Fact]
    public void Parse_NoAnswerForARole_SaysSo()
    {
        // Act
        var digests = InstallerDigestsHandler.Parse("", "bash: curl: command not found\n", [("master", MasterUrl)]);

        // Assert
        Assert.Equal(new InstallerDigest("master", MasterUrl, null, "no answer"), Assert.Single(digests));
    }

    [Theory]
    [InlineData("ovha-sha256 master ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789")]
    [InlineData("ovha-sha256 master abcdef0123456789abcdef0123456789abcdef0123456789abcdef012345678")]
    [InlineData("ovha-sha256 master failed")]
    [InlineData("ovha-sha256 mastery abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789")]
    public void Parse_AnswerThatIsNotALowercaseDigest_IsNoDigest(string stdout)
    {
        // Act
        var digest = InstallerDigestsHandler.Parse(stdout, "", [("master", MasterUrl)])[0];

        // Assert
        Assert.Null(digest.Sha256);
        Assert.Equal("no answer", digest.Error);
    }

    [Fact]
    public void Parse_ErrorLineWithoutPrefix_IsNoAnswer()
    {
        // Act
        var digest = InstallerDigestsHandler.Parse("ovha-sha256 media failed\n", "ovha-sha256 media curl broke\n", [("media", MissingUrl)])[0];

        // Assert
        Assert.Equal("no answer", digest.Error);
    }

    [Fact]
    public void Parse_BlankError_IsNoAnswer()
    {
        // Act
        var digest = InstallerDigestsHandler.Parse("ovha-sha256 media failed\n", "ovha-sha256 media error:  \n", [("media", MissingUrl)])[0];

        // Assert
        Assert.Equal("no answer", digest.Error);
    }

    [Fact]
    public void Parse_LinesWithSpacesAndOtherRoles_FindsEachRolesOwn()
    {
        // Arrange
        var master = new string('a', 64);
        var media = new string('b', 64);
        var stdout = $"noise\n  ovha-sha256 media {media}  \r\novha-sha256 master {master}\n";

        // Act
        var digests = InstallerDigestsHandler.Parse(stdout, "", [("master", MasterUrl), ("media", MissingUrl)]);

        // Assert
        Assert.Equal([master, media], digests.Select(d => d.Sha256));
    }
}
