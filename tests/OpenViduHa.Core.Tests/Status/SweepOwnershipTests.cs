using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Status;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Status;

/// <summary>
/// Sweep leases between instances sharing one database (here one SQLite file and a hand-moved clock): each installed
/// cluster has one sweeping instance, clusters are shared out evenly, and an instance that stops renewing loses its
/// clusters to the others once its leases expire.
/// </summary>
public sealed class SweepOwnershipTests : IDisposable
{
    private static readonly TimeSpan Interval = TimeSpan.FromSeconds(15);
    private readonly PanelDatabase _db = new();
    private readonly Clock _clock = new(new DateTimeOffset(2026, 11, 29, 12, 0, 0, TimeSpan.Zero));

    public void Dispose() => _db.Dispose();

    private (SweepOwnership Ownership, PanelInstance Instance) Instance()
    {
        var instance = new PanelInstance();
        var ownership = new SweepOwnership(_db.Factory, instance, Options.Create(new StatusOptions { Interval = Interval }), Options.Create(new InstanceOptions()),
            _clock, NullLogger<SweepOwnership>.Instance);
        return (ownership, instance);
    }

    private async Task BeatAsync(params PanelInstance[] instances)
    {
        await using var db = _db.Open();
        foreach (var instance in instances)
        {
            if (await db.PanelInstances.Where(i => i.Id == instance.Id).ExecuteUpdateAsync(u => u.SetProperty(i => i.LastSeenAt, _clock.GetUtcNow())) == 0)
                db.PanelInstances.Add(new PanelInstanceEntity { Id = instance.Id, Host = instance.Id, StartedAt = _clock.GetUtcNow(), LastSeenAt = _clock.GetUtcNow(), Sweeps = true });
        }
        await db.SaveChangesAsync();
    }

    private async Task<int[]> InstalledClustersAsync(int count)
    {
        var ids = new List<int>();
        for (var i = 0; i < count; i++) ids.Add(await _db.CreateClusterAsync(name: $"c{i}"));
        await using var db = _db.Open();
        await db.Nodes.ExecuteUpdateAsync(u => u.SetProperty(n => n.InstalledAt, _clock.GetUtcNow()));
        return [.. ids];
    }

    [Fact]
    public async Task TwoInstances_ShareTheClusters_EachSweptByOne_ThenTheSurvivorTakesTheDeadOnesWithinOneAndAThirdIntervals()
    {
        var clusters = await InstalledClustersAsync(3);
        var (a, ia) = Instance();
        var (b, ib) = Instance();

        // A alone first takes everything.
        await BeatAsync(ia);
        Assert.Equal(clusters, (await a.RoundAsync(CancellationToken.None)).Order());
        Assert.Empty(await b.RoundAsync(CancellationToken.None)); // B is not beating yet: not counted, and A holds every lease

        // B beats: A lets go of what is above its fair share (2 of 3), B takes it.
        await BeatAsync(ia, ib);
        await a.RoundAsync(CancellationToken.None);
        var taken = await b.RoundAsync(CancellationToken.None);
        Assert.Single(taken);
        Assert.Equal(2, a.Owned.Count);
        Assert.Empty(a.Owned.Intersect(b.Owned));
        Assert.Equal(clusters, a.Owned.Concat(b.Owned).Order());
        Assert.All(clusters, c => Assert.True(a.Owns(c) ^ b.Owns(c)));

        // Rounds go on: nothing moves.
        _clock.Advance(Interval / 3);
        await BeatAsync(ia, ib);
        Assert.Empty(await a.RoundAsync(CancellationToken.None));
        Assert.Empty(await b.RoundAsync(CancellationToken.None));

        // A stops (no more beats, no more renewals). Before its leases expire B takes nothing; after, all of them.
        _clock.Advance(Interval / 3);
        await BeatAsync(ib);
        await b.RoundAsync(CancellationToken.None);
        Assert.Single(b.Owned);
        _clock.Advance(Interval); // A renewed last 1⅓ intervals ago, its leases ran for one
        await BeatAsync(ib);
        var takenOver = await b.RoundAsync(CancellationToken.None);
        Assert.Equal(a.Owned.Order(), takenOver.Order());
        Assert.Equal(clusters, b.Owned.Order());
    }

    [Fact]
    public async Task Alone_OwnsEverything_WithoutLeases()
    {
        var clusters = await InstalledClustersAsync(2);
        var ownership = new SweepOwnership(_db.Factory, new PanelInstance { Alone = true }, Options.Create(new StatusOptions()), Options.Create(new InstanceOptions()),
            _clock, NullLogger<SweepOwnership>.Instance);

        Assert.Empty(await ownership.RoundAsync(CancellationToken.None));
        Assert.All(clusters, c => Assert.True(ownership.Owns(c)));
        await using var db = _db.Open();
        Assert.Equal(0, await db.SweepLeases.CountAsync());
    }

    private sealed class Clock(DateTimeOffset start) : TimeProvider
    {
        private DateTimeOffset _now = start;

        public override DateTimeOffset GetUtcNow() => _now;

        public void Advance(TimeSpan by) => _now += by;
    }
}
