using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Web.Components.Pages.Clusters;

namespace OpenViduHa.Web.Tests;

/// <summary>
/// The wizard's form without a browser: one shared SSH access written into every node that has no own, its errors said
/// once at the shared field, pasted IP lists, and an edit that finds the shared settings in the stored nodes.
/// </summary>
public sealed class ClusterFormTests
{
    private static ClusterForm NewForm(int media = 2)
    {
        var form = ClusterForm.New();
        while (form.MediaCount < media) form.AddMediaNode();
        form.Spec.Name = "prod";
        form.Spec.DomainName = "openvidu.example.io";
        form.Spec.LicenseKey = "TESTLICENSE0123456789";
        var lines = Enumerable.Range(1, 4).Select(i => new PastedNode($"10.5.0.{i}", null))
            .Concat(Enumerable.Range(1, media).Select(i => new PastedNode($"10.5.0.{10 + i}", null)))
            .ToList();
        form.ApplyPaste(lines);
        return form;
    }

    [Fact]
    public void New_Version_IsTheNewestKnownRelease()
    {
        var form = ClusterForm.New();

        Assert.Equal(OpenViduVersion.KnownReleases[^1], form.Spec.OpenviduVersion);
        Assert.Equal(InstallerGeneration.Current, form.Generation);
    }

    [Fact]
    public void ToSpec_SharedKey_InEveryNodeWithoutItsOwn()
    {
        // Arrange
        var form = NewForm();
        form.SharedSsh.PrivateKey = TestKeys.Ed25519;
        var own = form.Nodes[5];
        ClusterForm.SetOwnSsh(own, own: true, form.SharedSsh);
        own.Own.Auth = SshAuthKind.Password;
        own.Own.Password = "media-2-password";
        own.Own.Username = "ubuntu";

        // Act
        var spec = form.ToSpec();

        // Assert
        Assert.All(spec.Nodes!.Take(5), n => Assert.Equal((TestKeys.Ed25519, (string?)null, "root"), (n.Ssh!.PrivateKey, n.Ssh.Password, n.Ssh.Username)));
        Assert.Equal(((string?)null, "media-2-password", "ubuntu"), (spec.Nodes![5].Ssh!.PrivateKey, spec.Nodes[5].Ssh!.Password, spec.Nodes[5].Ssh!.Username));
        Assert.True(form.Validate().Errors.IsEmpty);
    }

    [Fact]
    public void SetOwnSsh_StartsFromTheSharedPortUserAndKind_NeverItsSecrets()
    {
        var form = NewForm();
        form.SharedSsh.Port = 2222;
        form.SharedSsh.Username = "admin";
        form.SharedSsh.PrivateKey = TestKeys.Ed25519;
        form.SharedSsh.SudoPassword = "sudo-secret";

        ClusterForm.SetOwnSsh(form.Nodes[4], own: true, form.SharedSsh);

        var own = form.Nodes[4].Own;
        Assert.Equal((2222, "admin", SshAuthKind.Key), (own.Port, own.Username, own.Auth));
        Assert.Null(own.PrivateKey);
        Assert.Null(own.SudoPassword);
    }

    [Fact]
    public void Validate_NoKeyAnywhere_OneErrorAtTheSharedField()
    {
        var form = NewForm();

        var errors = form.Validate().Errors;

        Assert.Equal(["Give a private key (or a password)."], errors.For("nodes.ssh.privateKey"));
        Assert.DoesNotContain(errors.Fields, f => f.StartsWith("nodes[", StringComparison.Ordinal) && f.EndsWith(".ssh.privateKey", StringComparison.Ordinal));
        Assert.Equal(WizardFields.NodesStep, WizardFields.StepOf("nodes.ssh.privateKey"));
        Assert.Equal("Shared SSH access · Private key", WizardFields.Describe("nodes.ssh.privateKey", form.Nodes));
    }

    [Fact]
    public void Validate_OwnAccessWithoutKey_ErrorAtThatNodesField()
    {
        var form = NewForm();
        form.SharedSsh.PrivateKey = TestKeys.Ed25519;
        ClusterForm.SetOwnSsh(form.Nodes[2], own: true, form.SharedSsh);

        var errors = form.Validate().Errors;

        Assert.Equal(["nodes[2].ssh.privateKey"], errors.Fields);
        Assert.Equal("master-3 · Private key", WizardFields.Describe("nodes[2].ssh.privateKey", form.Nodes));
    }

    [Fact]
    public void AddMediaNode_AfterTheSharedKey_TheNewNodeUsesIt()
    {
        var form = NewForm();
        form.SharedSsh.PrivateKey = TestKeys.Ed25519;

        form.AddMediaNode();
        form.Nodes[^1].Spec.PrivateIp = "10.5.0.13";

        Assert.Equal(TestKeys.Ed25519, form.ToSpec().Nodes![^1].Ssh!.PrivateKey);
        Assert.True(form.Validate().Errors.IsEmpty);
    }

    [Fact]
    public void ApplyPaste_MoreLinesThanRows_AddsMediaRowsWithPublicIps()
    {
        var form = ClusterForm.New();
        var pasted = NodeListPaste.Parse("10.5.0.1\n10.5.0.2\n10.5.0.3\n10.5.0.4\n10.5.0.11 203.0.113.11\n10.5.0.12,203.0.113.12\n10.5.0.13");

        form.ApplyPaste(pasted.Nodes);

        Assert.Equal(["10.5.0.1", "10.5.0.2", "10.5.0.3", "10.5.0.4", "10.5.0.11", "10.5.0.12", "10.5.0.13"], form.Nodes.Select(n => n.Spec.PrivateIp));
        Assert.Equal([null, null, null, null, "203.0.113.11", "203.0.113.12", null], form.Nodes.Select(n => n.Spec.PublicIp));
        Assert.Equal(3, form.MediaCount);
    }

    [Fact]
    public void ApplyPaste_FewerMediaLines_DropsTheBlankNewRowsOnly()
    {
        var form = ClusterForm.New();
        form.AddMediaNode(); // three blank media rows

        form.ApplyPaste(NodeListPaste.Parse("10.5.0.1\n10.5.0.2\n10.5.0.3\n10.5.0.4\n10.5.0.11").Nodes);

        Assert.Equal(1, form.MediaCount);
        Assert.Equal("10.5.0.11", form.MediaNodes.Single().Spec.PrivateIp);
    }

    [Theory]
    [InlineData("10.5.0.1 203.0.113.1", "Line 1 (master-1): masters take no public IP")]
    [InlineData("10.5.0.1\n\n# a comment\n10.5.0.x", "Line 4 (master-2): '10.5.0.x' is not an IPv4 address")]
    [InlineData("10.5.0.1\n10.5.0.2\n10.5.0.3\n10.5.0.4\n10.5.0.11 public", "Line 5 (media-1): the public IP 'public' is not an IPv4 address.")]
    [InlineData("10.5.0.1\n10.5.0.2\n10.5.0.1", "Line 3 (master-3): 10.5.0.1 is already the private IP of master-1.")]
    [InlineData("10.5.0.1 10.5.0.2 10.5.0.3", "Line 1 (master-1): give the private IP and, for a media node, its public IP; '10.5.0.1 10.5.0.2 10.5.0.3' has 3 values.")]
    [InlineData("  \n# nothing\n", "Paste one node per line")]
    public void Parse_BadList_RefusedWithTheLineAndNode(string text, string expected)
    {
        var result = NodeListPaste.Parse(text);

        Assert.False(result.Succeeded);
        Assert.Empty(result.Nodes);
        Assert.Contains(result.Errors, e => e.StartsWith(expected, StringComparison.Ordinal));
    }

    [Fact]
    public void Parse_SpreadsheetColumns_TabsCommasAndCrLf()
    {
        var result = NodeListPaste.Parse("10.5.0.1\r\n10.5.0.2\r\n10.5.0.3\r\n10.5.0.4\r\n10.5.0.11\t203.0.113.11\r\n10.5.0.12 ; 203.0.113.12\r\n");

        Assert.True(result.Succeeded, string.Join(" ", result.Errors));
        Assert.Equal(new PastedNode("10.5.0.12", "203.0.113.12"), result.Nodes[^1]);
        Assert.Equal(6, result.Nodes.Count);
    }

    /// <summary>A stored cluster whose media-2 signs in as another user with a password: shared is master-1's way, media-2 keeps its own.</summary>
    [Fact]
    public async Task Edit_OneNodeDiffers_SharedFromMaster1AndOwnForThatNode()
    {
        // Arrange
        await using var factory = new PanelFactory();
        var clusters = factory.Services.GetRequiredService<ClusterService>();
        var spec = Specs.Valid();
        spec.Nodes![5].Ssh = new SshSpec { Host = "10.5.0.12", Port = 2222, Username = "ubuntu", Password = "media-2-password" };
        var created = await clusters.CreateAsync(spec, "test");
        Assert.True(created.Succeeded, string.Join(" ", created.Errors.Fields));
        var id = created.Id!.Value;

        // Act
        var form = ClusterForm.Edit((await clusters.GetSpecAsync(id))!, (await clusters.GetAsync(id))!);

        // Assert
        Assert.Equal((22, "root", SshAuthKind.Key), (form.SharedSsh.Port, form.SharedSsh.Username, form.SharedSsh.Auth));
        Assert.Equal([false, false, false, false, false, true], form.Nodes.Select(n => n.OwnSsh));
        Assert.Equal((2222, "ubuntu", SshAuthKind.Password), (form.Nodes[5].Own.Port, form.Nodes[5].Own.Username, form.Nodes[5].Own.Auth));
        Assert.True(form.Validate().Errors.IsEmpty, string.Join(" ", form.Validate().Errors.Fields));

        // A media node added while editing has nothing stored: the shared key is needed for it alone, and the error says so.
        form.AddMediaNode();
        form.Nodes[^1].Spec.PrivateIp = "10.5.0.13";
        Assert.Equal(["media-3: Give a private key (or a password)."], form.Validate().Errors.For("nodes.ssh.privateKey"));

        // Saved with the empty shared key, the stored keys stay.
        form.Nodes.RemoveAt(form.Nodes.Count - 1);
        var saved = await clusters.UpdateAsync(id, form.ToSpec(), "test");
        Assert.True(saved.Succeeded, string.Join(" ", saved.Errors.Fields));
    }
}
