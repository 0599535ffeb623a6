using Microsoft.Playwright;

namespace OpenViduHa.Browser.Tests.PageObjects;

/// <summary>The cluster page's Status tab: the cluster's health, the topology picture, node cards, containers and ports.</summary>
public sealed class StatusTab(IPage page)
{
    /// <summary>The cluster's chip: <c>data-health</c> healthy, degraded, down or unknown.</summary>
    public ILocator ClusterHealth => page.GetByTestId("cluster-health");
    public ILocator ClusterReason => page.GetByTestId("cluster-health-reason");
    public ILocator ClusterHistory => page.GetByTestId("cluster-history");
    public ILocator Checked => page.GetByTestId("status-checked");
    public ILocator Refresh => page.GetByTestId("status-refresh");
    public ILocator CheckPorts => page.GetByTestId("status-check-ports");
    public ILocator PortsChecked => page.GetByTestId("status-ports-checked");

    /// <summary>A node's card: <c>data-health</c> green, amber, red or grey.</summary>
    public ILocator NodeCard(string node) => page.GetByTestId($"node-card-{node}");
    public ILocator NodeReasons(string node) => page.GetByTestId($"node-reasons-{node}");
    public ILocator NodeService(string node) => page.GetByTestId($"node-service-{node}");
    public ILocator NodeHistory(string node) => page.GetByTestId($"node-history-{node}");
    public ILocator NodeCards => page.Locator("[data-testid^='node-card-']");

    /// <summary>A node in the topology picture (an SVG group), with <c>data-health</c> like its card.</summary>
    public ILocator TopologyNode(string node) => page.GetByTestId($"topo-node-{node}");
    public ILocator LoadBalancer => page.GetByTestId("topo-lb");

    /// <summary>A port matrix cell: <c>data-open</c> true when every check of the group is open; <paramref name="from"/> is panel, masters or media.</summary>
    public ILocator Port(string node, int port, string from) => page.GetByTestId($"port-{node}-{port}-{from}");

    /// <summary>A container's row (<c>data-state</c>, <c>data-trouble</c> none, restarting, restarted or failed): shown while its node is open.</summary>
    public ILocator Container(string node, string container) => page.GetByTestId($"container-{node}-{container}");

    /// <summary>Opens a node's containers in the table (nodes with a troubled container are open already).</summary>
    public async Task OpenContainersAsync(string node)
    {
        var toggle = page.GetByTestId($"containers-toggle-{node}");
        if (await toggle.GetAttributeAsync("aria-expanded") != "true") await toggle.ClickAsync();
        await Assertions.Expect(toggle).ToHaveAttributeAsync("aria-expanded", "true");
    }

    /// <summary>The checked-at time of the sweep on screen (Unix ms): it moves with every sweep.</summary>
    public async Task<long> CheckedAtAsync() => long.Parse(await Checked.GetAttributeAsync("data-checked-at") ?? "0");
}
