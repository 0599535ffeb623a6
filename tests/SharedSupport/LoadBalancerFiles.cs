using OpenViduHa.Core.Artifacts;
using Xunit;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// The few rewrites that let a generated load balancer config run in a test, everything else kept as generated: the
/// certificate directory (to the test's certificates), the listen ports (to free ports on 127.0.0.1) and, for HAProxy,
/// the health check timing numbers. Each rewrite insists that its text was there.
/// </summary>
internal static class LoadBalancerFiles
{
    public static string Nginx(string conf, TestCertificates certificates, int? httpsPort = null, int? rtmpPort = null)
    {
        var result = Replace(conf, NginxArtifact.CertificateDirectory, certificates.Directory + "/");
        if (httpsPort is not null) result = Replace(result, "listen 443 ssl;", $"listen 127.0.0.1:{httpsPort} ssl;");
        if (rtmpPort is not null) result = Replace(result, "listen 1935 ssl;", $"listen 127.0.0.1:{rtmpPort} ssl;");
        return result;
    }

    public static string Haproxy(string cfg, TestCertificates certificates, int? httpsPort = null, int? rtmpPort = null, string? fastChecks = null)
    {
        var result = Replace(cfg, HaproxyArtifact.CertificateDirectory, certificates.Directory + "/");
        if (httpsPort is not null) result = Replace(result, "bind :443 ssl ", $"bind 127.0.0.1:{httpsPort} ssl ");
        if (rtmpPort is not null) result = Replace(result, "bind :1935 ssl ", $"bind 127.0.0.1:{rtmpPort} ssl ");
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

    private static string Replace(string text, string old, string replacement)
    {
        Assert.Contains(old, text);
        return text.Replace(old, replacement, StringComparison.Ordinal);
    }
}
