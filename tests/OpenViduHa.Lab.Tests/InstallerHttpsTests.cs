using System.Net;
using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>
/// The installer over HTTPS, fetched the way the product will: the node's own curl with <c>--proto '=https'
/// --proto-redir '=https'</c> into a file, checked against a pinned SHA-256, then run with <c>sh FILE flags</c>. Node 1
/// fetches, node 2 installs. The lab-wide faults are switched off again by each test that sets them.
/// </summary>
public sealed class InstallerHttpsTests(TwoNodeLab fixture) : IClassFixture<TwoNodeLab>
{
    private const string Banner = "🎉🎉 OpenVidu HA 'Master Node' Installation Finished Successfully! 🎉🎉";
    private const string StrictCurl = "curl -fsSL --proto '=https' --proto-redir '=https'";

    private Lab Lab => fixture.Lab;

    private static string Fetch(string curl, string file, string url) => $"{curl} -o {file} {InstallCommands.Quote(url)}";

    private static string CheckSha256(string sha256, string file) => $"echo '{sha256}  {file}' | sha256sum -c -";

    [Fact]
    public async Task Curl_AsRootAndAsDeployThroughSudo_TrustsTheLabCaWithoutInsecure()
    {
        var node = Lab.Nodes[0];
        var url = Lab.InstallerHttpsUrl("3.8.0", masterNode: true);
        var fetch = $"curl -fsS {InstallCommands.Quote(url)} | sha256sum";
        using var deploy = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Deploy, Lab.Keys.Ed25519));

        var asRoot = await Ssh.RootAsync(node, Lab.Keys, fetch);
        var asDeploy = await deploy.RunAsync("sudo -k -S -p '' sh -c " + InstallCommands.Quote(fetch), input: Lab.DeployPassword + "\n");

        Assert.StartsWith("https://127.0.0.1:", url);
        Assert.EndsWith("/pro/ha/3.8.0/install_ov_master_node.sh", url);
        Assert.Equal("", asRoot.Error);
        Assert.Equal($"{Lab.InstallerSha256("3.8.0", masterNode: true)}  -\n", asRoot.Output);
        Assert.Equal("", asDeploy.Error);
        Assert.Equal($"{Lab.InstallerSha256("3.8.0", masterNode: true)}  -\n", asDeploy.Output);
    }

    [Fact]
    public async Task NodeCaBundle_IsTheMachinesPlusTheLabCa_TheMachinesCurlStillRefuses()
    {
        var node = Lab.Nodes[0];
        var machineBundle = File.Exists(LabCertificates.BundlePath) ? File.ReadAllText(LabCertificates.BundlePath) : "";

        var nodeBundle = node.ReadFile(LabCertificates.BundlePath);
        var fromTheMachine = await Tools.RunAsync("/usr/bin/curl", ["-fsS", "--noproxy", "*", "-o", "/dev/null", Lab.InstallerHttpsUrl("3.8.0", masterNode: true)]);

        Assert.StartsWith("-----BEGIN CERTIFICATE-----\n", Lab.InstallerCaPem);
        Assert.Equal(machineBundle + (machineBundle is "" or [.., '\n'] ? "" : "\n") + Lab.InstallerCaPem, nodeBundle);
        Assert.DoesNotContain(Lab.InstallerCaPem.Trim(), machineBundle);
        Assert.Equal(60, fromTheMachine.ExitCode);  // CURLE_PEER_FAILED_VERIFICATION: the machine does not trust the lab CA
    }

    [Fact]
    public async Task HttpsServer_FromTheHostTrustingTheLabCa_ServesTheHttpBytes_AndCountsDownloads()
    {
        using var ca = X509Certificate2.CreateFromPem(Lab.InstallerCaPem);
        var policy = new X509ChainPolicy { TrustMode = X509ChainTrustMode.CustomRootTrust, RevocationMode = X509RevocationMode.NoCheck };
        policy.CustomTrustStore.Add(ca);
        using var https = new HttpClient(new SocketsHttpHandler
        {
            UseProxy = false,
            SslOptions = new SslClientAuthenticationOptions { CertificateChainPolicy = policy },
        });
        using var http = new HttpClient(new SocketsHttpHandler { UseProxy = false });
        var downloads = Lab.InstallerDownloads;

        var overHttps = await https.GetByteArrayAsync(Lab.InstallerHttpsUrl("3.8.0", masterNode: true));
        var overHttp = await http.GetByteArrayAsync(Lab.InstallerUrl("3.8.0", masterNode: true));
        var latestMedia = await https.GetByteArrayAsync(Lab.InstallerHttpsUrl("latest", masterNode: false));
        var unserved = await https.GetAsync(Lab.InstallerHttpsUrl("3.1.0", masterNode: true));

        Assert.Equal(overHttp, overHttps);
        Assert.Equal(Lab.InstallerSha256("3.8.0", masterNode: true), Convert.ToHexStringLower(SHA256.HashData(overHttps)));
        Assert.Equal(Lab.InstallerSha256("3.8.0", masterNode: false), Convert.ToHexStringLower(SHA256.HashData(latestMedia)));
        Assert.NotEqual(Lab.InstallerSha256("3.8.0", masterNode: true), Lab.InstallerSha256("3.0.0", masterNode: true));
        Assert.Equal(HttpStatusCode.NotFound, unserved.StatusCode);
        Assert.Equal(downloads + 3, Lab.InstallerDownloads);
    }

    [Fact]
    public void InstallerSha256_UnservedScript_ThrowsArgumentException()
    {
        Assert.Throws<ArgumentException>(() => Lab.InstallerSha256("3.1.0", masterNode: true));
    }

    [Fact]
    public async Task FetchCheckAndRun_OverHttpsWithThePinnedSha256_Installs()
    {
        var node = Lab.Nodes[1];
        const string file = "/root/ovha-installer/install_ov_master_node.sh";
        var install = InstallCommands.FromFile(InstallCommands.For(InstallCommands.V380, "master-1", Lab.InstallerHttpsBaseUrl), file);

        var result = await Ssh.RootAsync(node, Lab.Keys,
            $"mkdir -p -m 700 /root/ovha-installer && {Fetch(StrictCurl, file, Lab.InstallerHttpsUrl("3.8.0", masterNode: true))} && " +
            $"{CheckSha256(Lab.InstallerSha256("3.8.0", masterNode: true), file)} && {install}");

        Assert.True(result.ExitCode == 0, result.Error);
        Assert.StartsWith($"{file}: OK\n", result.Output);
        Assert.Contains(Banner, result.Output);
        Assert.Contains("DOMAIN_NAME=openvidu.example.io\n", node.ReadFile("/opt/openvidu/config/cluster/openvidu.env"));
    }

    [Fact]
    public async Task RedirectsToHttp_CurlWithProtoRedirHttpsFails_PlainCurlFollowsToHttp()
    {
        var node = Lab.Nodes[0];
        var url = Lab.InstallerHttpsUrl("3.8.0", masterNode: true);
        var downloads = Lab.InstallerDownloads;
        Lab.InstallerRedirectsToHttp = true;
        try
        {
            var answer = await Ssh.RootAsync(node, Lab.Keys, $"curl -sS -o /dev/null -w '%{{http_code}} %{{redirect_url}}' {InstallCommands.Quote(url)}");
            var strict = await Ssh.RootAsync(node, Lab.Keys, Fetch(StrictCurl, "/root/redirect-strict.sh", url));
            var plain = await Ssh.RootAsync(node, Lab.Keys, Fetch("curl -fsSL", "/root/redirect-plain.sh", url) + " && sha256sum < /root/redirect-plain.sh");

            Assert.Equal($"302 {Lab.InstallerUrl("3.8.0", masterNode: true)}", answer.Output);
            Assert.Equal(1, strict.ExitCode);  // CURLE_UNSUPPORTED_PROTOCOL
            Assert.Contains("Protocol \"http\" not supported", strict.Error);
            Assert.Null(node.ReadFile("/root/redirect-strict.sh"));
            Assert.True(plain.ExitCode == 0, plain.Error);
            Assert.Equal($"{Lab.InstallerSha256("3.8.0", masterNode: true)}  -\n", plain.Output);
            Assert.Equal(downloads + 1, Lab.InstallerDownloads);  // the plain curl's, over http; a 302 is no download
        }
        finally
        {
            Lab.InstallerRedirectsToHttp = false;
        }
        var after = await Ssh.RootAsync(node, Lab.Keys, Fetch(StrictCurl, "/root/redirect-strict.sh", url));
        Assert.True(after.ExitCode == 0, after.Error);
    }

    [Fact]
    public async Task Tampered_BothServersServeAScriptThatStillInstalls_ButFailsThePinnedSha256()
    {
        var node = Lab.Nodes[1];
        const string file = "/root/ovha-installer/tampered.sh";
        var sha256 = Lab.InstallerSha256("3.8.0", masterNode: true);
        var install = InstallCommands.FromFile(InstallCommands.For(InstallCommands.V380, "master-2", Lab.InstallerHttpsBaseUrl), file);
        Lab.InstallerTampered = true;
        try
        {
            var overHttps = await Ssh.RootAsync(node, Lab.Keys,
                $"mkdir -p -m 700 /root/ovha-installer && {Fetch(StrictCurl, file, Lab.InstallerHttpsUrl("3.8.0", masterNode: true))} && " +
                CheckSha256(sha256, file));
            var overHttp = await Ssh.RootAsync(node, Lab.Keys, $"curl -fsS {InstallCommands.Quote(Lab.InstallerUrl("3.8.0", masterNode: true))} | sha256sum");
            var installed = await Ssh.RootAsync(node, Lab.Keys, install);

            Assert.Equal(1, overHttps.ExitCode);
            Assert.Equal($"{file}: FAILED\n", overHttps.Output);
            Assert.StartsWith("#!/bin/sh\n# tampered by the lab\n# OpenViduHa.Lab stand-in", node.ReadFile(file));
            Assert.NotEqual($"{sha256}  -\n", overHttp.Output);
            Assert.Matches("^[0-9a-f]{64}  -\n$", overHttp.Output);
            Assert.True(installed.ExitCode == 0, installed.Error);
            Assert.Contains(Banner, installed.Output);
        }
        finally
        {
            Lab.InstallerTampered = false;
        }
        var untampered = await Ssh.RootAsync(node, Lab.Keys,
            $"{Fetch(StrictCurl, file, Lab.InstallerHttpsUrl("3.8.0", masterNode: true))} && {CheckSha256(sha256, file)}");
        Assert.True(untampered.ExitCode == 0, untampered.Output + untampered.Error);
    }
}
