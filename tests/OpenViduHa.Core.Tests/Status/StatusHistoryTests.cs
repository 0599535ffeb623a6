using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Status;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Status;

/// <summary>The status history on the real database: changes only, trimmed per node, and the host keys nodes presented.</summary>
public sealed class StatusHistoryTests : IDisposable
{
    private readonly PanelDatabase _db = new();

    public void Dispose() => _db.Dispose();

    private StatusHistory History(int perNode) => new(_db.Factory, new StatusOptions { HistoryPerNode = perNode }, TimeProvider.System);

    private static ClusterStatus Status(int clusterId, IEnumerable<Core.Data.NodeEntity> nodes, NodeHealth health, string reason) => new()
    {
        ClusterId = clusterId, ClusterName = "prod", CheckedAt = DateTimeOffset.UtcNow,
        Health = health == NodeHealth.Green ? ClusterHealth.Healthy : ClusterHealth.Degraded, Reason = reason,
        Nodes = nodes.Select(n => new NodeStatus { NodeId = n.Id, Name = n.Name, Role = n.Role, PrivateIp = n.PrivateIp, Health = health, Reasons = [reason] }).ToList(),
    };

    private async Task<List<(int? NodeId, string Reason)>> RowsAsync(int clusterId)
    {
        await using var db = _db.Open();
        return (await db.StatusChanges.Where(c => c.ClusterId == clusterId).OrderBy(c => c.Id).Select(c => new { c.NodeId, c.Reason }).ToListAsync())
            .Select(r => (r.NodeId, r.Reason)).ToList();
    }

    [Fact]
    public async Task RecordAsync_ManyChanges_OnlyChangesWrittenAndTheNewestKeptPerNodeAndForTheCluster()
    {
        // Arrange: five verdicts in turn for master-1 and the cluster; master-2 changes once; another cluster has its own rows.
        var clusterId = await _db.CreateClusterAsync();
        var otherId = await _db.CreateClusterAsync("other");
        var nodes = await _db.NodesAsync(clusterId);
        var history = History(perNode: 3);
        await history.LoadAsync(clusterId, CancellationToken.None);
        await history.RecordAsync(Status(otherId, await _db.NodesAsync(otherId), NodeHealth.Green, "fine"), new Dictionary<int, string>(), CancellationToken.None);

        // Act
        await history.RecordAsync(Status(clusterId, nodes.Take(2), NodeHealth.Green, "r0"), new Dictionary<int, string>(), CancellationToken.None);
        await history.RecordAsync(Status(clusterId, nodes.Take(2), NodeHealth.Green, "r0"), new Dictionary<int, string>(), CancellationToken.None); // no change
        for (var i = 1; i <= 4; i++)
            await history.RecordAsync(Status(clusterId, nodes.Take(1).Append(nodes[1]), NodeHealth.Amber, $"r{i}") with
            {
                Nodes = [new NodeStatus { NodeId = nodes[0].Id, Name = "master-1", Role = nodes[0].Role, PrivateIp = "10.5.0.1", Health = NodeHealth.Amber, Reasons = [$"r{i}"] },
                         new NodeStatus { NodeId = nodes[1].Id, Name = "master-2", Role = nodes[1].Role, PrivateIp = "10.5.0.2", Health = NodeHealth.Green, Reasons = ["r0"] }],
            }, new Dictionary<int, string>(), CancellationToken.None);

        // Assert
        var rows = await RowsAsync(clusterId);
        Assert.Equal(["r2", "r3", "r4"], rows.Where(r => r.NodeId == nodes[0].Id).Select(r => r.Reason));
        Assert.Equal(["r0"], rows.Where(r => r.NodeId == nodes[1].Id).Select(r => r.Reason));
        Assert.Equal(["r2", "r3", "r4"], rows.Where(r => r.NodeId is null).Select(r => r.Reason));
        Assert.Equal(7 + 3 + 4 + 4, history.ChangesWritten); // the other cluster, the first round, master-1 and the cluster four times
        Assert.Equal(7, (await RowsAsync(otherId)).Count); // 6 nodes and the cluster, untouched by the trim
    }

    [Fact]
    public async Task RecordAsync_HostsPresentedOtherKeys_KeptOnThoseNodesOnly()
    {
        // Arrange
        var clusterId = await _db.CreateClusterAsync();
        var nodes = await _db.NodesAsync(clusterId);
        var history = History(perNode: 50);
        var status = Status(clusterId, nodes, NodeHealth.Green, "fine");
        await history.RecordAsync(status, new Dictionary<int, string>(), CancellationToken.None);

        // Act: nothing else changed, but two hosts presented keys.
        await history.RecordAsync(status, new Dictionary<int, string> { [nodes[0].Id] = "SHA256:first", [nodes[4].Id] = "SHA256:second" }, CancellationToken.None);

        // Assert
        var after = await _db.NodesAsync(clusterId);
        Assert.Equal(["SHA256:first", null, null, null, "SHA256:second", null], after.Select(n => n.PresentedHostKeyFingerprint));
    }
}
