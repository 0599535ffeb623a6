using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using OpenViduHa.Lab;

namespace OpenViduHa.Install.Tests;

public sealed class HostKeyAndSudoTests
{
    [Fact]
    public async Task FirstContact_PreflightRecordsKey_InstallRefusedUntilConfirmed_ThenInstallsThroughSudo()
    {
        // Arrange: no fingerprints given; two nodes reached as non-root users through sudo (with and without password).
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("first-contact", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]);
        foreach (var node in spec.Nodes!) node.Ssh!.HostKeyFingerprint = null;
        spec.Nodes[1].Ssh!.Username = LabUsers.Deploy;
        spec.Nodes[1].Ssh!.PrivateKey = null;
        spec.Nodes[1].Ssh!.PrivateKeyPassphrase = null;
        spec.Nodes[1].Ssh!.Password = lp.Lab.DeployPassword;
        spec.Nodes[1].Ssh!.SudoPassword = lp.Lab.DeployPassword;
        spec.Nodes[4].Ssh!.Username = LabUsers.DeployNoPasswd;
        var id = await lp.CreateAsync(spec);

        // Install is refused: nothing may run on a host whose key nobody confirmed.
        var refused = await lp.StartJobAsync(id, "install");
        Assert.Equal(HttpStatusCode.BadRequest, refused.StatusCode);
        Assert.Contains("not confirmed", await refused.Content.ReadAsStringAsync(), StringComparison.Ordinal);

        // Preflight records what each host presents, and runs nothing else.
        var preflight = await lp.RunJobAsync(id, "preflight");
        Assert.Equal("failed", preflight["state"]!.GetValue<string>());
        var cluster = await lp.ClusterAsync(id);
        foreach (var (node, lab) in cluster["nodes"]!.AsArray().Zip(nodes))
        {
            Assert.Equal(lab.HostKeyFingerprint, node!["presentedHostKeyFingerprint"]!.GetValue<string>());
            Assert.Contains(lab.HostKeyFingerprint, LabPanel.NodeMessage(preflight, node["name"]!.GetValue<string>()), StringComparison.Ordinal);
        }
        Assert.All(nodes, n => Assert.Equal(0, n.InstallerRuns));

        // The operator confirms each key (compared out of band).
        foreach (var (node, lab) in cluster["nodes"]!.AsArray().Zip(nodes))
        {
            var pin = await lp.Api.PostAsJsonAsync($"/api/nodes/{node!["id"]}/host-key", new { fingerprint = lab.HostKeyFingerprint }, LabPanel.Json);
            Assert.Equal(HttpStatusCode.NoContent, pin.StatusCode);
        }

        // A second, different fingerprint is not silently accepted over a pinned one.
        var other = await lp.Api.PostAsJsonAsync($"/api/nodes/{cluster["nodes"]![0]!["id"]}/host-key",
            new { fingerprint = "SHA256:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }, LabPanel.Json);
        Assert.Equal(HttpStatusCode.Conflict, other.StatusCode);

        // Now preflight passes SSH and root on every node (CPU/RAM checks reflect this 2-core test machine).
        var second = await lp.RunJobAsync(id, "preflight");
        foreach (var node in second["nodes"]!.AsArray())
        {
            var details = node!["details"]!.GetValue<string>();
            Assert.Contains("\"name\":\"ssh\",\"status\":\"pass\"", details, StringComparison.Ordinal);
            Assert.Contains("\"name\":\"root\",\"status\":\"pass\"", details, StringComparison.Ordinal);
            Assert.Contains("\"name\":\"private ip\",\"status\":\"pass\"", details, StringComparison.Ordinal);
            Assert.Contains("\"name\":\"tcp ", details, StringComparison.Ordinal);
            Assert.False(details.Contains("\"status\":\"fail\",\"detail\":\"Redis", StringComparison.Ordinal), details);
        }
        Assert.Contains("sudo works for deploy", second["nodes"]![1]!["details"]!.GetValue<string>(), StringComparison.Ordinal);

        var install = await lp.RunJobAsync(id, "install");
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
        Assert.All(nodes, n => Assert.Equal(1, n.InstallerRuns));
        Assert.DoesNotContain(lp.Lab.DeployPassword, await lp.LogTextAsync(install["id"]!.GetValue<int>()), StringComparison.Ordinal);
    }
}
