using System.Net.Http.Json;
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
        Assert.False(down["loadBalancer"]!["reachable"]!.GetValue<bool>());
        Assert.Equal("degraded", down["health"]!.GetValue<string>());
        Assert.Equal("load balancer: connection refused.", down["reason"]!.GetValue<string>());
    }

    private static async Task<JsonObject> RefreshAsync(LabPanel lp, int id)
    {
        var response = await lp.Api.PostAsync($"/api/clusters/{id}/status/refresh", null);
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!;
    }
}
