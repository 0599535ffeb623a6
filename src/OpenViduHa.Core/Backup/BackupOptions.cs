using System.ComponentModel.DataAnnotations;

namespace OpenViduHa.Core.Backup;

/// <summary>The <c>Backup</c> section.</summary>
public sealed class BackupOptions
{
    public const string Section = "Backup";

    /// <summary>
    /// The largest backup file a restore takes (the API's request body, the page's upload): 256 MiB by default. A backup is
    /// compressed JSON, mostly job logs: a panel with a few clusters and a year of jobs makes a few MB. The whole file is
    /// held in memory while it is restored.
    /// </summary>
    [Range(1024 * 1024, 2L * 1024 * 1024 * 1024)]
    public long MaxFileBytes { get; set; } = 256L * 1024 * 1024;
}
