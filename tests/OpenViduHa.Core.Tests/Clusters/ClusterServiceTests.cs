using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Core.Tests.Support;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Clusters;

/// <summary>Clusters stored and changed through the real service, on a real SQLite file with the panel's migrations.</summary>
public sealed class ClusterServiceTests : IDisposable
{
    private const string MasterDigest = "1111111111111111111111111111111111111111111111111111111111111111";
    private const string MediaDigest = "2222222222222222222222222222222222222222222222222222222222222222";
    private readonly PanelDatabase _db = new();
    private ClusterService Service => _db.Clusters;

    public void Dispose() => _db.Dispose();

    private async Task<int> QueueJobAsync(int clusterId, JobKind kind, JobState state = JobState.Queued)
    {
        await using var db = _db.Open();
        var job = new JobEntity { ClusterId = clusterId, Kind = kind, State = state, CreatedBy = "tester", CreatedAt = DateTimeOffset.UtcNow };
        db.Jobs.Add(job);
        await db.SaveChangesAsync();
        return job.Id;
    }

    [Fact]
    public async Task CreateAsync_ValidSpec_ViewShowsWhichSecretsAreSetButNoValue()
    {
        // Arrange
        var spec = Specs.Valid();
        spec.Nodes![1].Ssh!.HostKeyFingerprint = PanelDatabase.Fingerprint("m2");

        // Act
        var result = await Service.CreateAsync(spec, "alice");
        var view = await Service.GetAsync(result.Id!.Value);

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.NotNull(view);
        Assert.Equal("prod", view.Name);
        Assert.Equal("3.0.0", view.OpenviduVersion);
        Assert.Equal("V30", view.Generation);
        Assert.True(view.LicenseKeySet);
        Assert.Equal("pion", view.RtcEngine);
        Assert.Equal(["observability", "v2compatibility", "app"], view.Modules);
        Assert.Equal(SecretCatalog.For(InstallerGeneration.V30).Select(s => s.Key), view.Secrets);
        Assert.Equal([NodeRole.Master, NodeRole.Master, NodeRole.Master, NodeRole.Master, NodeRole.Media, NodeRole.Media], view.Nodes.Select(n => n.Role));
        Assert.Equal("203.0.113.11", view.Nodes[4].PublicIp);
        Assert.Equal(new SshView("10.5.0.1", 22, "root", "key", false, null), view.Nodes[0].Ssh);
        Assert.Equal(PanelDatabase.Fingerprint("m2"), view.Nodes[1].Ssh.HostKeyFingerprint);
        Assert.Null(view.Nodes[0].InstalledAt);
        Assert.Equal(new InstallerSha256View(null, null), view.InstallerSha256);
        Assert.Null(view.FetchedInstallerSha256);
    }

    [Fact]
    public async Task CreateAsync_EveryOption_IsStoredAndLoadedBack()
    {
        // Arrange
        var spec = Specs.Valid(version: "3.8.0");
        spec.RtcEngine = "mediasoup";
        spec.LoadBalancerIp = "10.5.0.100";
        spec.Options = new ClusterOptionsSpec { Rtmp = true, Whip = true, WebrtcOverTcp = false };
        spec.InstallerSha256 = new InstallerSha256Spec { Master = MasterDigest, Media = MediaDigest };
        spec.Secrets = new() { [SecretCatalog.RedisPassword] = "GivenRedisPassword0123" };

        // Act
        var id = (await Service.CreateAsync(spec, "alice")).Id!.Value;
        var definition = await Service.LoadDefinitionAsync(id);

        // Assert
        Assert.NotNull(definition);
        Assert.Equal("3.8.0", definition.Version.ToString());
        Assert.Equal("openvidu.example.io", definition.DomainName);
        Assert.Equal("turn.example.io", definition.TurnDomainName);
        Assert.Equal("TESTLICENSE0123456789", definition.LicenseKey);
        Assert.Equal(RtcEngine.Mediasoup, definition.RtcEngine);
        Assert.Equal(["observability", "v2compatibility", "openviduMeet"], definition.Modules);
        Assert.Equal(ClusterDefaults.InstallerBaseUrl, definition.InstallerBaseUrl);
        Assert.Equal(MasterDigest, definition.MasterInstallerSha256);
        Assert.Equal(MediaDigest, definition.MediaInstallerSha256);
        Assert.Equal("10.5.0.100", definition.LoadBalancerIp);
        Assert.True(definition.Rtmp);
        Assert.True(definition.Whip);
        Assert.False(definition.WebrtcOverTcp);
        Assert.Equal("GivenRedisPassword0123", definition.Secret(SecretCatalog.RedisPassword));
        Assert.Equal(SecretCatalog.For(InstallerGeneration.Current).Select(s => s.Key).Order(), definition.Secrets.Keys.Order());
        Assert.Equal(new NodeDefinition("media-1", NodeRole.Media, "10.5.0.11", "203.0.113.11"), definition.Nodes[4]);
        var view = (await Service.GetAsync(id))!;
        Assert.Equal(new ClusterOptionsSpec { Rtmp = true, Whip = true, WebrtcOverTcp = false }.WebrtcOverTcp, view.Options.WebrtcOverTcp);
        Assert.True(view.Options.Rtmp && view.Options.Whip);
        Assert.Equal("mediasoup", view.RtcEngine);
        Assert.Equal("Current", view.Generation);
        Assert.Equal(new InstallerSha256View(MasterDigest, MediaDigest), view.InstallerSha256);
        Assert.Equal("10.5.0.100", view.LoadBalancerIp);
    }

    [Fact]
    public async Task CreateAsync_InvalidSpec_StoresNothing()
    {
        // Arrange
        var spec = Specs.Valid();
        spec.DomainName = "not a domain";

        // Act
        var result = await Service.CreateAsync(spec, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Null(result.Id);
        Assert.NotEmpty(result.Errors.For("domainName"));
        Assert.Empty(await Service.ListAsync());
    }

    [Fact]
    public async Task CreateAsync_NameTaken_ErrorAtName()
    {
        // Arrange
        await _db.CreateClusterAsync("prod");

        // Act
        var result = await Service.CreateAsync(Specs.Valid("prod"), "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Equal(["A cluster named 'prod' already exists."], result.Errors.For("name"));
    }

    [Fact]
    public async Task CreateAsync_Valid_WritesOneAuditEntry()
    {
        // Act
        await Service.CreateAsync(Specs.Valid(media: 3), "alice");

        // Assert
        var entry = Assert.Single(await _db.Audit.RecentAsync());
        Assert.Equal(("alice", "cluster.created", "prod", "OpenVidu 3.0.0, 7 nodes"), (entry.Actor, entry.Action, entry.Target, entry.Detail));
    }

    [Fact]
    public async Task ListAsync_TwoClusters_ByNameWithNodeCounts()
    {
        // Arrange
        await _db.CreateClusterAsync("zeta", media: 1);
        await _db.CreateClusterAsync("alpha", media: 3);

        // Act
        var list = await Service.ListAsync();

        // Assert
        Assert.Equal(["alpha", "zeta"], list.Select(c => c.Name));
        Assert.Equal((4, 3), (list[0].Masters, list[0].MediaNodes));
        Assert.Equal((4, 1), (list[1].Masters, list[1].MediaNodes));
        Assert.Equal("3.0.0", list[0].OpenviduVersion);
        Assert.Equal("openvidu.example.io", list[0].DomainName);
    }

    [Fact]
    public async Task Reads_UnknownCluster_AreNull()
    {
        // Act
        var view = await Service.GetAsync(42);
        var spec = await Service.GetSpecAsync(42);
        var definition = await Service.LoadDefinitionAsync(42);

        // Assert
        Assert.Null(view);
        Assert.Null(spec);
        Assert.Null(definition);
    }

    [Fact]
    public async Task GetAsync_InstalledNodeThatPresentedAnotherKey_ShowsWhenAndWhat()
    {
        // Arrange
        var id = (await Service.CreateAsync(Specs.Valid(), "alice")).Id!.Value;
        var installedAt = new DateTimeOffset(2026, 11, 29, 1, 2, 3, TimeSpan.Zero);
        await using (var db = _db.Open())
        {
            var node = await db.Nodes.SingleAsync(n => n.ClusterId == id && n.Name == "media-1");
            (node.InstalledAt, node.PresentedHostKeyFingerprint) = (installedAt, PanelDatabase.Fingerprint("presented"));
            await db.SaveChangesAsync();
        }

        // Act
        var view = await Service.GetAsync(id);

        // Assert
        var media1 = view!.Nodes.Single(n => n.Name == "media-1");
        Assert.Equal((installedAt, PanelDatabase.Fingerprint("presented")), (media1.InstalledAt, media1.PresentedHostKeyFingerprint));
        Assert.All(view.Nodes.Where(n => n.Name != "media-1"), n => Assert.Equal((null, null), (n.InstalledAt, n.PresentedHostKeyFingerprint)));
    }

    [Fact]
    public async Task GetAsync_PasswordNodeWithSudo_SaysPasswordAndSudoSet()
    {
        // Arrange
        var spec = Specs.Valid();
        spec.Nodes![2].Ssh = new SshSpec { Host = "10.5.0.3", Port = 2200, Username = "deploy", Password = "pw", SudoPassword = "sudo" };
        var id = (await Service.CreateAsync(spec, "alice")).Id!.Value;

        // Act
        var view = await Service.GetAsync(id);

        // Assert
        Assert.Equal(new SshView("10.5.0.3", 2200, "deploy", "password", true, null), view!.Nodes[2].Ssh);
    }

    [Fact]
    public async Task GetSpecAsync_Stored_LeavesSecretsOutAndUpdatesBackUnchanged()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var before = await Service.LoadDefinitionAsync(id);

        // Act
        var spec = await Service.GetSpecAsync(id);
        var result = await Service.UpdateAsync(id, spec!, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Empty(spec!.Secrets!);
        Assert.Null(spec.LicenseKey);
        Assert.All(spec.Nodes!, n => Assert.Null(n.Ssh!.PrivateKey));
        Assert.Equal(PanelDatabase.Fingerprint("10.5.0.1"), spec.Nodes![0].Ssh!.HostKeyFingerprint);
        Assert.Equal("media", spec.Nodes[4].Role);
        Assert.Equal("203.0.113.11", spec.Nodes[4].PublicIp);
        var after = await Service.LoadDefinitionAsync(id);
        Assert.Equal(before!.Secrets.OrderBy(s => s.Key), after!.Secrets.OrderBy(s => s.Key));
        Assert.Equal(before.LicenseKey, after.LicenseKey);
        Assert.Equal(before.Nodes, after.Nodes);
        Assert.Equal((await _db.NodesAsync(id)).Select(n => n.Id), spec.Nodes.Select(n => n.Id!.Value));
    }

    [Fact]
    public async Task UpdateAsync_KeepsNodeRowsAndCredentials()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var nodesBefore = await _db.NodesAsync(id);
        var spec = await Service.GetSpecAsync(id);
        spec!.DomainName = "new.example.io";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal(id, result.Id);
        var nodesAfter = await _db.NodesAsync(id);
        Assert.Equal(nodesBefore.Select(n => n.Id), nodesAfter.Select(n => n.Id));
        Assert.All(nodesAfter, n => Assert.True(n.SshUsesKey));
        var credentials = _db.Protector.Unprotect<Core.Nodes.SshCredentials>(nodesAfter[0].ProtectedCredentials);
        Assert.Equal(TestKeys.Ed25519.Trim(), credentials.PrivateKey!.Trim());
        Assert.Equal("new.example.io", (await Service.GetAsync(id))!.DomainName);
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "cluster.updated" && a.Target == "prod");
    }

    [Fact]
    public async Task UpdateAsync_UnknownCluster_NotFound()
    {
        // Act
        var result = await Service.UpdateAsync(42, Specs.Valid(), "alice");

        // Assert
        Assert.Equal((OutcomeKind.NotFound, "There is no cluster 42."), (result.Kind, result.Message));
        Assert.False(result.Succeeded);
    }

    [Fact]
    public async Task UpdateAsync_InvalidSpec_ErrorsAndNothingChanges()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var spec = await Service.GetSpecAsync(id);
        spec!.DomainName = "x";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.NotEmpty(result.Errors.For("domainName"));
        Assert.Equal("openvidu.example.io", (await Service.GetAsync(id))!.DomainName);
    }

    [Theory]
    [InlineData(JobKind.Install, JobState.Queued, true)]
    [InlineData(JobKind.RollingRestart, JobState.Running, true)]
    [InlineData(JobKind.FetchInstallerDigests, JobState.Running, true)]
    [InlineData(JobKind.Preflight, JobState.Running, false)]
    [InlineData(JobKind.CheckCredentials, JobState.Queued, false)]
    [InlineData(JobKind.Install, JobState.Failed, false)]
    public async Task UpdateAsync_JobOnTheCluster_BusyOnlyWhileAChangingJobIsQueuedOrRunning(JobKind kind, JobState state, bool busy)
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var jobId = await QueueJobAsync(id, kind, state);
        var spec = await Service.GetSpecAsync(id);

        // Act
        var result = await Service.UpdateAsync(id, spec!, "alice");

        // Assert
        Assert.Equal(busy ? OutcomeKind.Conflict : OutcomeKind.Ok, result.Kind);
        Assert.Equal(!busy, result.Succeeded);
        if (busy)
        {
            var message = $"Job {jobId} ({kind.Name()}) is changing this cluster: wait for it to end, or cancel it, before changing the cluster.";
            Assert.Equal(message, result.Message);
            Assert.Equal([message], result.Errors.For(""));
        }
    }

    [Fact]
    public async Task UpdateAsync_NodeIdOfAnotherCluster_IsTreatedAsANewNode()
    {
        // Arrange
        var id = await _db.CreateClusterAsync("prod");
        var otherId = await _db.CreateClusterAsync("other");
        var foreign = (await _db.NodesAsync(otherId))[5];
        var spec = await Service.GetSpecAsync(id);
        var ownId = spec!.Nodes![5].Id;
        spec.Nodes[5].Id = foreign.Id;
        spec.Nodes[5].Ssh!.PrivateKey = TestKeys.Ed25519;

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        var nodes = await _db.NodesAsync(id);
        Assert.Equal(6, nodes.Count);
        Assert.DoesNotContain(nodes, n => n.Id == foreign.Id || n.Id == ownId);
        Assert.Equal("media-2", nodes[5].Name);
        Assert.Equal((await _db.NodesAsync(otherId)).Select(n => n.Id), (await _db.NodesAsync(otherId)).Select(n => n.Id));
        Assert.Contains(await _db.NodesAsync(otherId), n => n.Id == foreign.Id && n.ClusterId == otherId);
    }

    [Fact]
    public async Task UpdateAsync_NodeLeftOut_IsRemoved()
    {
        // Arrange
        var id = await _db.CreateClusterAsync(media: 3);
        var spec = await Service.GetSpecAsync(id);
        var removed = spec!.Nodes![5].Id;
        spec.Nodes.RemoveAt(5);

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        var nodes = await _db.NodesAsync(id);
        Assert.Equal(["master-1", "master-2", "master-3", "master-4", "media-1", "media-2"], nodes.Select(n => n.Name));
        Assert.DoesNotContain(nodes, n => n.Id == removed);
        Assert.Equal([0, 1, 2, 3, 4, 5], nodes.Select(n => n.Ordinal));
    }

    [Fact]
    public async Task UpdateAsync_InstalledMasterMoved_Refused()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await _db.SetInstalledAsync(id, n => n.Name == "master-2");
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![0].PrivateIp = "10.5.0.9";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Equal(["The cluster is installed: its master private IPs (10.5.0.1, 10.5.0.2, 10.5.0.3, 10.5.0.4) are written into every node and cannot change. Add or remove media nodes only."],
            result.Errors.For("nodes"));
        Assert.Equal("10.5.0.1", (await _db.NodesAsync(id))[0].PrivateIp);
    }

    [Fact]
    public async Task UpdateAsync_InstalledClusterMediaChanged_Allowed()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await _db.SetInstalledAsync(id, _ => true);
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![5].PrivateIp = "10.5.0.19";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal("10.5.0.19", (await _db.NodesAsync(id))[5].PrivateIp);
    }

    [Fact]
    public async Task UpdateAsync_NotInstalledMasterMoved_Allowed()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![0].PrivateIp = "10.5.0.9";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal("10.5.0.9", (await _db.NodesAsync(id))[0].PrivateIp);
    }

    [Fact]
    public async Task UpdateAsync_OtherFingerprintThanPinned_RefusedNamingThePin()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var spec = await Service.GetSpecAsync(id);
        var nodeId = spec!.Nodes![1].Id;
        spec.Nodes[1].Ssh!.HostKeyFingerprint = PanelDatabase.Fingerprint("rebuilt");

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Equal([$"master-2 is pinned to {PanelDatabase.Fingerprint("10.5.0.2")}. Re-pin it explicitly (node actions, or POST /api/nodes/{nodeId}/host-key with replace) if the machine was rebuilt."],
            result.Errors.For("nodes[1].ssh.hostKeyFingerprint"));
        Assert.Equal(PanelDatabase.Fingerprint("10.5.0.2"), (await _db.NodesAsync(id))[1].HostKeyFingerprint);
    }

    [Fact]
    public async Task UpdateAsync_SamePinWithPadding_Accepted()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![1].Ssh!.HostKeyFingerprint = PanelDatabase.Fingerprint("10.5.0.2") + "=";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
    }

    [Fact]
    public async Task UpdateAsync_FingerprintLeftOut_KeepsThePin()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![1].Ssh!.HostKeyFingerprint = null;

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal(PanelDatabase.Fingerprint("10.5.0.2"), (await _db.NodesAsync(id))[1].HostKeyFingerprint);
    }

    [Fact]
    public async Task UpdateAsync_FirstPinOfAnUnpinnedNode_IsStored()
    {
        // Arrange
        var id = await _db.CreateClusterAsync(pinned: false);
        var spec = await Service.GetSpecAsync(id);
        spec!.Nodes![1].Ssh!.HostKeyFingerprint = PanelDatabase.Fingerprint("first");

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal(PanelDatabase.Fingerprint("first"), (await _db.NodesAsync(id))[1].HostKeyFingerprint);
    }

    [Fact]
    public async Task UpdateAsync_RenamedToAnotherClustersName_NameTaken()
    {
        // Arrange
        await _db.CreateClusterAsync("other");
        var id = await _db.CreateClusterAsync("prod");
        var spec = await Service.GetSpecAsync(id);
        spec!.Name = "other";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.Equal(["A cluster named 'other' already exists."], result.Errors.For("name"));
    }

    [Fact]
    public async Task UpdateAsync_PinsLeftOut_KeepsThemAndTheFetchedDigests()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await Service.PinInstallerAsync(id, MasterDigest, MediaDigest, "alice");
        await Service.RecordFetchedInstallerAsync(id, MasterDigest, MediaDigest, "master-1");
        var spec = await Service.GetSpecAsync(id);
        spec!.DomainName = "new.example.io";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Empty(result.Warnings);
        var view = await Service.GetAsync(id);
        Assert.Equal(new InstallerSha256View(MasterDigest, MediaDigest), view!.InstallerSha256);
        Assert.Equal("master-1", view.FetchedInstallerSha256!.Via);
    }

    [Theory]
    [InlineData("3.0.1", ClusterDefaults.InstallerBaseUrl)]
    [InlineData("3.0.0", "https://mirror.example.io")]
    public async Task UpdateAsync_VersionOrBaseUrlChanged_DropsPinsAndFetchedDigestsWithAWarning(string version, string baseUrl)
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await Service.PinInstallerAsync(id, MasterDigest, null, "alice");
        await Service.RecordFetchedInstallerAsync(id, MasterDigest, MediaDigest, "master-1");
        var spec = await Service.GetSpecAsync(id);
        spec!.OpenviduVersion = version;
        spec.InstallerBaseUrl = baseUrl;

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        var warning = Assert.Single(result.Warnings);
        Assert.Equal("installerSha256", warning.Field);
        Assert.Equal($"The installer pins were for OpenVidu 3.0.0 from {ClusterDefaults.InstallerBaseUrl} and were removed: fetch and pin the new scripts' digests before installing.", warning.Message);
        var view = await Service.GetAsync(id);
        Assert.Equal(new InstallerSha256View(null, null), view!.InstallerSha256);
        Assert.Null(view.FetchedInstallerSha256);
    }

    [Fact]
    public async Task UpdateAsync_VersionChangedWithoutPins_DropsFetchedDigestsSilently()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await Service.RecordFetchedInstallerAsync(id, MasterDigest, MediaDigest, "master-1");
        var spec = await Service.GetSpecAsync(id);
        spec!.OpenviduVersion = "3.0.1";

        // Act
        var result = await Service.UpdateAsync(id, spec, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Empty(result.Warnings);
        Assert.Null((await Service.GetAsync(id))!.FetchedInstallerSha256);
        await using var db = _db.Open();
        var row = await db.Clusters.SingleAsync(c => c.Id == id);
        Assert.Null(row.FetchedMasterInstallerSha256);
        Assert.Null(row.FetchedMediaInstallerSha256);
        Assert.Null(row.InstallerSha256FetchedVia);
    }

    [Fact]
    public async Task RecordFetchedInstallerAsync_Digests_ShownForTheOperator()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        await Service.RecordFetchedInstallerAsync(id, MasterDigest, null, "master-3");

        // Assert
        var fetched = (await Service.GetAsync(id))!.FetchedInstallerSha256;
        Assert.NotNull(fetched);
        Assert.Equal((MasterDigest, (string?)null, "master-3"), (fetched.Master, fetched.Media, fetched.Via));
        Assert.Equal(new InstallerSha256View(null, null), (await Service.GetAsync(id))!.InstallerSha256);
    }

    [Fact]
    public async Task PinInstallerAsync_Digests_PinnedAndAudited()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var result = await Service.PinInstallerAsync(id, MasterDigest.ToUpperInvariant(), null, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal(new InstallerSha256View(MasterDigest, null), (await Service.GetAsync(id))!.InstallerSha256);
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "installer.pinned" && a.Detail == $"master {MasterDigest.ToUpperInvariant()}, media not pinned");
    }

    [Fact]
    public async Task PinInstallerAsync_Null_Unpins()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        await Service.PinInstallerAsync(id, MasterDigest, MediaDigest, "alice");

        // Act
        var result = await Service.PinInstallerAsync(id, null, null, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.Equal(new InstallerSha256View(null, null), (await Service.GetAsync(id))!.InstallerSha256);
    }

    [Fact]
    public async Task PinInstallerAsync_BadDigest_ErrorAtMasterOrMedia()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var result = await Service.PinInstallerAsync(id, "abc", MediaDigest, "alice");

        // Assert
        Assert.False(result.Succeeded);
        Assert.Equal(["master"], result.Errors.Fields);
        Assert.Equal(new InstallerSha256View(null, null), (await Service.GetAsync(id))!.InstallerSha256);
    }

    [Fact]
    public async Task PinInstallerAsync_UnknownCluster_NotFound()
    {
        // Act
        var result = await Service.PinInstallerAsync(42, MasterDigest, MediaDigest, "alice");

        // Assert
        Assert.Equal(OutcomeKind.NotFound, result.Kind);
    }

    [Fact]
    public async Task AddNodeAsync_MediaNode_StoredAsTheLastNode()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var result = await Service.AddNodeAsync(id, Specs.Node("media", "10.5.0.13", null), "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        var nodes = await _db.NodesAsync(id);
        Assert.Equal(7, nodes.Count);
        Assert.Equal(nodes[6].Id, result.Id);
        Assert.Equal(("media-3", "10.5.0.13"), (nodes[6].Name, nodes[6].PrivateIp));
    }

    /// <summary>A node added later signs in like one already there: its stored key, passphrase and sudo password, never sent again.</summary>
    [Fact]
    public async Task AddNodeAsync_SameAs_TakesThatNodesStoredCredentials()
    {
        // Arrange
        var spec = Specs.Valid();
        spec.Nodes![5].Ssh!.PrivateKey = TestKeys.Ed25519Encrypted;
        spec.Nodes[5].Ssh!.PrivateKeyPassphrase = TestKeys.Passphrase;
        spec.Nodes[5].Ssh!.SudoPassword = "media-2-sudo";
        var id = (await Service.CreateAsync(spec, "alice")).Id!.Value;
        var node = new NodeSpec { Role = "media", PrivateIp = "10.5.0.13", Ssh = new SshSpec { Host = "10.5.0.13", SameAs = "media-2" } };

        // Act
        var result = await Service.AddNodeAsync(id, node, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        var nodes = await _db.NodesAsync(id);
        var copied = _db.Protector.Unprotect<Core.Nodes.SshCredentials>(nodes[6].ProtectedCredentials);
        Assert.Equal(new Core.Nodes.SshCredentials(TestKeys.Ed25519Encrypted.Trim() + "\n", TestKeys.Passphrase, null, "media-2-sudo"), copied);
    }

    [Theory]
    [InlineData("media-9", null, "'media-9' is not a stored node of this cluster: name one of master-1, master-2, master-3, master-4, media-1, media-2.")]
    [InlineData("media-1", "a-password", "Sign in like media-1 or with credentials of its own, not both")]
    public async Task AddNodeAsync_BadSameAs_ErrorAtTheField(string sameAs, string? password, string message)
    {
        var id = await _db.CreateClusterAsync();
        var node = new NodeSpec { Role = "media", PrivateIp = "10.5.0.13", Ssh = new SshSpec { Host = "10.5.0.13", SameAs = sameAs, Password = password } };

        var result = await Service.AddNodeAsync(id, node, "alice");

        Assert.Equal(OutcomeKind.Invalid, result.Kind);
        Assert.StartsWith(message, Assert.Single(result.Errors.For("node.ssh.sameAs")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task AddNodeAsync_IdGiven_IsIgnoredAndANewNodeMade()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var existing = (await _db.NodesAsync(id))[4].Id;
        var node = Specs.Node("media", "10.5.0.13", null);
        node.Id = existing;

        // Act
        var result = await Service.AddNodeAsync(id, node, "alice");

        // Assert
        Assert.True(result.Succeeded, result.Errors.ToString());
        Assert.NotEqual(existing, result.Id);
        Assert.Equal(7, (await _db.NodesAsync(id)).Count);
    }

    [Theory]
    [InlineData("master")]
    [InlineData(" Master ")]
    public async Task AddNodeAsync_Master_Refused(string role)
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var result = await Service.AddNodeAsync(id, Specs.Node(role, "10.5.0.5", null), "alice");

        // Assert
        Assert.Equal((OutcomeKind.Invalid, (int?)null), (result.Kind, result.Id));
        Assert.Contains("Masters cannot be added", Assert.Single(result.Errors.For("node.role")), StringComparison.Ordinal);
        Assert.Equal(6, (await _db.NodesAsync(id)).Count);
    }

    [Fact]
    public async Task AddNodeAsync_BadNode_ErrorsNamedAfterTheNode()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var result = await Service.AddNodeAsync(id, Specs.Node("media", "10.5.0.1", null), "alice");

        // Assert
        Assert.Equal((OutcomeKind.Invalid, (int?)null), (result.Kind, result.Id));
        Assert.Equal(["10.5.0.1 is already the private IP of master-1."], result.Errors.For("node.privateIp"));
        Assert.Equal(["10.5.0.1 is also the private IP of media-3."], result.Errors.For("nodes[0].privateIp"));
    }

    [Fact]
    public async Task AddNodeAsync_UnknownCluster_NotFound()
    {
        // Act
        var result = await Service.AddNodeAsync(42, Specs.Node("media", "10.5.0.13", null), "alice");

        // Assert
        Assert.Equal((OutcomeKind.NotFound, (int?)null), (result.Kind, result.Id));
    }

    [Fact]
    public async Task DeleteAsync_Cluster_RemovedWithItsNodesAndAudited()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();

        // Act
        var deleted = await Service.DeleteAsync(id, "alice");

        // Assert
        Assert.True(deleted.Succeeded);
        Assert.Null(await Service.GetAsync(id));
        Assert.Empty(await _db.NodesAsync(id));
        Assert.Contains(await _db.Audit.RecentAsync(), a => a.Action == "cluster.deleted" && a.Target == "prod" && a.Actor == "alice");
    }

    [Fact]
    public async Task DeleteAsync_UnknownCluster_NotFound()
    {
        // Act
        var deleted = await Service.DeleteAsync(42, "alice");

        // Assert
        Assert.Equal((OutcomeKind.NotFound, "There is no cluster 42."), (deleted.Kind, deleted.Message));
    }

    [Fact]
    public async Task DeleteAsync_WhileAChangingJobRuns_ConflictNamingTheJob()
    {
        // Arrange
        var id = await _db.CreateClusterAsync();
        var jobId = await QueueJobAsync(id, JobKind.Install, JobState.Running);

        // Act
        var refused = await Service.DeleteAsync(id, "alice");

        // Assert
        Assert.Equal(OutcomeKind.Conflict, refused.Kind);
        Assert.StartsWith($"Job {jobId} (install) is changing this cluster", refused.Message, StringComparison.Ordinal);
        Assert.NotNull(await Service.GetAsync(id));
    }
}
