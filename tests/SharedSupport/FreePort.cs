using System.Net;
using System.Net.Sockets;

namespace OpenViduHa.Tests.Support;

internal static class FreePort
{
    /// <summary>A TCP port free on 127.0.0.1 right now (the kernel's pick for port 0).</summary>
    public static int Get()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
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
