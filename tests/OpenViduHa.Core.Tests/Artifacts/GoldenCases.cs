using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Core.Tests.Artifacts;

/// <summary>The clusters with approved outputs, by case name (the folder under Artifacts/Golden).</summary>
internal static class GoldenCases
{
    private static readonly string[] _loadBalancers = [NginxArtifact.Name, HaproxyArtifact.Name];

    public static readonly IReadOnlyDictionary<string, (Func<ClusterDefinition> Cluster, IReadOnlyList<string> Artifacts)> All =
        new Dictionary<string, (Func<ClusterDefinition>, IReadOnlyList<string>)>
        {
            ["v3.0.0-full"] = (() => TestClusters.Full("3.0.0"), ArtifactCatalog.Names),
            ["v3.8.0-full"] = (() => TestClusters.Full("3.8.0"), ArtifactCatalog.Names),
            ["v3.0.0-minimal"] = (() => TestClusters.Minimal("3.0.0"), ArtifactCatalog.Names),
            ["v3.8.0-minimal"] = (() => TestClusters.Minimal("3.8.0"), ArtifactCatalog.Names),
            ["v3.0.0-no-turn"] = (() => TestClusters.NoTurn("3.0.0"), _loadBalancers),
            ["v3.8.0-no-turn"] = (() => TestClusters.NoTurn("3.8.0"), _loadBalancers),
        };

    public static ClusterDefinition Cluster(string caseName) => All[caseName].Cluster();

    public static TheoryData<string, string> CasesWith(params string[] artifacts)
    {
        var data = new TheoryData<string, string>();
        foreach (var (caseName, (_, caseArtifacts)) in All)
            foreach (var artifact in caseArtifacts.Where(a => artifacts.Length == 0 || artifacts.Contains(a)))
                data.Add(caseName, artifact);
        return data;
    }
}
