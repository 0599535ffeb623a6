using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>
/// A line break or other control character inside a one-line value is refused at its field when the cluster is saved,
/// never found later as a broken line in nginx.conf or an install command. In .NET a pattern's <c>$</c> also matches
/// before a final "\n", so <c>"example.io\n."</c> used to pass; every pattern now ends in <c>\z</c>, and a control
/// character is named as such first.
/// </summary>
public sealed class ControlCharacterTests
{
    private const string OneLine = "Remove the line break, tab or other control character: this field is one line of plain text.";

    public static TheoryData<string, string, Action<ClusterSpec>> OneLineFields => new()
    {
        { "a domain ending in a line break and a dot", "domainName", s => s.DomainName = "openvidu.example.io\n." },
        { "a line break inside the domain", "domainName", s => s.DomainName = "a\n.example.io" },
        { "a tab inside the TURN domain", "turnDomainName", s => s.TurnDomainName = "turn\t.example.io" },
        { "a line break inside the name", "name", s => s.Name = "prod\nrm" },
        { "a line break inside the version", "openviduVersion", s => s.OpenviduVersion = "3.0.0\n." },
        { "a line break inside the licence", "licenseKey", s => s.LicenseKey = "TRIAL\n--install" },
        { "a line break in the installer URL", "installerBaseUrl", s => s.InstallerBaseUrl = "https://get.openvidu.io\n/x" },
        { "a line break in the load balancer IP", "loadBalancerIp", s => s.LoadBalancerIp = "10.5.0.100\n1" },
        { "a line break in a private IP", "nodes[1].privateIp", s => s.Nodes![1].PrivateIp = "10.5.0.2\n0" },
        { "a line break in a public IP", "nodes[4].publicIp", s => s.Nodes![4].PublicIp = "203.0.113.11\n0" },
        { "a line break in an SSH host", "nodes[2].ssh.host", s => s.Nodes![2].Ssh!.Host = "node\n3" },
        { "an escape in an SSH user", "nodes[3].ssh.username", s => s.Nodes![3].Ssh!.Username = "ro\u001bot" },
    };

    [Theory]
    [MemberData(nameof(OneLineFields))]
    public void Validate_ControlCharacter_RefusedAtItsField(string _, string field, Action<ClusterSpec> change)
    {
        var spec = Specs.Valid();
        change(spec);

        var result = ClusterValidator.Validate(spec);

        Assert.False(result.IsValid);
        Assert.Equal([OneLine], result.Errors.For(field));
    }

    [Theory]
    [InlineData("password")]
    [InlineData("sudoPassword")]
    public void Validate_LineBreakInAPassword_Refused(string field)
    {
        var spec = Specs.Valid();
        var ssh = spec.Nodes![0].Ssh!;
        if (field == "password") { ssh.PrivateKey = null; ssh.Password = "secret\nsecond-line"; }
        else ssh.SudoPassword = "sudo\nsecond-line";

        var result = ClusterValidator.Validate(spec);

        Assert.StartsWith("A password cannot hold a line break", Assert.Single(result.Errors.For($"nodes[0].ssh.{field}")), StringComparison.Ordinal);
    }

    /// <summary>One final line break after a valid fingerprint: what a pattern ending in <c>$</c> let through.</summary>
    [Theory]
    [InlineData("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s\n")]
    [InlineData("SHA256:uNiVztksCsDhcc0u9e8BujQXVUpKZIDTMczCvj3tD2s=\n")]
    public void IsFingerprint_TrailingLineBreak_False(string fingerprint) =>
        Assert.False(ClusterValidator.IsFingerprint(fingerprint));

    [Theory]
    [InlineData("10.5.0.1\n")]
    [InlineData("openvidu.example.io\n")]
    public void Patterns_FinalLineBreak_NoLongerMatch(string text)
    {
        Assert.False(ClusterValidator.IsIPv4(text));
        Assert.False(ClusterValidator.IsFqdn(text));
        Assert.False(OpenViduVersion.TryParse("3.8.0\n", out _));
    }

    /// <summary>Whatever the validator let through, the artifacts take: every artifact of a valid cluster generates.</summary>
    [Fact]
    public void Validate_SurroundingWhitespaceAndLineBreaks_TrimmedAndEveryArtifactGenerates()
    {
        var spec = Specs.Valid();
        spec.DomainName = "  openvidu.example.io\n";
        spec.LicenseKey = "TESTLICENSE0123456789\r\n";

        var result = ClusterValidator.Validate(spec);

        Assert.True(result.IsValid, result.Errors.ToString());
        Assert.Equal("openvidu.example.io", result.Definition!.DomainName);
        foreach (var name in ArtifactCatalog.Names) Assert.NotEmpty(ArtifactCatalog.Generate(result.Definition, name).Content);
    }
}
