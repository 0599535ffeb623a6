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
            InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "media-1", Lab.InstallerBaseUrl)) + " && systemctl start openvidu");
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
