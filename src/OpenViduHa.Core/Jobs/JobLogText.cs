using System.Globalization;

namespace OpenViduHa.Core.Jobs;

/// <summary>A job's log as plain text: one line per log line, <c>seq  time  [node]  text</c> (the download and the copy).</summary>
public static class JobLogText
{
    /// <summary>The tag of the job's own lines (those that belong to no node), in the text and in the node filter.</summary>
    public const string PanelNode = "panel";

    public static string Header(JobView job) =>
        $"# job {job.Id} {job.Kind.Name()}, cluster {job.ClusterId}, {job.State.Lower()}, created {Time(job.CreatedAt)} by {job.CreatedBy}";

    public static string Line(JobLogLineView line) =>
        string.Create(CultureInfo.InvariantCulture, $"{line.Seq,6}  {Time(line.At)}  [{line.Node ?? PanelNode}]  {line.Text}");

    private static string Time(DateTimeOffset at) => at.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff'Z'", CultureInfo.InvariantCulture);
}
