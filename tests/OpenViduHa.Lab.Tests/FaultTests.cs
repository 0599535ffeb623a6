using System.Globalization;
using System.Net;
using System.Net.Sockets;
using OpenViduHa.Lab.Tests.Support;
using Renci.SshNet.Common;

namespace OpenViduHa.Lab.Tests;

/// <summary>The fault switches on a node: down and up again, a new host key (the installer ones are in InstallerTests).</summary>
public sealed class FaultTests(TwoNodeLab fixture) : IClassFixture<TwoNodeLab>
{
    private Lab Lab => fixture.Lab;

    [Fact]
    public async Task StopSsh_RefusesConnections_DropsSessions_KeepsTheService_StartSshRestores()
    {
        var node = Lab.Nodes[0];
        var install = await Ssh.RootAsync(node, Lab.Keys,
            InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "media-1", Lab.InstallerHttpsBaseUrl)) + " && systemctl start openvidu");
        Assert.True(install.ExitCode == 0, install.Error);
        using var session = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));
        var longCommand = session.RunAsync("sleep 60; echo finished");

        await node.StopSshAsync();

        Assert.False(node.SshRunning);
        var refused = await Assert.ThrowsAsync<SocketException>(async () =>
        {
            using var tcp = new TcpClient();
            await tcp.ConnectAsync(node.Address, 22);
        });
        Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        await Assert.ThrowsAnyAsync<Exception>(() => longCommand.WaitAsync(TimeSpan.FromSeconds(20)));
        using (var http = new HttpClient(new HttpClientHandler { UseProxy = false }))
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{node.Address}:7880/")).StatusCode);

        await node.StartSshAsync();

        Assert.True(node.SshRunning);
        var after = await Ssh.RootAsync(node, Lab.Keys, "systemctl is-active openvidu; cat /opt/openvidu/config/node/media_node.env | head -n 1");
        Assert.Equal("active\nMEDIA_NODE_PRIVATE_IP=10.5.0.11\n", after.Output);
        await Ssh.RootAsync(node, Lab.Keys, "systemctl stop openvidu");
    }

    [Fact]
    public async Task ClosePort_RefusedAtOnce_AcrossRestarts_OpenPortAndClearFaultsReopen()
    {
        var node = Lab.Nodes[0];
        await InstallAsync(node, "media-1");
        try
        {
            node.ClosePort(5349);  // stopped: the next start leaves it closed
            Assert.Equal(0, (await Ssh.RootAsync(node, Lab.Keys, "systemctl start openvidu")).ExitCode);
            Assert.Equal(new[] { 7880, 7881, 1935, 8080 }, await Tcp.ListeningAsync(node.Address, Tcp.MediaPorts));

            node.ClosePort(8080);

            Assert.False(await Tcp.ListensAsync(node.Address, 8080));
            Assert.Equal(new[] { 5349, 8080 }, node.ClosedPorts);
            var restart = await Ssh.RootAsync(node, Lab.Keys, "systemctl restart openvidu && systemctl is-active openvidu");
            Assert.Equal("active\n", restart.Output);
            Assert.Equal(new[] { 7880, 7881, 1935 }, await Tcp.ListeningAsync(node.Address, Tcp.MediaPorts));

            node.OpenPort(8080);

            Assert.True(await Tcp.ListensAsync(node.Address, 8080));
            Assert.Equal(new[] { 5349 }, node.ClosedPorts);

            node.ClosePort(7880);  // the health port too: the service still runs, its API is unreachable
            using var http = new HttpClient(new HttpClientHandler { UseProxy = false });
            var refused = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"http://{node.Address}:7880/"));
            Assert.Equal(SocketError.ConnectionRefused, (refused.InnerException as SocketException)?.SocketErrorCode);
            Assert.True(node.ServiceActive);

            node.ClearFaults();

            Assert.Empty(node.ClosedPorts);
            Assert.Equal(Tcp.MediaPorts, await Tcp.ListeningAsync(node.Address, Tcp.MediaPorts));
            Assert.Equal(HttpStatusCode.OK, (await http.GetAsync($"http://{node.Address}:7880/")).StatusCode);
        }
        finally
        {
            node.ClearFaults();
            await Ssh.RootAsync(node, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task PowerOff_KillsEverythingAndStopsTheService_PowerOnBootsSshAndTheService()
    {
        var node = Lab.Nodes[1];
        await InstallAsync(node, "master-1");
        var start = await Ssh.RootAsync(node, Lab.Keys, "systemctl start openvidu && (setsid sleep 300 </dev/null >/dev/null 2>&1 & echo $!)");
        Assert.Equal(0, start.ExitCode);
        var background = int.Parse(start.Output.Trim(), CultureInfo.InvariantCulture);  // outlives its session: no child of sshd
        using var session = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));
        var longCommand = session.RunAsync("sleep 60; echo finished");
        try
        {
            await node.PowerOffAsync();

            Assert.False(node.PoweredOn);
            Assert.False(node.SshRunning);
            Assert.False(node.ServiceActive);
            Assert.False(await Tcp.ListensAsync(node.Address, 22));
            Assert.Empty(await Tcp.ListeningAsync(node.Address, Tcp.MasterPorts));
            await Assert.ThrowsAnyAsync<Exception>(() => longCommand.WaitAsync(TimeSpan.FromSeconds(20)));
            Assert.False(Tools.IsAlive(background));

            await node.PowerOnAsync();

            Assert.True(node.PoweredOn);
            Assert.True(node.SshRunning);
            Assert.True(node.ServiceActive);
            Assert.Equal(Tcp.MasterPorts, await Tcp.ListeningAsync(node.Address, Tcp.MasterPorts));
            var after = await Ssh.RootAsync(node, Lab.Keys, "systemctl is-active openvidu; journalctl -u openvidu | tail -n 4 | cut -d' ' -f5-");
            Assert.StartsWith("active\nsystemd[1]: Stopped openvidu.service - OpenVidu.\nsystemd[1]: Starting openvidu.service", after.Output);
        }
        finally
        {
            await node.PowerOnAsync();
            await Ssh.RootAsync(node, Lab.Keys, "systemctl stop openvidu");
        }
    }

    [Fact]
    public async Task PowerOn_ServiceStoppedBeforePowerOff_StaysStopped()
    {
        var node = Lab.Nodes[1];
        await InstallAsync(node, "master-1");
        await Ssh.RootAsync(node, Lab.Keys, "systemctl stop openvidu");

        await node.PowerOffAsync();
        await node.PowerOnAsync();

        var active = await Ssh.RootAsync(node, Lab.Keys, "systemctl is-active openvidu");
        Assert.Equal("inactive\n", active.Output);
        Assert.False(node.ServiceActive);
        Assert.False(await Tcp.ListensAsync(node.Address, 7880));
    }

    private async Task InstallAsync(LabNode node, string golden)
    {
        if (node.ReadFile("/etc/systemd/system/openvidu.service") is not null) return;
        var install = await Ssh.RootAsync(node, Lab.Keys, InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, golden, Lab.InstallerHttpsBaseUrl)));
        Assert.True(install.ExitCode == 0, install.Error);
    }

    [Fact]
    public async Task ReplaceHostKey_NewFingerprint_OldPinRejected_KnownHostsUpdated()
    {
        var node = Lab.Nodes[1];
        var before = node.HostKeyFingerprint;

        await node.ReplaceHostKeyAsync();

        Assert.NotEqual(before, node.HostKeyFingerprint);
        await Assert.ThrowsAsync<SshConnectionException>(() => Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519), pinnedFingerprint: before));
        using var client = await Ssh.ConnectAsync(node, Ssh.Key(LabUsers.Root, Lab.Keys.Ed25519));
        var printed = await client.RunAsync("ssh-keygen -lf /etc/ssh/ssh_host_ecdsa_key.pub");
        Assert.Equal(node.HostKeyFingerprint, printed.Output.Split(' ')[1]);
        Assert.Contains(node.KnownHostsLine, File.ReadAllLines(Lab.KnownHostsPath));
    }
}
