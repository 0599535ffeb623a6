using System.Net;
using System.Net.Security;
using System.Net.Sockets;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// HTTPS through a load balancer under test: asks for <c>https://{host}/</c> (so TLS carries that name as SNI) but always
/// connects to 127.0.0.1:{port}. Trusts exactly one certificate, compared by SHA-256 thumbprint, and opens a new
/// connection for every request so that each one is balanced anew.
/// </summary>
internal sealed class LoadBalancerClient : IDisposable
{
    private readonly HttpClient _client;

    public LoadBalancerClient(int port, string expectedThumbprint)
    {
        var handler = new SocketsHttpHandler
        {
            PooledConnectionLifetime = TimeSpan.Zero,
            ConnectCallback = async (_, cancellationToken) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(new IPEndPoint(IPAddress.Loopback, port), cancellationToken);
                    return new NetworkStream(socket, ownsSocket: true);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            },
            SslOptions = new SslClientAuthenticationOptions
            {
                RemoteCertificateValidationCallback = (_, certificate, _, _) =>
                    certificate is not null && string.Equals(TestCertificates.Thumbprint(certificate), expectedThumbprint, StringComparison.OrdinalIgnoreCase),
            },
        };
        _client = new HttpClient(handler) { Timeout = TimeSpan.FromSeconds(10) };
    }

    public async Task<(HttpStatusCode Status, string Body)> GetAsync(string host)
    {
        using var request = new HttpRequestMessage(HttpMethod.Get, $"https://{host}/");
        request.Headers.ConnectionClose = true;
        using var response = await _client.SendAsync(request);
        return (response.StatusCode, await response.Content.ReadAsStringAsync());
    }

    public void Dispose() => _client.Dispose();
}
