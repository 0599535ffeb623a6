using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Status;

/// <summary>
/// What the panel checks itself, over the network: each node's health endpoint and the TCP ports the load balancer (or
/// anyone) must reach, and the cluster's domain through the load balancer. Answers in words an operator can act on.
/// </summary>
internal sealed class PanelChecks : IDisposable
{
    private readonly StatusOptions _options;
    private readonly TimeProvider _clock;
    private readonly HttpClient _http;
    private readonly ConcurrentDictionary<string, (DateTimeOffset Until, IPAddress? Address)> _dns = new();

    public PanelChecks(StatusOptions options, TimeProvider clock)
    {
        _options = options;
        _clock = clock;
        // Health requests keep their connections between sweeps (one per node); the timeout is per request.
        _http = new HttpClient(new SocketsHttpHandler
        {
            ConnectTimeout = options.PortTimeout,
            PooledConnectionIdleTimeout = options.Interval + TimeSpan.FromSeconds(30),
            UseProxy = false,
            AllowAutoRedirect = false,
        }) { Timeout = Timeout.InfiniteTimeSpan };
    }

    /// <summary>The role's health endpoint over HTTP, from the panel.</summary>
    public async Task<PortCheck> HealthAsync(WatchedNode node, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        var url = $"http://{FormatHost(node.PrivateIp)}:{PortPlan.HealthPort}{PortPlan.HealthPath(node.Role)}";
        try
        {
            using var response = await _http.GetAsync(url, HttpCompletionOption.ResponseHeadersRead, timeout.Token);
            var code = (int)response.StatusCode;
            var detail = code == 200 ? "HTTP 200" : $"HTTP {code} {response.ReasonPhrase}".TrimEnd();
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, code == 200, detail);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, false, $"no answer within {_options.PortTimeout.TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new PortCheck(PortPlan.HealthPort, "http", PortPlan.Panel, false, Describe(e));
        }
    }

    /// <summary>A TCP connect to the node's port, from the panel (where the load balancer would stand).</summary>
    public async Task<PortCheck> TcpAsync(string ip, int port, CancellationToken ct)
    {
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        try
        {
            using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
            await socket.ConnectAsync(IPAddress.Parse(ip), port, timeout.Token);
            return new PortCheck(port, "tcp", PortPlan.Panel, true);
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, $"no answer within {_options.PortTimeout.TotalSeconds:0.#} s");
        }
        catch (SocketException e)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, e.SocketErrorCode == SocketError.ConnectionRefused ? "connection refused" : e.SocketErrorCode.ToString());
        }
        catch (FormatException)
        {
            return new PortCheck(port, "tcp", PortPlan.Panel, false, "not an IP address");
        }
    }

    /// <summary>
    /// The cluster's domain through the load balancer: <c>GET https://domain/health/caddy</c>, connected to the load
    /// balancer's IP when the panel knows it, else to what the domain resolves to. Not checked when neither is known.
    /// </summary>
    public async Task<LoadBalancerStatus> LoadBalancerAsync(ClusterDefinition cluster, CancellationToken ct)
    {
        var domain = cluster.DomainName;
        IPAddress? address = null;
        if (cluster.LoadBalancerIp is { } ip && IPAddress.TryParse(ip, out var parsed)) address = parsed;
        else address = await ResolveAsync(domain, ct);
        if (address is null)
            return new LoadBalancerStatus(domain, false, false, $"not checked: {domain} does not resolve from the panel and no load balancer IP is set");

        var target = $"https://{domain}/health/caddy via {address}";
        string? certificate = null;
        using var handler = new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            ConnectTimeout = _options.PortTimeout,
            ConnectCallback = async (_, token) =>
            {
                var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                try
                {
                    await socket.ConnectAsync(address, 443, token);
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
                // The operator's certificate is reported, not required: the check is about reachability through the
                // load balancer (its verdict goes into the answer), and nothing secret is sent over it.
#pragma warning disable CA5359
                RemoteCertificateValidationCallback = (_, _, _, errors) =>
                {
                    certificate = errors == SslPolicyErrors.None ? "certificate valid" : $"certificate not trusted here ({errors})";
                    return true;
                },
#pragma warning restore CA5359
            },
        };
        using var client = new HttpClient(handler) { Timeout = Timeout.InfiniteTimeSpan };
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout + _options.PortTimeout);
        try
        {
            using var response = await client.GetAsync($"https://{domain}/health/caddy", timeout.Token);
            var code = (int)response.StatusCode;
            return new LoadBalancerStatus(target, true, code == 200, $"HTTP {code}{(certificate is null ? "" : ", " + certificate)}");
        }
        catch (OperationCanceledException) when (!ct.IsCancellationRequested)
        {
            return new LoadBalancerStatus(target, true, false, $"no answer within {(_options.PortTimeout + _options.PortTimeout).TotalSeconds:0.#} s");
        }
        catch (HttpRequestException e)
        {
            return new LoadBalancerStatus(target, true, false, Describe(e));
        }
    }

    /// <summary>DNS with a timeout, answers (and failures) kept for five minutes: a dead resolver never slows every sweep.</summary>
    private async Task<IPAddress?> ResolveAsync(string domain, CancellationToken ct)
    {
        var now = _clock.GetUtcNow();
        if (_dns.TryGetValue(domain, out var cached) && cached.Until > now) return cached.Address;
        IPAddress? address = null;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(ct);
        timeout.CancelAfter(_options.PortTimeout);
        try
        {
            var all = await Dns.GetHostAddressesAsync(domain, AddressFamily.InterNetwork, timeout.Token);
            address = all.FirstOrDefault();
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException && !ct.IsCancellationRequested)
        {
        }
        _dns[domain] = (now.AddMinutes(5), address);
        return address;
    }

    /// <summary>
    /// Why the request failed, in words. A load balancer that is going away refuses the connection, or resets it when it
    /// had accepted it into its backlog as it closed (the reset then comes in the TLS handshake, under an IOException).
    /// </summary>
    private static string Describe(HttpRequestException e) => e.InnerException switch
    {
        SocketException { SocketErrorCode: SocketError.ConnectionRefused } => "connection refused",
        SocketException { SocketErrorCode: SocketError.ConnectionReset } => "connection reset",
        SocketException s => s.SocketErrorCode.ToString(),
        IOException { InnerException: SocketException { SocketErrorCode: SocketError.ConnectionReset } } => "connection reset",
        System.Security.Authentication.AuthenticationException => "TLS handshake failed",
        _ when e.HttpRequestError == HttpRequestError.ResponseEnded => "connection closed without an answer",
        _ => e.HttpRequestError.ToString(),
    };

    private static string FormatHost(string ip) => IPAddress.TryParse(ip, out var a) && a.AddressFamily == AddressFamily.InterNetworkV6 ? $"[{ip}]" : ip;

    public void Dispose() => _http.Dispose();
}
