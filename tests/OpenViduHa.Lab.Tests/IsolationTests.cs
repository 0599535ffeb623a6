using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>Each node is its own machine: its own files, users, host name and /tmp; the host's are never touched.</summary>
public sealed class IsolationTests(TwoNodeLab fixture) : IClassFixture<TwoNodeLab>
{
    private Lab Lab => fixture.Lab;

    [Fact]
    public async Task OptOpenvidu_WrittenOnNode1_IsNeitherOnNode2NorOnTheHost()
    {
        var marker = "isolation-" + Guid.NewGuid().ToString("N");

        var written = await Ssh.RootAsync(Lab.Nodes[0], Lab.Keys, $"mkdir -p /opt/openvidu && echo {marker} > /opt/openvidu/marker");
        var onNode2 = await Ssh.RootAsync(Lab.Nodes[1], Lab.Keys, "cat /opt/openvidu/marker");

        Assert.Equal(0, written.ExitCode);
        Assert.Equal(marker + "\n", Lab.Nodes[0].ReadFile("/opt/openvidu/marker"));
        Assert.NotEqual(0, onNode2.ExitCode);
        Assert.Null(Lab.Nodes[1].ReadFile("/opt/openvidu/marker"));
        Assert.False(File.Exists("/opt/openvidu/marker"));
    }

    [Fact]
    public async Task WriteFile_FromTheHost_IsSeenInsideOnlyThatNode()
    {
        Lab.Nodes[1].WriteFile("/etc/ovha-lab-test/settings.conf", "key=value\n");

        var inside = await Ssh.RootAsync(Lab.Nodes[1], Lab.Keys, "cat /etc/ovha-lab-test/settings.conf");
        var other = await Ssh.RootAsync(Lab.Nodes[0], Lab.Keys, "test -e /etc/ovha-lab-test/settings.conf");

        Assert.Equal("key=value\n", inside.Output);
        Assert.NotEqual(0, other.ExitCode);
        Assert.False(Directory.Exists("/etc/ovha-lab-test"));
        Assert.StartsWith("/proc/", Lab.Nodes[1].HostPath("/etc/ovha-lab-test/settings.conf"));
    }

    [Fact]
    public async Task Users_AreTheNodes_NotTheMachines()
    {
        var result = await Ssh.RootAsync(Lab.Nodes[0], Lab.Keys,
            $"getent passwd {LabUsers.Deploy} {LabUsers.DeployNoPasswd} | cut -d: -f1,6; id -nG {LabUsers.Deploy}; stat -c '%U %a' /etc/shadow /etc/sudoers");

        Assert.Equal($"{LabUsers.Deploy}:/home/{LabUsers.Deploy}\n{LabUsers.DeployNoPasswd}:/home/{LabUsers.DeployNoPasswd}\n" +
                     $"{LabUsers.Deploy} sudo\nroot 640\nroot 440\n", result.Output);
        Assert.DoesNotContain(File.ReadAllLines("/etc/passwd"), l => l.StartsWith(LabUsers.Deploy + ":", StringComparison.Ordinal));
        Assert.DoesNotContain(File.ReadAllLines("/etc/group"), l => l.StartsWith(LabUsers.Deploy + ":", StringComparison.Ordinal));
    }

    [Fact]
    public async Task HostNameAndTmp_ArePerNode()
    {
        await Ssh.RootAsync(Lab.Nodes[0], Lab.Keys, "echo one > /tmp/ovha-lab-same-name");
        await Ssh.RootAsync(Lab.Nodes[1], Lab.Keys, "echo two > /tmp/ovha-lab-same-name");

        var one = await Ssh.RootAsync(Lab.Nodes[0], Lab.Keys, "hostname; cat /tmp/ovha-lab-same-name");
        var two = await Ssh.RootAsync(Lab.Nodes[1], Lab.Keys, "hostname; cat /tmp/ovha-lab-same-name");

        Assert.Equal($"{Lab.Nodes[0].Name}\none\n", one.Output);
        Assert.Equal($"{Lab.Nodes[1].Name}\ntwo\n", two.Output);
        Assert.False(File.Exists("/tmp/ovha-lab-same-name"));
    }

    [Fact]
    public async Task RunAsRoot_WithoutSsh_RunsInsideTheNode()
    {
        var result = await Lab.Nodes[1].RunAsRootAsync("hostname; id -u; command -v systemctl");

        Assert.Equal(0, result.ExitCode);
        Assert.Equal($"{Lab.Nodes[1].Name}\n0\n/usr/local/bin/systemctl\n", result.Output);
    }

    [Fact]
    public void Addresses_AreLoopback_PerLabAndNode()
    {
        Assert.Equal($"127.{Lab.Id}.0.1", Lab.Nodes[0].Address);
        Assert.Equal($"127.{Lab.Id}.0.2", Lab.Nodes[1].Address);
        Assert.NotEqual(Lab.Nodes[0].HostKeyFingerprint, Lab.Nodes[1].HostKeyFingerprint);
    }
}
