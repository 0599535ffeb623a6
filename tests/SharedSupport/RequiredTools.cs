using Xunit;

namespace OpenViduHa.Tests.Support;

/// <summary>
/// The real programs the artifact tests run. Missing ones fail the test with what to install: these tests never skip,
/// because a skipped NGINX or HAProxy check would let a broken configuration through unnoticed.
/// </summary>
internal static class RequiredTools
{
    public const string InstallHint = "apt-get install nginx libnginx-mod-stream haproxy";

    public const string StreamModule = "/usr/lib/nginx/modules/ngx_stream_module.so";

    public static string Bash => Find("bash", "/bin/bash", "bash is needed to check the generated scripts.");

    public static string OpenSsl => Find("openssl", "/usr/bin/openssl", "openssl creates the test certificates: apt-get install openssl.");

    public static string Nginx
    {
        get
        {
            var nginx = Find("nginx", "/usr/sbin/nginx", $"NGINX is needed to check the generated nginx.conf: {InstallHint}.");
            if (!File.Exists(StreamModule) || !Directory.Exists("/etc/nginx/modules-enabled") ||
                !Directory.EnumerateFiles("/etc/nginx/modules-enabled", "*.conf").Any())
                Assert.Fail($"NGINX's stream module is missing ({StreamModule}, loaded from /etc/nginx/modules-enabled): {InstallHint}.");
            return nginx;
        }
    }

    public static string Haproxy => Find("haproxy", "/usr/sbin/haproxy", $"HAProxy is needed to check the generated haproxy.cfg: {InstallHint}.");

    private static string Find(string name, string usualPath, string hint)
    {
        if (File.Exists(usualPath)) return usualPath;
        var onPath = (Environment.GetEnvironmentVariable("PATH") ?? "")
            .Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, name))
            .FirstOrDefault(File.Exists);
        if (onPath is null) Assert.Fail($"{name} not found (looked at {usualPath} and PATH). {hint}");
        return onPath;
    }
}
