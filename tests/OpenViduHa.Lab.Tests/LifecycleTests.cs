using System.Globalization;
using System.Net.Sockets;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>Labs start fast, never collide, and leave nothing behind however they end.</summary>
public sealed class LifecycleTests
{
    private static readonly LabOptions _small = new() { Nodes = 2, InstallerDelay = TimeSpan.Zero };

    [Fact]
    public async Task Dispose_EndsEveryProcess_AndDeletesItsFolder()
    {
        var lab = await Lab.StartAsync(_small);
        var running = await BusyAsync(lab);

        await lab.DisposeAsync();

        await AssertGoneAsync(lab, running);
    }

    [Fact]
    public async Task TestProcessDeath_SupervisorEndsTheLabByItself()
    {
        var lab = await Lab.StartAsync(_small);
        var running = await BusyAsync(lab);

        // What a test process killed outright leaves: the supervisor's stdin closes, nobody says "teardown".
        Assert.True(lab.Supervisor.CloseAndWait(TimeSpan.FromSeconds(20)));

        await AssertGoneAsync(lab, running);
        await lab.DisposeAsync();
    }

    [Fact]
    public async Task KilledSupervisor_DisposeStillEndsEverything()
    {
        var lab = await Lab.StartAsync(_small);
        var running = await BusyAsync(lab);

        Tools.Kill(lab.Supervisor.Pid);
        await lab.DisposeAsync();

        await AssertGoneAsync(lab, running);
    }

    [Fact]
    public async Task ParallelLabs_GetTheirOwnIdsAndAddresses()
    {
        var labs = await Task.WhenAll(Lab.StartAsync(_small), Lab.StartAsync(_small), Lab.StartAsync(_small));
        try
        {
            Assert.Equal(3, labs.Select(l => l.Id).Distinct().Count());
            var addresses = labs.SelectMany(l => l.Nodes.Select(n => n.Address)).ToList();
            Assert.Equal(addresses.Count, addresses.Distinct().Count());
            Assert.All(addresses, a => Assert.Matches(@"^127\.([1-9]|[1-9]\d|1\d\d|2[0-4]\d|250)\.0\.[12]$", a));
            foreach (var lab in labs)
                Assert.Equal(lab.Nodes[1].Name + "\n", (await Ssh.RootAsync(lab.Nodes[1], lab.Keys, "hostname")).Output);
        }
        finally
        {
            foreach (var lab in labs) await lab.DisposeAsync();
        }
    }

    [Fact]
    public async Task SixNodes_StartInUnderFiveSeconds()
    {
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = 6 });

        Assert.InRange(lab.StartupTime, TimeSpan.Zero, TimeSpan.FromSeconds(5));
        Assert.Equal(6, lab.Nodes.Count);
    }

    [Fact]
    public async Task HundredNodes_StartAndAnswer_AndHoldEveryMastersPorts()
    {
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = 100, InstallerDelay = TimeSpan.Zero });

        Assert.Equal($"127.{lab.Id}.0.100", lab.Nodes[99].Address);
        foreach (var node in new[] { lab.Nodes[0], lab.Nodes[49], lab.Nodes[99] })
            Assert.Equal(node.Name + "\n", (await Ssh.RootAsync(node, lab.Keys, "hostname")).Output);
        Assert.True(lab.StartupTime > TimeSpan.Zero); // how long it takes is the README's table, not a test's bound

        // 100 masters' services, 19 listening sockets each, in the one service host: installed as the installer would
        // leave them (without 100 installer runs) and started as systemctl.sh starts them.
        foreach (var node in lab.Nodes)
        {
            node.WriteFile("/etc/systemd/system/openvidu.service", "[Unit]\nDescription=OpenVidu HA Master Node\n");
            node.WriteFile("/usr/local/lib/ovha-lab/installed", "ROLE=master-node\nVERSION=3.8.0\nGENERATION=current\nMODULES=\n");
        }
        Assert.All(lab.Nodes, node => Assert.Equal(0, node.AskServiceHost("start")));

        Assert.Equal(100 * Tcp.MasterPorts.Length, ListeningSockets($"127.{lab.Id}.").Count(s => s.Port != 22));
        Assert.Equal(Tcp.MasterPorts, await Tcp.ListeningAsync(lab.Nodes[99].Address, Tcp.MasterPorts));
        var host = int.Parse(File.ReadAllText(Path.Combine(lab.Directory, "share", "service-host.pid")).Trim(), CultureInfo.InvariantCulture);
        var openFiles = File.ReadLines($"/proc/{host}/limits").Single(l => l.StartsWith("Max open files", StringComparison.Ordinal))
            .Split(' ', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(openFiles[3], openFiles[4]);  // soft limit = hard limit
    }

    /// <summary>Listening TCP sockets whose address starts with <paramref name="prefix"/>, from /proc/net/tcp.</summary>
    private static List<(string Address, int Port)> ListeningSockets(string prefix)
    {
        var found = new List<(string, int)>();
        foreach (var line in File.ReadLines("/proc/net/tcp").Skip(1))
        {
            var fields = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (fields[3] != "0A") continue;
            var local = fields[1].Split(':');
            var raw = uint.Parse(local[0], NumberStyles.HexNumber, CultureInfo.InvariantCulture);
            var address = string.Join('.', BitConverter.GetBytes(raw));  // little-endian, as the kernel prints it here
            if (address.StartsWith(prefix, StringComparison.Ordinal))
                found.Add((address, int.Parse(local[1], NumberStyles.HexNumber, CultureInfo.InvariantCulture)));
        }
        return found;
    }

    /// <summary>
    /// Gives the lab a running service and a background command; returns every process in its nodes' namespaces, read
    /// while the lab runs (afterwards a namespace's number may belong to another lab: pids are not reused that fast).
    /// </summary>
    private static async Task<List<int>> BusyAsync(Lab lab)
    {
        var node = lab.Nodes[0];
        var result = await Ssh.RootAsync(node, lab.Keys,
            InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "master-1", lab.InstallerHttpsBaseUrl)) +
            " && systemctl start openvidu && (sleep 300 >/dev/null 2>&1 &)");
        Assert.True(result.ExitCode == 0, result.Error);
        Assert.True(node.ServiceActive);
        var processes = InNamespaces(lab.Nodes.Select(n => n.Namespace).ToArray());
        // Each node's holder and sshd, and the background sleep (the service runs in the lab's service host, outside the nodes).
        Assert.True(processes.Count >= 2 * lab.Nodes.Count + 1, $"{processes.Count} processes");
        return processes;
    }

    private static async Task AssertGoneAsync(Lab lab, List<int> processes)
    {
        var deadline = DateTime.UtcNow.AddSeconds(20);
        List<int> left;
        while ((left = processes.Where(Tools.IsAlive).ToList()).Count > 0 && DateTime.UtcNow < deadline) await Task.Delay(100);
        Assert.Empty(left);
        foreach (var port in new[] { 22, 7880 })
        {
            var refused = await Assert.ThrowsAsync<SocketException>(async () =>
            {
                using var tcp = new TcpClient();
                await tcp.ConnectAsync(lab.Nodes[0].Address, port);
            });
            Assert.Equal(SocketError.ConnectionRefused, refused.SocketErrorCode);
        }
        Assert.False(Directory.Exists(lab.Directory));
    }

    private static List<int> InNamespaces(string[] namespaces)
    {
        var found = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            try
            {
                if (namespaces.Contains(new FileInfo(Path.Combine(dir, "ns", "mnt")).LinkTarget) && Tools.IsAlive(pid)) found.Add(pid);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
            }
        }
        return found;
    }
}
