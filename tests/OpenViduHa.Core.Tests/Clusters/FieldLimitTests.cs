using OpenViduHa.Core.Clusters;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>Every field has a size, said at the field: nothing unbounded reaches the database, a command line or a file.</summary>
public sealed class FieldLimitTests
{
    private static IReadOnlyList<string> ErrorsAt(string field, Action<ClusterSpec> change)
    {
        var spec = Specs.Valid();
        change(spec);
        return ClusterValidator.Validate(spec).Errors.For(field);
    }

    [Fact]
    public void Validate_501Nodes_RefusedAtNodes()
    {
        var spec = Specs.Valid(media: ClusterValidator.DefaultMaxNodes - 4 + 1);

        var errors = ClusterValidator.Validate(spec).Errors;

        Assert.Equal(["At most 500 nodes per cluster (Clusters:MaxNodes); this one has 501."], errors.For("nodes"));
    }

    [Fact]
    public void Validate_MoreNodesAllowedByConfiguration_Valid()
    {
        var spec = Specs.Valid(media: 6);

        Assert.False(ClusterValidator.Validate(spec, maxNodes: 9).IsValid);
        Assert.True(ClusterValidator.Validate(spec, maxNodes: 10).IsValid);
    }

    [Fact]
    public void Validate_500Nodes_Valid()
    {
        var spec = Specs.Valid(media: ClusterValidator.DefaultMaxNodes - 4);
        for (var i = 4; i < spec.Nodes!.Count; i++)
        {
            spec.Nodes[i].PrivateIp = $"10.6.{i / 250}.{i % 250 + 1}";
            spec.Nodes[i].Ssh!.Host = spec.Nodes[i].PrivateIp;
            spec.Nodes[i].PublicIp = null;
        }

        var result = ClusterValidator.Validate(spec);

        Assert.True(result.IsValid, string.Join(" ", result.Errors.Fields.Take(5)));
    }

    [Theory]
    [InlineData("licenseKey", 513, "Too long for a licence: at most 512 characters.")]
    [InlineData("secrets.redisPassword", 257, "Too long: at most 256 characters.")]
    [InlineData("nodes[0].ssh.sudoPassword", 257, "Too long: at most 256 characters.")]
    [InlineData("nodes[0].ssh.password", 257, "Too long: at most 256 characters.")]
    [InlineData("installerBaseUrl", 2049, "Too long: at most 2048 characters.")]
    public void Validate_OneCharacterOverTheLimit_RefusedAtTheField(string field, int length, string message)
    {
        var text = new string('a', length);
        var errors = ErrorsAt(field, s =>
        {
            switch (field)
            {
                case "licenseKey": s.LicenseKey = text; break;
                case "secrets.redisPassword": s.Secrets = new() { ["redisPassword"] = text }; break;
                case "nodes[0].ssh.sudoPassword": s.Nodes![0].Ssh!.SudoPassword = text; break;
                case "nodes[0].ssh.password": s.Nodes![0].Ssh!.PrivateKey = null; s.Nodes[0].Ssh!.Password = text; break;
                case "installerBaseUrl": s.InstallerBaseUrl = "https://get.openvidu.io/" + text[24..]; break;
            }
        });

        Assert.Equal([message], errors);
    }

    [Fact]
    public void Validate_PrivateKeyOver16KiB_RefusedAtTheKey()
    {
        var errors = ErrorsAt("nodes[0].ssh.privateKey", s => s.Nodes![0].Ssh!.PrivateKey = TestKeys.Ed25519 + new string('A', ClusterValidator.MaxPrivateKeyLength));

        Assert.StartsWith("Too long for a private key: at most 16384 characters", Assert.Single(errors), StringComparison.Ordinal);
    }
}
