using System.Globalization;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Text;
using OpenViduHa.Lab.Tests.Support;

namespace OpenViduHa.Lab.Tests;

/// <summary>The lab's service host (one event loop for every node's service) when events of one round depend on each other.</summary>
public sealed class ServiceHostTests
{
    [Fact]
    public async Task Stop_InTheSameRoundAsDataOnOneOfItsConnections_HostSurvivesAndAnswersTheNextRequest()
    {
        // Arrange: a started media node with an accepted echo connection; the host paused, so that the stop request and
        // then data on that connection are both waiting when it resumes: one round of events, the stop first.
        await using var lab = await Lab.StartAsync(new LabOptions { Nodes = 1, InstallerDelay = TimeSpan.Zero });
        var node = lab.Nodes[0];
        var install = await Ssh.RootAsync(node, lab.Keys,
            InstallCommands.BashC(InstallCommands.For(InstallCommands.V380, "media-1", lab.InstallerHttpsBaseUrl)) + " && systemctl start openvidu");
        Assert.True(install.ExitCode == 0, install.Error);
        using var client = new TcpClient();
        await client.ConnectAsync(node.Address, 7881);
        var stream = client.GetStream();
        var banner = new byte[64];
        Assert.StartsWith("ovha-lab ", Encoding.ASCII.GetString(banner, 0, await stream.ReadAsync(banner))); // accepted
        var host = int.Parse(File.ReadAllText(Path.Combine(lab.Directory, "share", "service-host.pid")).Trim(), CultureInfo.InvariantCulture);
        var fifo = Path.Combine(lab.Directory, "share", "service.fifo");
        Task<int> stop;
        Assert.Equal(0, Native.Kill(host, Native.SigStop));
        try
        {
            stop = Task.Run(() => node.AskServiceHost("stop"));
            await WaitUntilAsync(() => Native.BytesWaiting(fifo) > 0, "the stop request written");
            await stream.WriteAsync("data for a connection the stop closes\n"u8.ToArray());
        }
        finally
        {
            Assert.Equal(0, Native.Kill(host, Native.SigCont));
        }

        // Act
        var stopped = await stop;
        var started = await Task.Run(() => node.AskServiceHost("start"));

        // Assert
        Assert.Equal(0, stopped);
        Assert.Equal(0, started);
        Assert.True(Tools.IsAlive(host), File.ReadAllText(Path.Combine(lab.Directory, "service-host.log")));
        Assert.True(node.ServiceActive);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (!condition())
        {
            if (DateTime.UtcNow > deadline) throw new TimeoutException($"Not reached: {what}.");
            await Task.Delay(10);
        }
    }

    /// <summary>Signals and FIONREAD, which .NET has no API for (classic P/Invoke: this project has no unsafe code).</summary>
    private static class Native
    {
        public const int SigCont = 18;
        public const int SigStop = 19;
        private const ulong FionRead = 0x541B;

        /// <summary>Bytes written to a FIFO and not read yet (FIONREAD on a reader of our own, which reads nothing).</summary>
        public static int BytesWaiting(string fifo)
        {
            // The host holds the FIFO open read-write, so opening it for reading does not wait for a writer.
            using var handle = File.OpenHandle(fifo, FileMode.Open, FileAccess.Read);
            return Ioctl((int)handle.DangerousGetHandle(), FionRead, out var count) == 0
                ? count
                : throw new IOException($"ioctl FIONREAD: errno {Marshal.GetLastPInvokeError()}");
        }

        [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
        public static extern int Kill(int pid, int signal);

        [DllImport("libc", EntryPoint = "ioctl", SetLastError = true)]
        private static extern int Ioctl(int fd, ulong request, out int count);
    }
}
