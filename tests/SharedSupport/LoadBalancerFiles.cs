using OpenViduHa.Core.Artifacts;
using Xunit;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// Where a load balancer under test listens instead of what the generated file says: loopback addresses and free
/// ports. <see cref="Https"/>, <see cref="Rtmp"/> and <see cref="Http"/> take the place of 443, 1935 and 80 on
/// <see cref="Address"/>; <see cref="ApiProxy"/> and <see cref="TurnRelay"/> that of NGINX's local hops on 127.0.0.1
/// (3.4+), so that two load balancers can run at once. Null: that listener is not in the file.
/// </summary>
internal sealed record TestListen(string Address, int Https, int? Rtmp = null, int? Http = null, int? ApiProxy = null, int? TurnRelay = null)
{
    /// <summary>Free ports for every listener the generated file has, on <paramref name="address"/>.</summary>
    public static TestListen For(string generated, string address = "127.0.0.1", int? httpsPort = null)
    {
        var nginx = generated.Contains("listen 443 ssl;", StringComparison.Ordinal);
        return new TestListen(
            address,
            httpsPort ?? FreePort.Get(),
            Rtmp: generated.Contains(nginx ? "listen 1935 ssl;" : "bind :1935 ssl ", StringComparison.Ordinal) ? FreePort.Get() : null,
            Http: generated.Contains(nginx ? "listen 80;" : "bind :80\n", StringComparison.Ordinal) ? FreePort.Get() : null,
            ApiProxy: nginx && generated.Contains(NginxArtifact.ApiProxyAddress, StringComparison.Ordinal) ? FreePort.Get() : null,
            TurnRelay: nginx && generated.Contains(NginxArtifact.TurnRelayAddress, StringComparison.Ordinal) ? FreePort.Get() : null);
    }
}

/// <summary>
/// The few rewrites that let a generated load balancer config run in a test, everything else kept as generated: the
/// certificate directory (to the test's certificates), the listen addresses and ports (<see cref="TestListen"/>) and,
/// for HAProxy, the health check timing numbers. Each rewrite insists that its text was there, and once the listeners
/// are rewritten none may be left on every address.
/// </summary>
internal static class LoadBalancerFiles
{
    public static string Nginx(string conf, TestCertificates certificates, TestListen? listen = null)
    {
        var result = Replace(conf, NginxArtifact.CertificateDirectory, certificates.Directory + "/");
        if (listen is null) return result;
        result = Replace(result, "listen 443 ssl;", $"listen {listen.Address}:{listen.Https} ssl;");
        if (listen.Rtmp is { } rtmp) result = Replace(result, "listen 1935 ssl;", $"listen {listen.Address}:{rtmp} ssl;");
        if (listen.Http is { } http) result = Replace(result, "listen 80;", $"listen {listen.Address}:{http};");
        if (listen.ApiProxy is { } api) result = Replace(result, NginxArtifact.ApiProxyAddress, $"127.0.0.1:{api}");
        if (listen.TurnRelay is { } relay) result = Replace(result, NginxArtifact.TurnRelayAddress, $"127.0.0.1:{relay}");
        Assert.All(Directives(result).Where(l => l.TrimStart().StartsWith("listen ", StringComparison.Ordinal)),
            line => Assert.Matches(@"^\s*listen 127\.\d+\.\d+\.\d+:\d+[ ;]", line));
        return result;
    }

    public static string Haproxy(string cfg, TestCertificates certificates, TestListen? listen = null, string? fastChecks = null)
    {
        var result = Replace(cfg, HaproxyArtifact.CertificateDirectory, certificates.Directory + "/");
        if (listen is not null)
        {
            result = Replace(result, "bind :443 ssl ", $"bind {listen.Address}:{listen.Https} ssl ");
            if (listen.Rtmp is { } rtmp) result = Replace(result, "bind :1935 ssl ", $"bind {listen.Address}:{rtmp} ssl ");
            if (listen.Http is { } http) result = Replace(result, "bind :80\n", $"bind {listen.Address}:{http}\n");
            Assert.All(Directives(result).Where(l => l.TrimStart().StartsWith("bind ", StringComparison.Ordinal)),
                line => Assert.Matches(@"^\s*bind 127\.\d+\.\d+\.\d+:\d+( |$)", line));
        }
        if (fastChecks is not null)
        {
            result = Replace(result,
                $"inter {HaproxyArtifact.CheckInterval} fall {HaproxyArtifact.FallCount} rise {HaproxyArtifact.RiseCount}", fastChecks);
        }
        return result;
    }

    /// <summary>
    /// A prefix directory for <c>nginx -p</c>. Debian's modules-enabled files load <c>modules/ngx_stream_module.so</c>
    /// relative to the prefix, so the prefix gets a <c>modules</c> link to Debian's module directory.
    /// </summary>
    public static string NginxPrefix(TempDirectory dir)
    {
        Directory.CreateSymbolicLink(dir.File("modules"), Path.GetDirectoryName(RequiredTools.StreamModule)!);
        return dir.Path + "/";
    }

    /// <summary>
    /// NGINX arguments: writable pid and error log under the prefix (the generated file sets neither, so the
    /// <c>-g</c> directives do not clash with it), and the foreground for a live run.
    /// </summary>
    public static string[] NginxArguments(string confFile, string prefix, bool testOnly)
    {
        var globals = $"pid {prefix}nginx.pid; error_log {prefix}error.log;";
        return testOnly
            ? ["-t", "-c", confFile, "-p", prefix, "-e", prefix + "error.log", "-g", globals]
            : ["-c", confFile, "-p", prefix, "-e", prefix + "error.log", "-g", "daemon off; " + globals];
    }

    /// <summary>The lines that are not comments.</summary>
    public static IEnumerable<string> Directives(string config) => config.Split('\n').Where(line => !line.TrimStart().StartsWith('#'));

    private static string Replace(string text, string old, string replacement)
    {
        Assert.Contains(old, text);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }
}
