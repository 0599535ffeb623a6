using System.Collections.Concurrent;
using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;

namespace OpenViduHa.Lab;

/// <summary>
/// Serves the installer stand-in on 127.0.0.1, over plain HTTP and over HTTPS (two ports, the same paths), at the real
/// URL layout: <c>/pro/ha/&lt;X.Y.Z|latest&gt;/install_ov_master_node.sh</c> and <c>install_ov_media_node.sh</c>. 3.0.x
/// gets the 3.0 flags, 3.4.0 and later the current ones (the boundary of OpenViduVersion.CurrentGenerationFrom); 3.1.x to 3.3.x
/// and anything else is a 404, as an unknown URL would be. The updater stand-in is at <c>/update/&lt;X.Y.Z|latest&gt;/update.sh</c>
/// for every release of <see cref="UpdateChain"/> but its first (what an update can go to); anything else is a 404.
/// A minimal HTTP/1.1 server: one request per connection. Two lab-wide faults, for every script: <see cref="RedirectsToHttp"/>
/// and <see cref="Tampered"/>.
/// </summary>
internal sealed partial class InstallerServer : IAsyncDisposable
{
    /// <summary>The line <see cref="Tampered"/> adds after a script's first line: harmless, but the bytes differ.</summary>
    public const string TamperedLine = "# tampered by the lab";

    private readonly TcpListener _http = new(IPAddress.Loopback, 0);
    private readonly TcpListener _https = new(IPAddress.Loopback, 0);
    private readonly SslServerAuthenticationOptions _tls;
    private readonly CancellationTokenSource _stop = new();
    private readonly string _template;
    private readonly string _updaterTemplate;
    private readonly string _latest;
    private readonly Task _accepting;
    private readonly ConcurrentDictionary<Task, byte> _connections = new();
    private int _downloads;
    private int _updaterDownloads;
    private volatile bool _redirectsToHttp;
    private volatile bool _tampered;

    /// <summary>
    /// OpenVidu's updater chain (docs/openvidu-versions.md, "The updater chain"): each release's updater takes a node from
    /// the release before it, one hop per run. The stand-in serves an updater for each release after the first.
    /// </summary>
    public static readonly IReadOnlyList<string> UpdateChain =
        ["3.0.0", "3.1.0", "3.2.0", "3.3.0", "3.4.0", "3.4.1", "3.5.0", "3.6.0", "3.6.1", "3.7.0", "3.8.0", "3.9.0"];

    public InstallerServer(string template, string updaterTemplate, string latestVersion, LabCertificates certificates)
    {
        _template = template;
        _updaterTemplate = updaterTemplate;
        _latest = latestVersion;
        _tls = new SslServerAuthenticationOptions
        {
            // offline: the chain is the lab CA's, with nothing to fetch.
            ServerCertificateContext = SslStreamCertificateContext.Create(certificates.Server, additionalCertificates: null, offline: true),
            ClientCertificateRequired = false,
        };
        _http.Start(512);
        _https.Start(512);
        BaseUrl = $"http://127.0.0.1:{((IPEndPoint)_http.LocalEndpoint).Port}";
        HttpsBaseUrl = $"https://127.0.0.1:{((IPEndPoint)_https.LocalEndpoint).Port}";
        _accepting = Task.WhenAll(AcceptAsync(_http, https: false), AcceptAsync(_https, https: true));
    }

    public string BaseUrl { get; }

    public string HttpsBaseUrl { get; }

    /// <summary>Installer scripts served (200 answers), over both.</summary>
    public int Downloads => Volatile.Read(ref _downloads);

    /// <summary>Updater scripts served (200 answers), over both.</summary>
    public int UpdaterDownloads => Volatile.Read(ref _updaterDownloads);

    /// <summary>While true the HTTPS server answers every GET and HEAD with <c>302 Found</c> to the same path over HTTP.</summary>
    public bool RedirectsToHttp
    {
        get => _redirectsToHttp;
        set => _redirectsToHttp = value;
    }

    /// <summary>While true both serve every script with <see cref="TamperedLine"/> after its first line.</summary>
    public bool Tampered
    {
        get => _tampered;
        set => _tampered = value;
    }

    /// <summary>The (untampered) script for a request path, or null (404).</summary>
    public string? Script(string path) => Installer(path) ?? Updater(path);

    private string? Installer(string path)
    {
        var match = InstallerPath().Match(path);
        if (!match.Success) return null;
        var version = match.Groups[1].Value == "latest" ? _latest : match.Groups[1].Value;
        var parts = version.Split('.').Select(int.Parse).ToArray();
        string generation;
        if (parts[0] != 3) return null;
        if (parts[1] == 0) generation = "3.0";
        else if (parts[1] >= 4) generation = "current"; // OpenViduVersion.CurrentGenerationFrom; 3.1 to 3.3 the panel refuses
        else return null;
        var role = match.Groups[2].Value + "-node";
        return _template
            .Replace("@OPENVIDU_VERSION@", version, StringComparison.Ordinal)
            .Replace("@NODE_ROLE@", role, StringComparison.Ordinal)
            .Replace("@GENERATION@", generation, StringComparison.Ordinal)
            .Replace("@SCRIPT_NAME@", $"install_ov_{match.Groups[2].Value}_node.sh", StringComparison.Ordinal);
    }

    /// <summary>
    /// The updater of a release of <see cref="UpdateChain"/> after its first (or <c>latest</c>, when the lab's latest is
    /// one), else null. The chain goes in as <c>@UPDATE_CHAIN@</c> (the releases, space-separated), the version as
    /// <c>@OPENVIDU_VERSION@</c>.
    /// </summary>
    private string? Updater(string path)
    {
        var match = UpdaterPath().Match(path);
        if (!match.Success) return null;
        var version = match.Groups[1].Value == "latest" ? _latest : match.Groups[1].Value;
        var hop = Enumerable.Range(0, UpdateChain.Count).FirstOrDefault(i => UpdateChain[i] == version, -1);
        if (hop < 1) return null;
        return _updaterTemplate
            .Replace("@OPENVIDU_VERSION@", version, StringComparison.Ordinal)
            .Replace("@UPDATE_CHAIN@", string.Join(' ', UpdateChain), StringComparison.Ordinal);
    }

    /// <summary>The path of a version's updater: <c>/update/&lt;version&gt;/update.sh</c>.</summary>
    public static string UpdaterScriptPath(string version) => $"/update/{version}/update.sh";

    /// <summary>Lowercase hex SHA-256 of the bytes served for an updater, untampered; throws for one that is not served.</summary>
    public string UpdaterSha256(string version) =>
        Updater(UpdaterScriptPath(version)) is { } script
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)))
            : throw new ArgumentException($"The lab serves no updater {version} (it serves {string.Join(", ", UpdateChain.Skip(1))} and latest).", nameof(version));

    /// <summary>The path of a version's script: <c>/pro/ha/&lt;version&gt;/install_ov_{master,media}_node.sh</c>.</summary>
    public static string ScriptPath(string version, bool masterNode) =>
        $"/pro/ha/{version}/install_ov_{(masterNode ? "master" : "media")}_node.sh";

    /// <summary>Lowercase hex SHA-256 of the bytes served for a script, untampered; throws for a script that is not served.</summary>
    public string Sha256(string version, bool masterNode) =>
        Installer(ScriptPath(version, masterNode)) is { } script
            ? Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(script)))
            : throw new ArgumentException($"The lab serves no installer {version} ({(masterNode ? "master" : "media")}).", nameof(version));

    private static string Tamper(string script)
    {
        var firstLine = script.IndexOf('\n') + 1;
        return script[..firstLine] + TamperedLine + "\n" + script[firstLine..];
    }

    private async Task AcceptAsync(TcpListener listener, bool https)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client;
            try
            {
                client = await listener.AcceptTcpClientAsync(_stop.Token);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }
            var task = ServeAsync(client, https);
            _connections.TryAdd(task, 0);
            _ = task.ContinueWith(t => _connections.TryRemove(t, out _), TaskScheduler.Default);
        }
    }

    private async Task ServeAsync(TcpClient client, bool https)
    {
        using var _ = client;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token);
        timeout.CancelAfter(TimeSpan.FromSeconds(30));
        try
        {
            Stream stream = client.GetStream();
            if (https)
            {
                var tls = new SslStream(stream, leaveInnerStreamOpen: false);
                await tls.AuthenticateAsServerAsync(_tls, timeout.Token);
                stream = tls;
            }
            await using var __ = stream;
            var head = await ReadHeadAsync(stream, timeout.Token);
            var request = head.Split("\r\n", 2)[0].Split(' ');
            string status, body;
            var location = "";
            if (request.Length < 3 || (request[0] != "GET" && request[0] != "HEAD"))
            {
                (status, body) = ("405 Method Not Allowed", "only GET\n");
            }
            else if (https && _redirectsToHttp)
            {
                (status, body) = ("302 Found", "");
                location = $"Location: {BaseUrl}{request[1]}\r\n";
            }
            else if (Installer(request[1].Split('?', 2)[0]) is { } script)
            {
                (status, body) = ("200 OK", _tampered ? Tamper(script) : script);
                Interlocked.Increment(ref _downloads);
            }
            else if (Updater(request[1].Split('?', 2)[0]) is { } updater)
            {
                (status, body) = ("200 OK", _tampered ? Tamper(updater) : updater);
                Interlocked.Increment(ref _updaterDownloads);
            }
            else
            {
                (status, body) = ("404 Not Found", "404 page not found\n");
            }
            var bytes = Encoding.UTF8.GetBytes(body);
            var header = $"HTTP/1.1 {status}\r\n{location}Content-Type: text/x-sh; charset=utf-8\r\nContent-Length: {bytes.Length}\r\n" +
                         "Connection: close\r\n\r\n";
            await stream.WriteAsync(Encoding.ASCII.GetBytes(header), timeout.Token);
            if (request[0] != "HEAD") await stream.WriteAsync(bytes, timeout.Token);
            await stream.FlushAsync(timeout.Token);
            if (stream is SslStream ssl) await ssl.ShutdownAsync();
        }
        catch (Exception e) when (e is IOException or OperationCanceledException or SocketException or InvalidDataException or AuthenticationException)
        {
        }
    }

    private static async Task<string> ReadHeadAsync(Stream stream, CancellationToken ct)
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
        _http.Stop();
        _https.Stop();
        await _accepting;
        await Task.WhenAll(_connections.Keys);
        _http.Dispose();
        _https.Dispose();
        _stop.Dispose();
    }

    [GeneratedRegex(@"^/pro/ha/(latest|3\.\d{1,3}\.\d{1,3})/install_ov_(master|media)_node\.sh$")]
    private static partial Regex InstallerPath();

    [GeneratedRegex(@"^/update/(latest|3\.\d{1,3}\.\d{1,3})/update\.sh$")]
    private static partial Regex UpdaterPath();
}
