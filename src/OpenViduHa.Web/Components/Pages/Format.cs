using System.Globalization;

namespace OpenViduHa.Web.Components.Pages;

/// <summary>How pages print times: UTC, sortable, the same everywhere (the audit log and the API use UTC too).</summary>
internal static class Format
{
    public static string Utc(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm", CultureInfo.InvariantCulture);

    public static string UtcSeconds(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    public static string Utc(DateTimeOffset? at, string none = "never") => at is { } value ? Utc(value) : none;
}
