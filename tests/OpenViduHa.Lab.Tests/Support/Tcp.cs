using System.Net.Sockets;

namespace OpenViduHa.Lab.Tests.Support;

/// <summary>Whether ports accept TCP connections, as a firewall check or a load balancer would see them.</summary>
public static class Tcp
{
    public static readonly int[] MasterPorts =
        [7880, 1945, 5349, 7946, 7947, 9095, 9096, 3100, 9009, 4443, 6080, 7000, 7001, 9100, 20000, 3000, 5000, 9101, 9080];

    public static readonly int[] MediaPorts = [7880, 7881, 1935, 5349, 8080];

    /// <summary>True when a connection succeeds, false when it is refused; anything else (a timeout) throws.</summary>
    public static async Task<bool> ListensAsync(string address, int port)
    {
        using var tcp = new TcpClient();
        try
        {
            await tcp.ConnectAsync(address, port).WaitAsync(TimeSpan.FromSeconds(10));
            return true;
        }
        catch (SocketException e) when (e.SocketErrorCode == SocketError.ConnectionRefused)
        {
            return false;
        }
    }

    /// <summary>Those of <paramref name="ports"/> that accept connections, in the order given.</summary>
    public static async Task<int[]> ListeningAsync(string address, IEnumerable<int> ports)
    {
        var listening = new List<int>();
        foreach (var port in ports)
            if (await ListensAsync(address, port)) listening.Add(port);
        return [.. listening];
    }
}
