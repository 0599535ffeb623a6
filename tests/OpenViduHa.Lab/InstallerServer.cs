using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenViduHa.Lab;

/// <summary>
/// Serves the installer stand-in over plain HTTP on 127.0.0.1 at the real URL layout:
/// <c>/pro/ha/&lt;X.Y.Z|latest&gt;/install_ov_master_node.sh</c> and <c>install_ov_media_node.sh</c>. 3.0.x gets the 3.0
/// flags, 3.2.0 and later the current ones (the boundary of OpenViduVersion.CurrentGenerationFrom); 3.1.x and anything
/// else is a 404, as an unknown URL would be. A minimal HTTP/1.1 server: one request per connection.
/// </summary>
internal sealed partial class InstallerServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly string _template;
    private readonly string _latest;
    private readonly Task _accepting;
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private int _downloads;

    public InstallerServer(string template, string latestVersion)
    {
        _template = template;
        _latest = latestVersion;
        _listener.Start(512);
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_listener.LocalEndpoint).Port}";
        _accepting = AcceptAsync();
    }

    public string BaseUrl { get; }

    /// <summary>Installer scripts served (200 answers).</summary>
    public int Downloads => Volatile.Read(ref _downloads);

    /// <summary>The script for a request path, or null (404).</summary>
    public string? Script(string path)
    {
        var match = InstallerPath().Match(path);
        if (!match.Success) return null;
        var version = match.Groups[1].Value == "latest" ? _latest : match.Groups[1].Value;
        var parts = version.Split('.').Select(int.Parse).ToArray();
        string generation;
        if (parts[0] != 3) return null;
        if (parts[1] == 0) generation = "3.0";
        else if (parts[1] >= 2) generation = "current";
        else return null;
        var role = match.Groups[2].Value + "-node";
        return _template
            .Replace("@OPENVIDU_VERSION@", version, StringComparison.Ordinal)
            .Replace("@NODE_ROLE@", role, StringComparison.Ordinal)
            .Replace("@GENERATION@", generation, StringComparison.Ordinal)
            .Replace("@SCRIPT_NAME@", $"install_ov_{match.Groups[2].Value}_node.sh", StringComparison.Ordinal);
    }

    private async Task AcceptAsync()
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
            var task = ServeAsync(client);
            _connections.TryAdd(task, 0);
            _ = task.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            var stream = client.GetStream();
            var head = await ReadHeadAsync(stream, timeout.Token);
            var request = head.Split("\r\n", 2)[0].Split(' ');
            string status, body;
            if (request.Length < 3 || (request[0] != "GET" && request[0] != "HEAD"))
            {
                (status, body) = ("405 Method Not Allowed", "only GET\n");
            }
            else if (Script(request[1].Split('?', 2)[0]) is { } script)
            {
                (status, body) = ("200 OK", script);
                Interlocked.Increment(ref _downloads);
            }
            else
            {
                (status, body) = ("404 Not Found", "404 page not found\n");
            }
            var bytes = Encoding.UTF8.GetBytes(body);
            var header = $"HTTP/1.1 {status}\r\nContent-Type: text/x-sh; charset=utf-8\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header), timeout.Token);
            if (request[0] != "HEAD") await stream.WriteAsync(bytes, timeout.Token);
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or InvalidDataException)
        {
        }
    }

    private static async Task<string> ReadHeadAsync(NetworkStream stream, CancellationToken ct)
    {
        var buffer = new byte[16384];
        var length = 0;
        while (length < buffer.Length)
        {
            var read = await stream.ReadAsync(buffer.AsMemory(length), ct);
            if (read == 0) break;
            length += read;
            if (buffer.AsSpan(0, length).IndexOf("\r\n\r\n"u8) >= 0) return Encoding.ASCII.GetString(buffer, 0, length);
        }
        throw new InvalidDataException("incomplete request");
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        await _accepting;
        await Task.WhenAll(_connections.Keys);
        _listener.Dispose();
        _stop.Dispose();
    }

    [GeneratedRegex(@"^/pro/ha/(latest|3\.\d{1,3}\.\d{1,3})/install_ov_(master|media)_node\.sh$")]
    private static partial Regex InstallerPath();
}
