using System.Net;
using System.Net.Sockets;

namespace OpenViduHa.Tests.Support;

internal static class FreePort
{
    private static readonly HashSet<int> _given = [];

    /// <summary>
    /// A TCP port free on 127.0.0.1 right now (the kernel's pick for port 0), never the same one twice in this process:
    /// the port is released before its server binds it, and the kernel may pick it again for a test running in
    /// parallel. Two sshds were then given one port; the second failed to bind, and its node's connections reached the
    /// first one (a host key mismatch in CI, 1 run in about 6).
    /// </summary>
    public static int Get()
    {
        lock (_given)
        {
            while (true)
            {
                using var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                var port = ((IPEndPoint)listener.LocalEndpoint).Port;
                if (_given.Add(port)) return port;
            }
        }
    }

    public static Task WaitUntilListeningAsync(int port, TimeSpan timeout, Func<string> diagnostics) =>
        WaitUntilListeningAsync(IPAddress.Loopback, port, timeout, diagnostics);

    public static async Task WaitUntilListeningAsync(IPAddress address, int port, TimeSpan timeout, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                using var client = new TcpClient();
                await client.ConnectAsync(address, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                throw new TimeoutException($"Nothing listens on {address}:{port} after {timeout.TotalSeconds} s.\n{diagnostics()}");
            }
        }
    }
}
