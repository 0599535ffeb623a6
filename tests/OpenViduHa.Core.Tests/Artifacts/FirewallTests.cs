using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class FirewallTests
{
    private const string Lb = TestClusters.LoadBalancerIp;

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Master_Observability_OpensMimirAndLokiPortsOnlyWithTheModule(string version)
    {
        // Arrange
        var with = TestClusters.Full(version);
        var without = TestClusters.WithoutModule(with, Modules.Observability);

        // Act
        var withRules = MasterRules(with);
        var withoutRules = MasterRules(without);

        // Assert
        foreach (var master in TestClusters.MasterIps)
        {
            Assert.Contains(("tcp", master, "7946:7947"), withRules);
            Assert.Contains(("tcp", master, "9095:9096"), withRules);
        }
        foreach (var media in TestClusters.MediaIps)
        {
            Assert.Contains(("tcp", media, "3100"), withRules);
            Assert.Contains(("tcp", media, "9009"), withRules);
        }
        Assert.DoesNotContain(withoutRules, r => r.Port is "7946:7947" or "9095:9096" or "3100" or "9009");
    }

    [Fact]
    public void Master_V30V2Compatibility_Opens4443FromMediaOnlyWithTheModule()
    {
        // Arrange
        var with = TestClusters.Full("3.0.0");
        var without = TestClusters.WithoutModule(with, Modules.V2Compatibility);

        // Act
        var withRules = MasterRules(with);
        var withoutRules = MasterRules(without);

        // Assert
        Assert.Contains(("tcp", "10.5.0.11", "4443"), withRules);
        Assert.Contains(("tcp", "10.5.0.12", "4443"), withRules);
        Assert.DoesNotContain(withRules, r => r.Port == "4443" && TestClusters.MasterIps.Contains(r.From));
        Assert.DoesNotContain(withoutRules, r => r.Port == "4443");
    }

    [Fact]
    public void Master_V30DefaultApp_Opens6080FromMediaOnlyWithTheModule()
    {
        // Arrange
        var with = TestClusters.Full("3.0.0");
        var without = TestClusters.WithoutModule(with, Modules.App);

        // Act
        var withRules = MasterRules(with);
        var withoutRules = MasterRules(without);

        // Assert
        Assert.Contains(("tcp", "10.5.0.11", "6080"), withRules);
        Assert.DoesNotContain(withoutRules, r => r.Port == "6080");
        Assert.DoesNotContain(MasterRules(TestClusters.Full("3.8.0")), r => r.Port == "6080");
    }

    [Fact]
    public void Master_CurrentGeneration_OpensItsExtraInternalPortsWhich30DoesNot()
    {
        // Act
        var current = MasterRules(TestClusters.Minimal("3.8.0"));
        var v30 = MasterRules(TestClusters.Minimal("3.0.0"));

        // Assert
        foreach (var port in new[] { "3000", "5000", "9101" })
        {
            Assert.Contains(("tcp", "10.5.0.2", port), current);
            Assert.DoesNotContain(current, r => r.Port == port && TestClusters.MediaIps.Contains(r.From));
            Assert.DoesNotContain(v30, r => r.Port == port);
        }
        foreach (var port in new[] { "9080", "4443" })
        {
            Assert.Contains(("tcp", "10.5.0.3", port), current);
            Assert.Contains(("tcp", "10.5.0.12", port), current);
            Assert.DoesNotContain(v30, r => r.Port == port);
        }
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Master_Always_OpensLoadBalancerAndInternalPorts(string version)
    {
        // Act
        var rules = MasterRules(TestClusters.Minimal(version) with { LoadBalancerIp = Lb });

        // Assert
        Assert.Contains(("tcp", Lb, "7880"), rules);
        foreach (var source in TestClusters.MasterIps.Concat(TestClusters.MediaIps))
        {
            Assert.Contains(("tcp", source, "7000:7001"), rules);
            Assert.Contains(("tcp", source, "9100"), rules);
            Assert.Contains(("tcp", source, "20000"), rules);
        }
    }

    [Fact]
    public void Rtmp_V30Enabled_OpensMedia1935FromLoadBalancerOnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.0.0");
        var off = on with { Rtmp = false };

        // Act
        var onMedia = MediaRules(on);

        // Assert: the 3.0 guide, RTMPS ends at the LB which passes RTMP to the media nodes.
        Assert.Contains(("tcp", Lb, "1935"), onMedia);
        Assert.DoesNotContain(onMedia, r => r.Port == "1935" && r.From != Lb);
        Assert.DoesNotContain(MediaRules(off), r => r.Port == "1935");
        Assert.DoesNotContain(MasterRules(on), r => r.Port == "1945");
    }

    [Fact]
    public void Rtmp_CurrentEnabled_OpensMaster1945FromLoadBalancerAndMedia1935FromMastersOnlyWhenOn()
    {
        // Arrange
        var on = TestClusters.Full("3.8.0");
        var off = on with { Rtmp = false };

        // Act
        var onMedia = MediaRules(on);

        // Assert: RTMPS ends at the LB, which passes RTMP to the masters' 1945; only the masters reach the media nodes.
        Assert.Contains(("tcp", Lb, "1945"), MasterRules(on));
        Assert.DoesNotContain(MasterRules(on), r => r.Port == "1945" && r.From != Lb);
        Assert.Equal(TestClusters.MasterIps, onMedia.Where(r => r.Port == "1935").Select(r => r.From));
        Assert.DoesNotContain(MasterRules(off), r => r.Port == "1945");
        Assert.DoesNotContain(MediaRules(off), r => r.Port == "1935");
    }

    [Fact]
    public void TurnTls_V30TurnDomainSet_OpensMedia5349FromLoadBalancerOnlyWithTurnDomain()
    {
        // Arrange
        var on = TestClusters.Full("3.0.0");
        var off = TestClusters.NoTurn("3.0.0");

        // Act
        var onMedia = MediaRules(on);

        // Assert
        Assert.Contains(("tcp", Lb, "5349"), onMedia);
        Assert.DoesNotContain(onMedia, r => r.Port == "5349" && r.From != Lb);
        Assert.DoesNotContain(MediaRules(off), r => r.Port == "5349");
        Assert.DoesNotContain(MasterRules(on), r => r.Port == "5349");
    }

    [Fact]
    public void TurnTls_CurrentTurnDomainSet_OpensMaster5349FromLoadBalancerAndMedia5349FromMastersOnlyWithTurnDomain()
    {
        // Arrange
        var on = TestClusters.Full("3.8.0");
        var off = TestClusters.NoTurn("3.8.0");

        // Act
        var onMedia = MediaRules(on);

        // Assert
        Assert.Contains(("tcp", Lb, "5349"), MasterRules(on));
        Assert.DoesNotContain(MasterRules(on), r => r.Port == "5349" && r.From != Lb);
        Assert.Equal(TestClusters.MasterIps, onMedia.Where(r => r.Port == "5349").Select(r => r.From));
        Assert.DoesNotContain(MasterRules(off), r => r.Port == "5349");
        Assert.DoesNotContain(MediaRules(off), r => r.Port == "5349");
    }

    [Fact]
    public void Media_CurrentGeneration_NothingFromTheLoadBalancer()
    {
        // Act
        var script = Generate(TestClusters.Full("3.8.0") with { LoadBalancerIp = null }, FirewallArtifact.MediaName);

        // Assert: the media nodes are never a target of the LB, so their script needs no LB address at all.
        Assert.DoesNotContain(Rules(script), r => r.From == Lb || r.From == "\"$LB_IP\"");
        Assert.DoesNotContain("LB_IP", script);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Whip_Enabled_OpensUdp7885AnywhereAndTcp8080FromMastersOnlyWhenOn(string version)
    {
        // Arrange
        var on = TestClusters.Full(version);
        var off = on with { Whip = false };

        // Act
        var onRules = MediaRules(on);
        var offRules = MediaRules(off);

        // Assert
        Assert.Contains(("udp", "any", "7885"), onRules);
        foreach (var master in TestClusters.MasterIps) Assert.Contains(("tcp", master, "8080"), onRules);
        Assert.DoesNotContain(onRules, r => r.Port == "8080" && !TestClusters.MasterIps.Contains(r.From));
        Assert.DoesNotContain(offRules, r => r.Port is "7885" or "8080");
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void WebrtcOverTcp_Enabled_OpensTcp7881AnywhereOnlyWhenOn(string version)
    {
        // Arrange
        var on = TestClusters.Full(version);
        var off = on with { WebrtcOverTcp = false };

        // Act + Assert
        Assert.Contains(("tcp", "any", "7881"), MediaRules(on));
        Assert.DoesNotContain(MediaRules(off), r => r.Port == "7881");
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Media_Always_OpensWebRtcFromAnywhereAndLiveKitFromMasters(string version)
    {
        // Act
        var rules = MediaRules(TestClusters.Minimal(version));

        // Assert
        Assert.Contains(("udp", "any", "443"), rules);
        Assert.Contains(("udp", "any", "50000:60000"), rules);
        foreach (var master in TestClusters.MasterIps) Assert.Contains(("tcp", master, "7880"), rules);
        Assert.DoesNotContain(rules, r => r.Port == "7880" && !TestClusters.MasterIps.Contains(r.From));
    }

    [Fact]
    public void Script_LoadBalancerIpUnknown_RequiresLbIpVariable()
    {
        // Arrange
        var unknown = TestClusters.Full("3.8.0") with { LoadBalancerIp = null };

        // Act
        var master = Generate(unknown, FirewallArtifact.MasterName);
        var known = Generate(TestClusters.Full("3.8.0"), FirewallArtifact.MasterName);

        // Assert
        Assert.Contains("LB_IP=\"${LB_IP:?set LB_IP to the load balancer IP}\"", master);
        Assert.Contains("ufw allow proto tcp from \"$LB_IP\" to any port 7880 ", master);
        Assert.DoesNotContain("LB_IP", known);
        Assert.Contains($"ufw allow proto tcp from {Lb} to any port 7880 ", known);
    }

    [Fact]
    public async Task Script_RunWithoutLbIp_FailsBeforeTouchingTheFirewall()
    {
        // Arrange
        var script = Generate(TestClusters.Minimal("3.8.0"), FirewallArtifact.MasterName);

        // Act
        var (result, calls) = await RunWithUfwStubAsync(script, lbIp: null);

        // Assert
        Assert.NotEqual(0, result.ExitCode);
        Assert.Contains("set LB_IP to the load balancer IP", result.StdErr);
        Assert.Empty(calls);
    }

    [Fact]
    public async Task Script_RunWithLbIp_KeepsSshThenDeniesThenAllowsThenEnables()
    {
        // Arrange
        var script = Generate(TestClusters.Minimal("3.8.0"), FirewallArtifact.MasterName);

        // Act
        var (result, calls) = await RunWithUfwStubAsync(script, lbIp: "192.0.2.10");

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("allow 22/tcp comment SSH: keep remote administration", calls[0]);
        Assert.Equal("default deny incoming", calls[1]);
        Assert.Equal("default allow outgoing", calls[2]);
        Assert.StartsWith("allow proto tcp from 192.0.2.10 to any port 7880 comment ", calls[3]);
        Assert.Equal("--force enable", calls[^2]);
        Assert.Equal("status verbose", calls[^1]);
        Assert.All(calls.Skip(3).SkipLast(2), call => Assert.StartsWith("allow proto tcp from ", call));
    }

    [Fact]
    public async Task Script_Media_EveryRuleHasAComment()
    {
        // Arrange
        var script = Generate(TestClusters.Full("3.0.0"), FirewallArtifact.MediaName);

        // Act
        var (result, calls) = await RunWithUfwStubAsync(script, lbIp: null);

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        var allows = calls.Where(c => c.StartsWith("allow ", StringComparison.Ordinal)).ToList();
        Assert.NotEmpty(allows);
        Assert.All(allows, call => Assert.Matches(" comment \\S", call));
    }

    /// <summary>Every master's sshd on 2222: the script keeps 2222 open, not 22 (which would lock the panel out).</summary>
    [Fact]
    public async Task Script_NodesOnAnotherSshPort_KeepsThatPortOpen()
    {
        var cluster = TestClusters.Minimal("3.8.0");
        cluster = cluster with { Nodes = cluster.Nodes.Select(n => n with { SshPort = 2222 }).ToList() };

        var (result, calls) = await RunWithUfwStubAsync(Generate(cluster, FirewallArtifact.MasterName), lbIp: "192.0.2.10");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal("allow 2222/tcp comment SSH: keep remote administration", calls[0]);
        Assert.DoesNotContain(calls, c => c.StartsWith("allow 22/", StringComparison.Ordinal));
    }

    /// <summary>Media nodes on different SSH ports: one script, and each node keeps its own port open (found by its private IP).</summary>
    [Theory]
    [InlineData("10.5.0.11", "2201")]
    [InlineData("10.5.0.12", "2202")]
    public async Task Script_EachNodeItsOwnSshPort_FoundByItsAddress(string address, string port)
    {
        var cluster = TestClusters.Full("3.8.0");
        cluster = cluster with { Nodes = cluster.Nodes.Select(n => n.PrivateIp switch { "10.5.0.11" => n with { SshPort = 2201 }, "10.5.0.12" => n with { SshPort = 2202 }, _ => n }).ToList() };

        var (result, calls) = await RunWithUfwStubAsync(Generate(cluster, FirewallArtifact.MediaName), lbIp: "192.0.2.10", addresses: $"192.0.2.99 {address}");

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"allow {port}/tcp comment SSH: keep remote administration", calls[0]);
    }

    [Fact]
    public async Task Script_SshPortsDiffer_OnAMachineThatIsNoNode_FailsBeforeTouchingTheFirewall()
    {
        var cluster = TestClusters.Full("3.8.0");
        cluster = cluster with { Nodes = cluster.Nodes.Select(n => n.PrivateIp == "10.5.0.12" ? n with { SshPort = 2202 } : n).ToList() };

        var (result, calls) = await RunWithUfwStubAsync(Generate(cluster, FirewallArtifact.MediaName), lbIp: "192.0.2.10", addresses: "192.0.2.99");

        Assert.NotEqual(0, result.ExitCode);
        Assert.True(result.StdErr.Contains("set SSH_PORT to its sshd port", StringComparison.Ordinal), result.StdErr);
        Assert.Empty(calls);
    }

    private static string Generate(ClusterDefinition cluster, string name) => ArtifactCatalog.Generate(cluster, name).Content;

    private static List<(string Protocol, string From, string Port)> MasterRules(ClusterDefinition cluster) =>
        Rules(Generate(cluster, FirewallArtifact.MasterName));

    private static List<(string Protocol, string From, string Port)> MediaRules(ClusterDefinition cluster) =>
        Rules(Generate(cluster, FirewallArtifact.MediaName));

    /// <summary>The script's <c>ufw allow proto P from S to any port N comment '...'</c> lines as (P, S, N).</summary>
    private static List<(string Protocol, string From, string Port)> Rules(string script) =>
        script.Split('\n')
            .Where(line => line.StartsWith("ufw allow proto ", StringComparison.Ordinal))
            .Select(line => line.Split(' '))
            .Select(t =>
            {
                Assert.Equal(["from", "to", "any", "port", "comment"], new[] { t[4], t[6], t[7], t[8], t[10] });
                return (t[3], t[5], t[9]);
            })
            .ToList();

    /// <summary>Runs a firewall script with <c>ufw</c> replaced by a stub that records each call's arguments.</summary>
    private static async Task<(ProcessResult Result, List<string> Calls)> RunWithUfwStubAsync(string script, string? lbIp, string? addresses = null)
    {
        using var dir = new TempDirectory();
        dir.Write("bin/ufw", "#!/bin/bash\nprintf '%s\\n' \"$*\" >> \"$UFW_LOG\"\n", (UnixFileMode)0b111_101_101);
        // The machine's own addresses, as `hostname -I` lists them on the node the script runs on.
        if (addresses is not null) dir.Write("bin/hostname", $"#!/bin/bash\necho '{addresses}'\n", (UnixFileMode)0b111_101_101);
        var log = dir.File("ufw.log");
        var environment = new Dictionary<string, string> { ["PATH"] = $"{dir.File("bin")}:/usr/bin:/bin", ["UFW_LOG"] = log };
        environment["LB_IP"] = lbIp ?? ""; // never inherit one from the test runner
        var result = await ProcessRunner.RunAsync(RequiredTools.Bash, [dir.Write("firewall.sh", script)], environment);
        var calls = File.Exists(log) ? File.ReadAllLines(log).ToList() : [];
        return (result, calls);
    }
}
