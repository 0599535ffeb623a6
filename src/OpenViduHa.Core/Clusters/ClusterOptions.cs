using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Core.Clusters;

/// <summary>The <c>Clusters</c> section: limits on what one cluster may hold.</summary>
public sealed class ClusterOptions
{
    public const string Section = "Clusters";

    /// <summary>
    /// Nodes per cluster (masters included). 500 by default; the status sweep is measured up to 1,000 (bench/), so a larger
    /// cluster can be allowed here.
    /// </summary>
    [Range(ClusterDefaults.MasterCount + 1, 5000)]
    public int MaxNodes { get; set; } = ClusterValidator.DefaultMaxNodes;
}
