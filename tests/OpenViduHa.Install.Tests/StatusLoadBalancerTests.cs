using System.Net;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// The load balancer check through Debian's real NGINX running the panel's own generated nginx.conf in front of the
/// lab's masters (TLS with a self-signed certificate made by openssl). Changed for the test: the certificate folder and
/// the listen addresses (443 on 127.0.4.1, the cluster's load balancer IP, instead of every address; port 80 and the
/// local API hop on free ports).
/// </summary>
public sealed class StatusLoadBalancerTests
{
    private const string LoadBalancerIp = "127.0.4.1";

    [Fact]
    public async Task LoadBalancer_GeneratedNginxInFront_CheckedThroughTheDomain_ThenDegradedWhenItStops()
    {
        // A first TLS handshake (OpenSSL loading in the panel, NGINX's workers) can take seconds on a loaded 2-core machine.
        await using var lp = await LabPanel.StartAsync(5, logLevel: "Warning", settings: new Dictionary<string, string?>(StatusLabFixture.Settings) { ["Status:PortTimeout"] = "00:00:05" });
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("behind-nginx", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]);
        spec.TurnDomainName = null;
        spec.LoadBalancerIp = LoadBalancerIp;
        var id = await lp.CreateAsync(spec);
        Assert.Equal("succeeded", (await lp.RunJobAsync(id, "install"))["state"]!.GetValue<string>());
        var generated = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");
        var nginx = await LiveLoadBalancer.StartAsync(LoadBalancerKind.Nginx, generated, TestCertificates.Shared,
            TestListen.For(generated, LoadBalancerIp, httpsPort: 443));
        try
        {
            var up = await RefreshAsync(lp, id);
            var lb = up["loadBalancer"]!;
            Assert.True(lb["checked"]!.GetValue<bool>(), lb.ToJsonString());
            Assert.True(lb["reachable"]!.GetValue<bool>(), lb.ToJsonString() + "\n" + nginx.Output + "\n" + nginx.Config);
            Assert.StartsWith("HTTP 200, certificate not trusted here", lb["detail"]!.GetValue<string>(), StringComparison.Ordinal);
            Assert.Equal($"https://{spec.DomainName}/health/caddy via {LoadBalancerIp}", lb["target"]!.GetValue<string>());
            Assert.Equal("healthy", up["health"]!.GetValue<string>());
        }
        finally
        {
            nginx.Dispose();
        }

        var down = await RefreshAsync(lp, id);
        Assert.True(down["loadBalancer"]!["checked"]!.GetValue<bool>());
        Assert.False(down["loadBalancer"]!["reachable"]!.GetValue<bool>());
        Assert.Equal("degraded", down["health"]!.GetValue<string>());
        // NGINX was killed: a connection is refused once its listening socket is gone, or reset when it got into the
        // backlog of a worker that was still dying (seen under load). Both mean nothing serves 443 any more; a timeout,
        // an HTTP error or a TLS failure would not pass.
        Assert.Contains(down["reason"]!.GetValue<string>(), new[] { "load balancer: connection refused.", "load balancer: connection reset." });

        // The reset on its own, every time: a listener on 443 that resets each connection once the TLS handshake began.
        using var resetting = await ResettingListener.StartAsync(IPAddress.Parse(LoadBalancerIp), 443);
        var reset = await RefreshAsync(lp, id);
        Assert.Equal("degraded", reset["health"]!.GetValue<string>());
        Assert.Equal("load balancer: connection reset.", reset["reason"]!.GetValue<string>());
        Assert.True(resetting.Resets > 0);
    }

    /// <summary>Accepts connections, reads the client's first bytes, then closes with a TCP reset (linger 0).</summary>
    private sealed class ResettingListener : IDisposable
    {
        private readonly Socket _listener;
        private readonly CancellationTokenSource _stop = new();
        private int _resets;

        private ResettingListener(Socket listener)
        {
            _listener = listener;
            _ = Task.Run(AcceptAsync);
        }

        public int Resets => Volatile.Read(ref _resets);

        /// <summary>Listens once the address is free (the killed NGINX's workers may still hold it for a moment).</summary>
        public static async Task<ResettingListener> StartAsync(IPAddress address, int port)
        {
            var deadline = DateTime.UtcNow.AddSeconds(15);
            while (true)
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                try
                {
                    socket.Bind(new IPEndPoint(address, port));
                    socket.Listen(16);
                    return new ResettingListener(socket);
                }
                catch (SocketException e) when (e.SocketErrorCode == SocketError.AddressAlreadyInUse && DateTime.UtcNow < deadline)
                {
                    socket.Dispose();
                    await Task.Delay(50);
                }
                catch
                {
                    socket.Dispose();
                    throw;
                }
            }
        }

        private async Task AcceptAsync()
        {
            var buffer = new byte[512];
            try
            {
                while (true)
                {
                    using var client = await _listener.AcceptAsync(_stop.Token);
                    await client.ReceiveAsync(buffer, SocketFlags.None, _stop.Token);
                    client.LingerState = new LingerOption(true, 0);
                    Interlocked.Increment(ref _resets);
                }
            }
            catch (Exception e) when (e is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped.
            }
        }

        public void Dispose()
        {
            _stop.Cancel();
            _listener.Dispose();
            _stop.Dispose();
        }
    }

    private static async Task<JsonObject> RefreshAsync(LabPanel lp, int id)
    {
        var response = await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
