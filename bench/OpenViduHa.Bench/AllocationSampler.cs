using System.Collections.Concurrent;
using System.Diagnostics.Tracing;



/// <summary>
/// <c>--alloc-profile</c>: the runtime's own allocation samples (<c>GCAllocationTick</c>: one event about every 100 KB a
/// thread allocates, naming the type of the object that crossed the mark), counted by type while it is on. A sample
/// stands for ~100 KB, so the counts are where a sweep's allocations go, roughly, without a profiler outside.
/// </summary>
internal sealed class AllocationSampler : EventListener
{
    private const EventKeywords GcKeyword = (EventKeywords)0x1;
    private readonly ConcurrentDictionary<string, long> _bytes = new();
    private volatile bool _on;

    public void Start() { _bytes.Clear(); _on = true; }

    public void Stop() => _on = false;

    protected override void OnEventSourceCreated(EventSource source)
    {
        if (source.Name == "Microsoft-Windows-DotNETRuntime") EnableEvents(source, EventLevel.Verbose, GcKeyword);
    }

    protected override void OnEventWritten(EventWrittenEventArgs e)
    {
        if (!_on || e.EventName is not { } name || !name.StartsWith("GCAllocationTick", StringComparison.Ordinal) || e.Payload is null) return;
        var typeAt = e.PayloadNames!.IndexOf("TypeName");
        var amountAt = e.PayloadNames.IndexOf("AllocationAmount64");
        if (typeAt < 0) return;
        var amount = amountAt >= 0 && e.Payload[amountAt] is ulong a ? (long)a : 100_000;
        _bytes.AddOrUpdate(e.Payload[typeAt] as string ?? "?", amount, (_, b) => b + amount);
    }

    /// <summary>The types that took the most, with their share of the sampled bytes.</summary>
    public void Print(int sweeps, int top = 30)
    {
        var total = _bytes.Values.Sum();
        Console.WriteLine($"  allocation samples over {sweeps} sweeps: {total / 1e6 / Math.Max(1, sweeps):0.0} MB per sweep sampled; by type:");
        foreach (var (type, bytes) in _bytes.OrderByDescending(b => b.Value).Take(top))
            Console.WriteLine($"    {bytes / 1e6 / Math.Max(1, sweeps),8:0.00} MB  {100.0 * bytes / total,5:0.0} %  {type}");
    }
}
