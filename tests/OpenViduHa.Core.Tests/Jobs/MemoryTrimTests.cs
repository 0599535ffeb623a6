using OpenViduHa.Core.Jobs;

namespace OpenViduHa.Core.Tests.Jobs;

public sealed class MemoryTrimTests
{
    [Fact]
    public void Now_AfterLargeGarbage_RunsAFullCompactingCollection_AndGivesTheFreedMemoryBack()
    {
        // 256 MB of large objects, touched so their pages are resident, then dropped: what a finished job leaves.
        var garbage = new List<byte[]>();
        for (var i = 0; i < 64; i++)
        {
            var block = new byte[4 << 20];
            Array.Fill(block, (byte)i);
            garbage.Add(block);
        }
        // The GC's figures are as of its last collection: a young one now, with the blocks still held, counts them committed.
        GC.Collect(0);
        var committed = GC.GetGCMemoryInfo().TotalCommittedBytes;
        GC.KeepAlive(garbage);
        garbage.Clear();
        var fullCollections = GC.CollectionCount(2);

        var (before, after, took) = MemoryTrim.Now();

        var last = GC.GetGCMemoryInfo(GCKind.FullBlocking);
        Assert.True(GC.CollectionCount(2) > fullCollections);
        Assert.True(last.Compacted, "the full collection did not compact");
        // The GC decommitted the freed blocks (other tests of this process allocate meanwhile: half of it is enough).
        var freed = committed - GC.GetGCMemoryInfo().TotalCommittedBytes;
        Assert.True(freed > 128 << 20, $"the GC still holds {committed / 1e6:0} -> {GC.GetGCMemoryInfo().TotalCommittedBytes / 1e6:0} MB");
        Assert.True(before > 0 && after > 0, $"resident {before} -> {after}");
        Assert.True(took > TimeSpan.Zero);
    }

    [Fact]
    public void IfSlack_TrimsOnlyPastItsInterval_AndWhenTheGcHoldsMoreThanTheSlack()
    {
        MemoryTrim.Now();
        Assert.Null(MemoryTrim.IfSlack(TimeSpan.FromHours(1), slackBytes: 0)); // one just ran
        Assert.Null(MemoryTrim.IfSlack(TimeSpan.Zero, slackBytes: long.MaxValue)); // never that much slack
        var fullCollections = GC.CollectionCount(2);
        Assert.NotNull(MemoryTrim.IfSlack(TimeSpan.Zero, slackBytes: long.MinValue));
        Assert.True(GC.CollectionCount(2) > fullCollections);
    }
}
