using System.Net;

namespace OpenViduHa.Tests.Support;

public enum LoadBalancerKind
{
    Nginx,
    Haproxy,
}

/// <summary>
/// Debian's NGINX (with its stream module) or HAProxy running a generated config in the foreground, rewritten only by
/// <see cref="LoadBalancerFiles"/> (certificates, listen addresses and ports, HAProxy's check timing when asked).
/// Started once every listener accepts connections; killed on dispose.
/// </summary>
internal sealed class LiveLoadBalancer : IDisposable
{
    private readonly TempDirectory _dir;
    private readonly ChildProcess _process;

    private LiveLoadBalancer(LoadBalancerKind kind, TestListen listen, string config, TempDirectory dir, ChildProcess process)
    {
        Kind = kind;
        Listen = listen;
        Config = config;
        _dir = dir;
        _process = process;
    }

    public LoadBalancerKind Kind { get; }

    public TestListen Listen { get; }

    /// <summary>The config as run (after the rewrites).</summary>
    public string Config { get; }

    /// <summary>What the program printed (HAProxy logs to stdout here), and NGINX's error log.</summary>
    public string Output => $"{Kind} output:\n{_process.Output}" + (Kind == LoadBalancerKind.Nginx ? $"\nerror.log:\n{ErrorLog}" : "");

    public string ErrorLog => File.Exists(_dir.File("error.log")) ? File.ReadAllText(_dir.File("error.log")) : "";

    public static async Task<LiveLoadBalancer> StartAsync(
        LoadBalancerKind kind, string generated, TestCertificates certificates, TestListen? listen = null, string? fastChecks = null)
    {
        listen ??= TestListen.For(generated);
        var dir = new TempDirectory("ovha-lb-");
        string config;
        ChildProcess process;
        if (kind == LoadBalancerKind.Nginx)
        {
            config = LoadBalancerFiles.Nginx(generated, certificates, listen);
            var file = dir.Write("nginx.conf", config);
            var prefix = LoadBalancerFiles.NginxPrefix(dir);
            process = ChildProcess.Start(RequiredTools.Nginx, LoadBalancerFiles.NginxArguments(file, prefix, testOnly: false));
        }
        else
        {
            config = LoadBalancerFiles.Haproxy(generated, certificates, listen, fastChecks);
            process = ChildProcess.Start(RequiredTools.Haproxy, ["-db", "-f", dir.Write("haproxy.cfg", config)]);
        }
        var balancer = new LiveLoadBalancer(kind, listen, config, dir, process);
        try
        {
            var address = IPAddress.Parse(listen.Address);
            foreach (var port in new[] { listen.Https, listen.Rtmp, listen.Http }.OfType<int>())
                await FreePort.WaitUntilListeningAsync(address, port, TimeSpan.FromSeconds(15), () => balancer.Output);
        }
        catch
        {
            balancer.Dispose();
            throw;
        }
        return balancer;
    }

    public void Dispose()
    {
        _process.Dispose();
        _dir.Dispose();
    }
}
