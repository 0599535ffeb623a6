using System.Net;
using System.Net.Sockets;
using System.Text;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// A tiny HTTP/1.1 server on a loopback address standing in for a node: every request gets <c>200</c> with the
/// backend's own address as the body and <c>Connection: close</c>, except <c>/health/caddy</c>, which answers 200 or 503
/// according to <see cref="Healthy"/>. A TcpListener, because Kestrel is not referenced here and HttpListener does not bind
/// arbitrary 127.x addresses.
/// </summary>
internal sealed class HttpBackend : IDisposable
{
    private readonly TcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private int _requests;
    private int _healthChecks;

    private HttpBackend(IPAddress address, int port)
    {
        if (!IPAddress.IsLoopback(address)) throw new ArgumentException("Test backends bind loopback addresses only.", nameof(address));
        Address = address.ToString();
        _listener = new TcpListener(address, port);
        _listener.Server.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
        _listener.Start();
        _ = AcceptLoopAsync();
    }

    public string Address { get; }

    public volatile bool Healthy = true;

    /// <summary>Requests other than health checks.</summary>
    public int Requests => Volatile.Read(ref _requests);

    public int HealthChecks => Volatile.Read(ref _healthChecks);

    public static HttpBackend Start(string address, int port) => new(IPAddress.Parse(address), port);

    public void Dispose()
    {
        _stop.Cancel();
        _listener.Stop();
        _listener.Dispose();
    }

    private async Task AcceptLoopAsync()
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await _listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            _ = Task.Run(() => ServeAsync(client));
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using (client)
        {
            try
            {
                using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
                timeout.CancelAfter(TimeSpan.FromSeconds(5));
                var stream = client.GetStream();
                var request = await ReadHeadAsync(stream, timeout.Token);
                if (request is null) return; // a TCP connect check, or a client that gave up
                var path = request.Split(' ') is [_, var target, ..] ? target : "/";
                int status;
                string body;
                if (path == "/health/caddy")
                {
                    Interlocked.Increment(ref _healthChecks);
                    (status, body) = Healthy ? (200, "OK") : (503, "unhealthy");
                }
                else
                {
                    Interlocked.Increment(ref _requests);
                    (status, body) = (200, Address);
                }
                var reason = status == 200 ? "OK" : "Service Unavailable";
                var response = $"HTTP/1.1 {status} {reason}\r\nContent-Type: text/plain\r\nContent-Length: {Encoding.ASCII.GetByteCount(body)}\r\n" +
                               $"Connection: close\r\n\r\n{body}";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(response), timeout.Token);
            }
            catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // The peer went away: nothing to answer.
            }
        }
    }

    /// <summary>The request line, once the whole head has arrived; null when the connection closes first.</summary>
    private static async Task<string?> ReadHeadAsync(NetworkStream stream, CancellationToken cancellationToken)
    {
        var buffer = new byte[8192];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), cancellationToken);
            if (read == 0) return null;
            length += read;
            var text = Encoding.ASCII.GetString(buffer, 0, length);
            if (text.Contains("\r\n\r\n", StringComparison.Ordinal)) return text[..text.IndexOf("\r\n", StringComparison.Ordinal)];
        }
        return null;
    }
}
