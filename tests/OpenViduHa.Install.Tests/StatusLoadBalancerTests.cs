using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text.Json.Nodes;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// The load balancer check through Debian's real NGINX running the panel's own generated nginx.conf in front of the
/// lab's masters (TLS with a self-signed certificate made by openssl). Changed for the test: the certificate folder and
/// the listen address (127.0.4.1:443, the cluster's load balancer IP, instead of every address).
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
        var dir = Directory.CreateTempSubdirectory("ovha-lb-");
        try
        {
            await RunAsync("openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", $"/CN={spec.DomainName}",
                "-addext", $"subjectAltName=DNS:{spec.DomainName}", "-keyout", Path.Combine(dir.FullName, "openvidu-key.pem"), "-out", Path.Combine(dir.FullName, "openvidu-cert.pem"));
            var generated = await lp.Api.GetStringAsync($"/api/clusters/{id}/artifacts/nginx.conf");
            Assert.Contains("listen 443 ssl;", generated, StringComparison.Ordinal);
            var conf = generated.Replace("/etc/nginx/ssl/", dir.FullName + "/", StringComparison.Ordinal)
                .Replace("listen 443 ssl;", $"listen {LoadBalancerIp}:443 ssl;", StringComparison.Ordinal);
            File.WriteAllText(Path.Combine(dir.FullName, "nginx.conf"), conf);
            Directory.CreateSymbolicLink(Path.Combine(dir.FullName, "modules"), "/usr/lib/nginx/modules");
            var prefix = dir.FullName + "/";
            using var nginx = Process.Start(new ProcessStartInfo("/usr/sbin/nginx",
                ["-c", prefix + "nginx.conf", "-p", prefix, "-e", prefix + "error.log", "-g", $"daemon off; pid {prefix}nginx.pid; error_log {prefix}error.log;"]))!;
            try
            {
                await WaitListeningAsync(LoadBalancerIp, 443, () => File.Exists(prefix + "error.log") ? File.ReadAllText(prefix + "error.log") : "");

                var up = await RefreshAsync(lp, id);
                var lb = up["loadBalancer"]!;
                Assert.True(lb["checked"]!.GetValue<bool>(), lb.ToJsonString());
                if (!lb["reachable"]!.GetValue<bool>())
                {
                    using var curl = Process.Start(new ProcessStartInfo("curl", ["-skv", "--max-time", "5", "--resolve", $"{spec.DomainName}:443:{LoadBalancerIp}", $"https://{spec.DomainName}/health/caddy"]) { RedirectStandardError = true, RedirectStandardOutput = true })!;
                    var curlText = await curl.StandardError.ReadToEndAsync() + await curl.StandardOutput.ReadToEndAsync();
                    Assert.Fail(lb.ToJsonString() + "\n" + curlText + "\n" + File.ReadAllText(prefix + "error.log") + "\n" + conf);
                }
                Assert.StartsWith("HTTP 200, certificate not trusted here", lb["detail"]!.GetValue<string>(), StringComparison.Ordinal);
                Assert.Equal($"https://{spec.DomainName}/health/caddy via {LoadBalancerIp}", lb["target"]!.GetValue<string>());
                Assert.Equal("healthy", up["health"]!.GetValue<string>());
            }
            finally
            {
                nginx.Kill(entireProcessTree: true);
                await nginx.WaitForExitAsync();
            }

            var down = await RefreshAsync(lp, id);
            Assert.False(down["loadBalancer"]!["reachable"]!.GetValue<bool>());
            Assert.Equal("degraded", down["health"]!.GetValue<string>());
            Assert.Equal("load balancer: connection refused.", down["reason"]!.GetValue<string>());
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static async Task<JsonObject> RefreshAsync(LabPanel lp, int id)
    {
        var response = await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }

    private static async Task RunAsync(string file, params string[] args)
    {
        using var p = Process.Start(new ProcessStartInfo(file, args) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        var err = p.StandardError.ReadToEndAsync();
        await p.StandardOutput.ReadToEndAsync();
        await p.WaitForExitAsync();
        Assert.True(p.ExitCode == 0, $"{file} failed: {await err}");
    }

    private static async Task WaitListeningAsync(string ip, int port, Func<string> diagnostics)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp);
                await socket.ConnectAsync(ip, port);
                return;
            }
            catch (SocketException) when (DateTime.UtcNow < deadline)
            {
                await Task.Delay(50);
            }
            catch (SocketException)
            {
                Assert.Fail($"nginx did not listen on {ip}:{port}: {diagnostics()}");
            }
        }
    }
}
