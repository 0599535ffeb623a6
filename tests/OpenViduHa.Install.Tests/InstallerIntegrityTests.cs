using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace OpenViduHa.Install.Tests;

/// <summary>
/// The installer as the nodes get it: over https from the lab's server (its CA trusted by the nodes, like a public CA),
/// a redirect to http refused, a pinned SHA-256 checked on the node before anything runs, digests fetched through a
/// node for the operator to pin.
/// </summary>
public sealed class InstallerIntegrityTests
{
    [Fact]
    public async Task FetchDigests_ThenPin_InstallRunsOnlyTheScriptsAsPinned()
    {
        // Arrange
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("pinned", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));

        // Act: fetch through a node, then pin what was fetched.
        var fetch = await lp.RunJobAsync(id, "fetch-installer-digests");
        var fetched = (await lp.ClusterAsync(id))["fetchedInstallerSha256"]!;
        var pin = await lp.Api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256",
            new { master = fetched["master"]!.GetValue<string>(), media = fetched["media"]!.GetValue<string>() }, LabPanel.Json);
        var install = await lp.RunJobAsync(id, "install");

        // Assert
        Assert.Equal("succeeded", fetch["state"]!.GetValue<string>());
        Assert.Equal(lp.Lab.InstallerSha256("3.8.0", masterNode: true), fetched["master"]!.GetValue<string>());
        Assert.Equal(lp.Lab.InstallerSha256("3.8.0", masterNode: false), fetched["media"]!.GetValue<string>());
        Assert.Equal("master-1", fetched["via"]!.GetValue<string>());
        Assert.Equal(HttpStatusCode.NoContent, pin.StatusCode);
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
        var log = await lp.LogTextAsync(install["id"]!.GetValue<int>());
        Assert.Contains($"SHA-256 {lp.Lab.InstallerSha256("3.8.0", masterNode: true)}, as pinned", log, StringComparison.Ordinal);
        Assert.Contains($"SHA-256 {lp.Lab.InstallerSha256("3.8.0", masterNode: false)}, as pinned", log, StringComparison.Ordinal);
        Assert.All(nodes, n => Assert.Equal(1, n.InstallerRuns));
    }

    [Fact]
    public async Task PinnedDigest_ScriptChangedOnTheServer_RefusedOnEveryNodeWithBothDigests_ThenInstallsOnceRestored()
    {
        // Arrange: pinned to the genuine scripts, then the server hands out altered ones.
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("tampered", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]));
        var genuine = lp.Lab.InstallerSha256("3.8.0", masterNode: true);
        await lp.Api.PutAsJsonAsync($"/api/clusters/{id}/installer-sha256", new { master = genuine, media = lp.Lab.InstallerSha256("3.8.0", masterNode: false) }, LabPanel.Json);
        lp.Lab.InstallerTampered = true;

        // Act
        var preflight = await lp.RunJobAsync(id, "preflight");
        var refused = await lp.RunJobAsync(id, "install");

        // Assert: every master refused, naming both digests; nothing ran, nothing is marked installed, nothing started.
        Assert.Equal("failed", refused["state"]!.GetValue<string>());
        foreach (var master in new[] { "master-1", "master-2", "master-3", "master-4" })
        {
            Assert.Equal("failed", LabPanel.NodeState(refused, master));
            var message = LabPanel.NodeMessage(refused, master);
            Assert.Contains($"but the pinned one is {genuine}. It was not run.", message, StringComparison.Ordinal);
            Assert.Matches("has SHA-256 [0-9a-f]{64}, but", message);
            Assert.DoesNotContain($"has SHA-256 {genuine}", message, StringComparison.Ordinal);
        }
        Assert.Equal("skipped", LabPanel.NodeState(refused, "media-1"));
        Assert.All(nodes, n => Assert.Equal(0, n.InstallerRuns));
        Assert.All(nodes, n => Assert.False(n.ServiceActive));
        Assert.All((await lp.ClusterAsync(id))["nodes"]!.AsArray(), n => Assert.Null(n!["installedAt"]));
        var check = PreflightCheck(preflight, "master-1", "installer");
        Assert.Equal("fail", check["status"]!.GetValue<string>());
        Assert.Contains($"not the pinned {genuine}", check["detail"]!.GetValue<string>(), StringComparison.Ordinal);

        // The genuine scripts back: the same cluster installs (the refused run did not count as an install).
        lp.Lab.InstallerTampered = false;
        var install = await lp.RunJobAsync(id, "install");
        Assert.Equal("succeeded", install["state"]!.GetValue<string>());
        Assert.All(nodes, n => Assert.Equal(1, n.InstallerRuns));
    }

    [Fact]
    public async Task HttpsInstaller_RedirectToHttp_RefusedBeforeAnythingRuns()
    {
        // Arrange
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var spec = lp.Spec("no-downgrade", "3.8.0", nodes.Take(4).ToList(), [nodes[4]]);
        Assert.StartsWith("https://", spec.InstallerBaseUrl, StringComparison.Ordinal);
        var id = await lp.CreateAsync(spec);
        lp.Lab.InstallerRedirectsToHttp = true;

        // Act
        var job = await lp.RunJobAsync(id, "install");

        // Assert: curl refused the redirect (its own message), the installer never ran.
        Assert.Equal("failed", job["state"]!.GetValue<string>());
        Assert.Contains("curl: (1)", LabPanel.NodeMessage(job, "master-1"), StringComparison.Ordinal);
        Assert.All(nodes, n => Assert.Equal(0, n.InstallerRuns));
    }

    [Fact]
    public async Task FetchDigests_OnANamedMediaNode_ReadsThroughThatNode()
    {
        // Arrange
        await using var lp = await LabPanel.StartAsync(5);
        var nodes = lp.Lab.Nodes;
        var id = await lp.CreateAsync(lp.Spec("via-media", "3.0.0", nodes.Take(4).ToList(), [nodes[4]]));
        var media = await lp.NodeIdAsync(id, "media-1");

        // Act
        var job = await lp.RunJobAsync(id, "fetch-installer-digests", media);

        // Assert
        Assert.Equal("succeeded", job["state"]!.GetValue<string>());
        Assert.Equal("media-1", Assert.Single(job["nodes"]!.AsArray())!["nodeName"]!.GetValue<string>());
        var fetched = (await lp.ClusterAsync(id))["fetchedInstallerSha256"]!;
        Assert.Equal("media-1", fetched["via"]!.GetValue<string>());
        Assert.Equal(lp.Lab.InstallerSha256("3.0.0", masterNode: false), fetched["media"]!.GetValue<string>());
        Assert.Null((await lp.ClusterAsync(id))["installerSha256"]!["media"]); // fetched is not pinned
        Assert.All(nodes, n => Assert.Equal(0, n.InstallerRuns));
    }

    private static JsonObject PreflightCheck(JsonObject job, string node, string check)
    {
        var details = job["nodes"]!.AsArray().First(n => n!["nodeName"]!.GetValue<string>() == node)!["details"]!.GetValue<string>();
        return JsonNode.Parse(details)!.AsArray().Select(c => c!.AsObject()).First(c => c["name"]!.GetValue<string>() == check);
    }
}
