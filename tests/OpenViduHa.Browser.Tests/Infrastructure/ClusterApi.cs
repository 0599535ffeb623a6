using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// The one way the browser tests make a cluster without the wizard (which has a test of its own): POST /api/clusters with
/// four masters and the media nodes given, root by key.
/// </summary>
public static class ClusterApi
{
    /// <summary>A node of the request: its SSH endpoint is its private IP unless <paramref name="host"/> says otherwise.</summary>
    public sealed record Node(string PrivateIp, string PrivateKey, int Port = 22, string? HostKeyFingerprint = null, string? Host = null);

    public static async Task<int> CreateAsync(HttpClient api, string name, string version, IReadOnlyList<string> modules, string installerBaseUrl,
        IReadOnlyList<Node> masters, IReadOnlyList<Node> media, string licenseKey = "BROWSERLICENSE")
    {
        object Body(string role, Node n) => new
        {
            role, privateIp = n.PrivateIp,
            ssh = new { host = n.Host ?? n.PrivateIp, port = n.Port, username = "root", privateKey = n.PrivateKey, hostKeyFingerprint = n.HostKeyFingerprint },
        };
        var response = await api.PostAsJsonAsync("api/clusters", new
        {
            name, openviduVersion = version, domainName = "openvidu.example.io", licenseKey, modules, installerBaseUrl,
            nodes = masters.Select(n => Body("master", n)).Concat(media.Select(n => Body("media", n))).ToArray(),
        });
        Assert.True(response.IsSuccessStatusCode, await response.Content.ReadAsStringAsync());
        return (await response.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
    }
}
