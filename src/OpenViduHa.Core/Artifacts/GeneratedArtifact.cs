namespace OpenViduHa.Core.Artifacts;

/// <summary>A file generated from a cluster: what the UI offers for download and the API returns.</summary>
/// <param name="Name">The artifact's name in <see cref="ArtifactCatalog.Names"/>, e.g. <c>nginx.conf</c>.</param>
/// <param name="FileName">The suggested download name: <c>{cluster}-{name}</c>.</param>
/// <param name="ContentType">The media type to serve it with.</param>
/// <param name="Content">The text, <c>\n</c> line endings, deterministic (no timestamps). May hold secrets.</param>
public sealed record GeneratedArtifact(string Name, string FileName, string ContentType, string Content)
{
    /// <summary>Never print the content: several artifacts hold the cluster's secrets.</summary>
    public override string ToString() => $"{FileName} ({ContentType}, {Content.Length} chars)";
}
