using OpenViduHa.Core.Clusters;

namespace OpenViduHa.Tests.Shared;

/// <summary>Valid cluster specs to start a test from; each test changes one thing.</summary>
public static class Specs
{
    public static ClusterSpec Valid(string name = "prod", string version = "3.0.0", int media = 2)
    {
        var nodes = new List<NodeSpec>();
        for (var i = 1; i <= 4; i++) nodes.Add(Node("master", $"10.5.0.{i}", null));
        for (var i = 1; i <= media; i++) nodes.Add(Node("media", $"10.5.0.{10 + i}", $"203.0.113.{10 + i}"));
        return new ClusterSpec
        {
            Name = name,
            OpenviduVersion = version,
            DomainName = "openvidu.example.io",
            TurnDomainName = "turn.example.io",
            LicenseKey = "TESTLICENSE0123456789",
            RtcEngine = "pion",
            Modules = ["observability", "v2compatibility", version.StartsWith("3.0", StringComparison.Ordinal) ? "app" : "openviduMeet"],
            InstallerBaseUrl = ClusterDefaults.InstallerBaseUrl,
            Nodes = nodes,
        };
    }

    public static NodeSpec Node(string role, string privateIp, string? publicIp, string? key = null) => new()
    {
        Role = role,
        PrivateIp = privateIp,
        PublicIp = publicIp,
        Ssh = new SshSpec { Host = privateIp, Port = 22, Username = "root", PrivateKey = key ?? TestKeys.Ed25519 },
    };
}
