using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Net.WebSockets;
using System.Text;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// A client of a load balancer under test: asks for <c>https://{host}/…</c> (so TLS carries that name as SNI) but always
/// connects to <c>{address}:{port}</c>, optionally from a chosen loopback source address (so that the client's address
/// differs from the load balancer's own). Trusts exactly one certificate, compared by SHA-256 thumbprint, and opens a new
/// connection for every request so that each one is balanced anew.
/// </summary>
internal sealed class LoadBalancerClient : IDisposable
{
    private static readonly TimeSpan _timeout = TimeSpan.FromSeconds(10);

    private readonly SocketsHttpHandler _handler;
    private readonly HttpClient _client;

    public LoadBalancerClient(int port, string expectedThumbprint, string address = "127.0.0.1", string? sourceAddress = null)
    {
        _handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectCallback = async (_, cancellationToken) =>
                new NetworkStream(await ConnectAsync(address, port, sourceAddress, cancellationToken), ownsSocket: true),
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) => Trusted(certificate, expectedThumbprint),
            },
        };
        _client = new HttpClient(_handler, disposeHandler: false) { Timeout = _timeout };
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string host)
    {
        using var response = await SendAsync(host, "/");
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    /// <summary><c>GET https://{host}{path}</c> with <c>Connection: close</c>; the caller disposes the response.</summary>
    public async Task<HttpResponseMessage> SendAsync(string host, string path)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}{path}");
        request.Headers.ConnectionClose = true;
        return await _client.SendAsync(request);
    }

    /// <summary>A WebSocket to <c>wss://{host}{path}</c> through the load balancer, with the handshake's response details.</summary>
    public async Task<ClientWebSocket> ConnectWebSocketAsync(string host, string path)
    {
        var socket = new ClientWebSocket();
        socket.Options.CollectHttpResponseDetails = true;
        using var timeout = new CancellationTokenSource(_timeout);
        try
        {
            await socket.ConnectAsync(new Uri($"wss://{host}{path}"), new HttpMessageInvoker(_handler, disposeHandler: false), timeout.Token);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
        return socket;
    }

    /// <summary>A TLS connection through the load balancer with <paramref name="serverName"/> as SNI, for TCP services behind it.</summary>
    public static async Task<SslStream> OpenTlsAsync(
        string address, int port, string serverName, string expectedThumbprint, string? sourceAddress = null)
    {
        using var timeout = new CancellationTokenSource(_timeout);
        var tls = new SslStream(new NetworkStream(await ConnectAsync(address, port, sourceAddress, timeout.Token), ownsSocket: true));
        try
        {
            await tls.AuthenticateAsClientAsync(new SslClientAuthenticationOptions
            {
                TargetHost = serverName,
                RemoteCertificateValidationCallback = (_, certificate, _, _) => Trusted(certificate, expectedThumbprint),
            }, timeout.Token);
        }
        catch
        {
            await tls.DisposeAsync();
            throw;
        }
        return tls;
    }

    /// <summary>One line (without its <c>\n</c>), read byte by byte so that nothing after it is consumed; null at the end of the stream.</summary>
    public static async Task<string?> ReadLineAsync(Stream stream)
    {
        using var timeout = new CancellationTokenSource(_timeout);
        var line = new List<byte>();
        var one = new byte[1];
        while (line.Count < 4096)
        {
            if (await stream.ReadAsync(one, timeout.Token) == 0) return line.Count == 0 ? null : Encoding.UTF8.GetString([.. line]);
            if (one[0] == (byte)'\n') return Encoding.UTF8.GetString([.. line]);
            line.Add(one[0]);
        }
        throw new InvalidDataException("No end of line within 4096 bytes.");
    }

    /// <summary>Plain HTTP (port 80) without following redirects.</summary>
    public static async Task<HttpResponseMessage> GetPlainAsync(string address, int port, string host, string path)
    {
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectCallback = async (_, cancellationToken) => new NetworkStream(await ConnectAsync(address, port, null, cancellationToken), ownsSocket: true),
        };
        using var client = new HttpClient(handler) { Timeout = _timeout };
        using var request = new HttpRequestMessage(HttpMethod.Get, $"http://{host}{path}");
        request.Headers.ConnectionClose = true;
        return await client.SendAsync(request);
    }

    public void Dispose()
    {
        _client.Dispose();
        _handler.Dispose();
    }

    private static bool Trusted(System.Security.Cryptography.X509Certificates.X509Certificate? certificate, string expectedThumbprint) =>
        certificate is not null && string.Equals(TestCertificates.Thumbprint(certificate), expectedThumbprint, StringComparison.OrdinalIgnoreCase);

    private static async Task<Socket> ConnectAsync(string address, int port, string? sourceAddress, CancellationToken cancellationToken)
    {
        var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        try
        {
            if (sourceAddress is not null) socket.Bind(new IPEndPoint(IPAddress.Parse(sourceAddress), 0));
            await socket.ConnectAsync(new IPEndPoint(IPAddress.Parse(address), port), cancellationToken);
            return socket;
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
