using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Status;
using OpenViduHa.Core.Users;
using OpenViduHa.Web.Api;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Status;

/// <summary>The cluster's live status as JSON: what the status tab shows, for scripts and monitoring.</summary>
public static class StatusEndpoints
{
    public sealed record ContainerDto(string Name, string Image, string State, string Status, int RestartCount);
    public sealed record PortDto(int Port, string Protocol, string From, bool Open, string? Detail, DateTimeOffset? CheckedAt);
    public sealed record ResourcesDto(double Load1, double Load5, double Load15, int Cpus, long MemoryTotalKb, long MemoryAvailableKb, long DiskTotalKb, long DiskUsedKb, string DiskPath);

    public sealed record NodeDto(
        int NodeId,
        string Name,
        string Role,
        string PrivateIp,
        bool Reachable,
        double? RttMs,
        string Service,
        string Health,
        IReadOnlyList<string> Reasons,
        string? NotWatched,
        IReadOnlyList<ContainerDto> Containers,
        IReadOnlyList<PortDto> Ports,
        ResourcesDto? Resources,
        DateTimeOffset? CheckedAt,
        bool Leaving);

    public sealed record LoadBalancerDto(string Target, bool Checked, bool Reachable, string Detail);

    public sealed record StatusDto(
        int ClusterId,
        string Cluster,
        DateTimeOffset? CheckedAt,
        string Health,
        string Reason,
        double SweepMs,
        DateTimeOffset? PortsCheckedAt,
        int PortChecksRun,
        LoadBalancerDto? LoadBalancer,
        IReadOnlyList<NodeDto> Nodes);

    public static void MapStatusApi(this IEndpointRouteBuilder app)
    {
        var group = app.MapGroup("/api/clusters/{id:int}/status").WithTags("Status");

        group.MapGet("/", async Task<IResult> (int id, StatusCollector collector, CancellationToken ct) =>
            {
                // Before the first picture (just started, or sweeps off), asking is a sweep, or waits for the one running.
                var status = await collector.LatestAsync(id, ct);
                return status is null ? ClusterEndpoints.NotFound(id) : TypedResults.Ok(ToDto(status));
            })
            .Produces<StatusDto>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .WithName("GetClusterStatus").WithSummary("Read the cluster's latest status.")
            .WithDescription("The latest sweep's picture: cluster health and reason, every node's reachability, service, containers and port checks.");

        group.MapPost("/refresh", async Task<IResult> (int id, bool? ports, StatusCollector collector, CancellationToken ct) =>
                await collector.RefreshAsync(id, allPorts: ports == true, force: true, ct) is { } status ? TypedResults.Ok(ToDto(status)) : ClusterEndpoints.NotFound(id))
            .Produces<StatusDto>()
            .ProducesProblem(StatusCodes.Status404NotFound)
            .RequireScope(TokenScope.Operate)
            .WithName("RefreshClusterStatus").WithSummary("Sweep the cluster now and answer with its status.")
            .WithDescription("Sweeps the cluster now (connections waiting out a backoff are retried) and answers with the fresh status. " +
                             "The port matrix runs on its own tier (Status:PortCheckInterval): only the checks that are due run, " +
                             "unless ports=true, which runs every port check now.");
    }

    public static StatusDto ToDto(ClusterStatus status) => new(
        status.ClusterId,
        status.ClusterName,
        status.CheckedAt,
        status.Health.Lower(),
        status.Reason,
        Math.Round(status.SweepDuration.TotalMilliseconds, 1),
        status.PortsCheckedAt,
        status.PortChecksRun,
        status.LoadBalancer is { } lb ? new LoadBalancerDto(lb.Target, lb.Checked, lb.Reachable, lb.Detail) : null,
        status.Nodes.Select(n => new NodeDto(
            n.NodeId,
            n.Name,
            n.Role == NodeRole.Master ? "master" : "media",
            n.PrivateIp,
            n.Reachable,
            n.RttMs,
            n.Service,
            n.Health.Lower(),
            n.Reasons,
            n.NotWatched,
            n.Containers.Select(c => new ContainerDto(c.Name, c.Image, c.State, c.Status, c.RestartCount)).ToList(),
            n.Ports.Select(p => new PortDto(p.Port, p.Protocol, p.From, p.Open, p.Detail, p.CheckedAt)).ToList(),
            n.Resources is { } r ? new ResourcesDto(r.Load1, r.Load5, r.Load15, r.Cpus, r.MemoryTotalKb, r.MemoryAvailableKb, r.DiskTotalKb, r.DiskUsedKb, r.DiskPath) : null,
            n.CheckedAt,
            n.Leaving)).ToList());
}
