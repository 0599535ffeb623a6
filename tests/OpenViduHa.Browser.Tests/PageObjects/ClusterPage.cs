using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary><c>/clusters/{id}</c>: header, node table and artifact downloads.</summary>
public sealed class ClusterPage(IPage page)
{
    public ILocator Name => page.GetByTestId("cluster-name");
    public ILocator Domain => page.GetByTestId("cluster-domain");
    public ILocator NodesTable => page.GetByTestId("nodes-table");

    /// <summary>The nodes tab's "Installed" cell of a node: "no", or when (UTC).</summary>
    public ILocator Installed(string node) => page.GetByTestId($"installed-{node}");

    public ILocator Facts => page.GetByTestId("cluster-facts");

    /// <summary>Above the tabs once a media node was added here: what it means for the load balancer.</summary>
    public ILocator LoadBalancerNote => page.GetByTestId("lb-note");

    /// <summary>The same, in one sentence, in the add-media-node form.</summary>
    public ILocator AddNodeLoadBalancerHint => page.GetByTestId("add-node-lb-hint");

    public Task WaitUntilInteractiveAsync() => Assertions.Expect(page.GetByTestId("delete-cluster")).ToBeEnabledAsync();

    public async Task OpenTabAsync(string title)
    {
        await page.GetByRole(AriaRole.Tab, new() { Name = title }).ClickAsync();
    }

    public Task EditAsync() => page.GetByTestId("edit-cluster").ClickAsync();

    /// <summary>Opens the delete dialog.</summary>
    public Task OpenDeleteAsync() => page.GetByTestId("delete-cluster").ClickAsync();

    /// <summary>In the open delete dialog: Delete stays disabled until the cluster's name is typed exactly; then delete, back to the list.</summary>
    public async Task ConfirmDeleteAsync(string name)
    {
        var confirm = page.GetByTestId("delete-confirm");
        var typed = page.GetByTestId("delete-confirm-name");
        await Assertions.Expect(confirm).ToBeDisabledAsync();
        await typed.FillAsync(name + "x");
        await Assertions.Expect(confirm).ToBeDisabledAsync();
        await typed.FillAsync(name);
        await confirm.ClickAsync();
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(@"/clusters$")); // client-side routing: poll the address
    }

    /// <summary>The delete dialog's "Download credentials.env first" link: the file's name and text (the dialog stays open).</summary>
    public Task<(string FileName, string Content)> DownloadCredentialsFromDeleteDialogAsync() => DownloadByTestIdAsync("delete-download-credentials");

    /// <summary>Clicks the artifact's download link and returns the downloaded file's text.</summary>
    public Task<(string FileName, string Content)> DownloadAsync(string artifact) => DownloadByTestIdAsync($"download-{artifact}");

    /// <summary>Clicks the load balancer note's download link for <paramref name="artifact"/> (nginx.conf, haproxy.cfg).</summary>
    public Task<(string FileName, string Content)> DownloadFromLoadBalancerNoteAsync(string artifact) => DownloadByTestIdAsync($"lb-note-download-{artifact}");

    /// <summary>
    /// Opens the add-media-node form on the Nodes tab, fills the node (signing in like the newest media node, the form's
    /// default) and submits it; returns what the form said about the load balancer.
    /// </summary>
    public async Task<string> AddMediaNodeAsync(string privateIp, string? hostKeyFingerprint = null)
    {
        await OpenTabAsync("Nodes");
        await page.GetByTestId("add-media-node-open").ClickAsync();
        var form = new ClusterWizardPage(page);
        await form.FillAsync("node.privateIp", privateIp);
        if (hostKeyFingerprint is not null) await form.FillAsync("node.ssh.hostKeyFingerprint", hostKeyFingerprint);
        var hint = await AddNodeLoadBalancerHint.InnerTextAsync();
        await page.GetByTestId("add-node-submit").ClickAsync();
        return hint;
    }

    /// <summary>The add-node form's "SSH access" choice (by default: like the newest media node).</summary>
    public ILocator AddNodeSshAccess => page.GetByTestId("add-media-node").Locator(".mud-select");

    public ILocator AddNodeSubmit => page.GetByTestId("add-node-submit");

    private async Task<(string FileName, string Content)> DownloadByTestIdAsync(string testId)
    {
        var download = await page.RunAndWaitForDownloadAsync(() => page.GetByTestId(testId).ClickAsync());
        var path = await download.PathAsync();
        return (download.SuggestedFilename, await File.ReadAllTextAsync(path));
    }
}
