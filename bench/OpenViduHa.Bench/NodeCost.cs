using System.Buffers.Binary;
using System.Globalization;
using System.Runtime.InteropServices;
using OpenViduHa.Lab;

/// <summary>
/// What a sweep costs the nodes themselves (issue 10: a master's share), measured from the host for some lab nodes:
/// <list type="bullet">
/// <item>CPU: each node's processes (every process in its mount namespace: sshd, the sessions and whatever they start)
/// are moved into a cgroup-v1 <c>cpuacct</c> group of their own; children inherit it, and <c>cpuacct.usage</c> counts
/// processes that ended too.</item>
/// <item>Processes started: BSD process accounting (<c>acct(2)</c>, v3 records) is on during the sweep; an ended process
/// belongs to the node whose live process it descends from (its parent, or its parent's parent… through other ended
/// ones), a live process's node being its cgroup.</item>
/// </list>
/// Root only. Accounting is machine-wide: only the sweep should run while it is on.
/// </summary>
internal sealed partial class NodeCost : IDisposable
{
    private const string CpuacctRoot = "/sys/fs/cgroup/cpuacct";
    private readonly List<(LabNode Node, string Group)> _nodes = [];
    private readonly string _accountingFile;

    public NodeCost(IEnumerable<LabNode> nodes, string workDirectory)
    {
        _accountingFile = Path.Combine(workDirectory, "acct");
        foreach (var node in nodes)
        {
            var group = Path.Combine(CpuacctRoot, $"ovha-bench-{Environment.ProcessId}-{node.Name}");
            Directory.CreateDirectory(group);
            _nodes.Add((node, group));
        }
        Adopt();
    }

    /// <summary>Moves every process of each node into its group (again: a restarted sshd or a new session is picked up).</summary>
    public void Adopt()
    {
        var byNamespace = _nodes.ToDictionary(n => MountNamespace(HolderPid(n.Node)) ?? throw new InvalidOperationException($"{n.Node.Name}: no mount namespace"), n => n.Group);
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string? ns;
            try { ns = MountNamespace(pid); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { continue; }
            if (ns is not null && byNamespace.TryGetValue(ns, out var group))
            {
                try { File.AppendAllText(Path.Combine(group, "cgroup.procs"), pid.ToString(CultureInfo.InvariantCulture)); }
                catch (IOException) { } // ended meanwhile
            }
        }
    }

    public sealed record Sample(double CpuSeconds, int Processes);

    /// <summary>Runs <paramref name="sweep"/> with accounting on; per node, the CPU its processes used and the processes it started.</summary>
    public async Task<(T Result, IReadOnlyList<Sample> PerNode)> MeasureAsync<T>(Func<Task<T>> sweep)
    {
        var before = _nodes.Select(n => Usage(n.Group)).ToList();
        File.WriteAllBytes(_accountingFile, []);
        if (Acct(_accountingFile) != 0) throw new InvalidOperationException($"acct({_accountingFile}) failed: errno {Marshal.GetLastPInvokeError()}");
        T result;
        try
        {
            result = await sweep();
        }
        finally
        {
            Acct(null);
        }
        var cpu = _nodes.Select((n, i) => (Usage(n.Group) - before[i]) / 1e9).ToList();
        var counts = CountStarted();
        return (result, _nodes.Select((n, i) => new Sample(cpu[i], counts.GetValueOrDefault(n.Group))).ToList());
    }

    /// <summary>Ended processes per node group, attributed through their parents.</summary>
    private Dictionary<string, int> CountStarted()
    {
        var bytes = File.ReadAllBytes(_accountingFile);
        const int Size = 64; // struct acct_v3
        var parents = new Dictionary<int, int>();
        for (var offset = 0; offset + Size <= bytes.Length; offset += Size)
        {
            var record = bytes.AsSpan(offset, Size);
            if ((record[1] & 0x0f) != 3) throw new InvalidOperationException($"acct record version {record[1]}, expected 3");
            var pid = BinaryPrimitives.ReadInt32LittleEndian(record[16..]);
            var ppid = BinaryPrimitives.ReadInt32LittleEndian(record[20..]);
            parents[pid] = ppid;
        }
        var groups = _nodes.ToDictionary(n => Path.GetFileName(n.Group), n => n.Group);
        var counts = new Dictionary<string, int>();
        foreach (var pid in parents.Keys)
        {
            var ancestor = parents[pid];
            for (var hops = 0; parents.TryGetValue(ancestor, out var next) && hops < 64; hops++) ancestor = next;
            if (GroupOf(ancestor, groups) is { } group) counts[group] = counts.GetValueOrDefault(group) + 1;
        }
        return counts;
    }

    private static string? GroupOf(int pid, Dictionary<string, string> groups)
    {
        try
        {
            foreach (var line in File.ReadLines($"/proc/{pid}/cgroup"))
            {
                // "4:cpu,cpuacct:/ovha-bench-…" or "5:cpuacct:/ovha-bench-…"
                var parts = line.Split(':', 3);
                if (parts.Length == 3 && parts[1].Split(',').Contains("cpuacct") && groups.TryGetValue(parts[2].TrimStart('/'), out var group)) return group;
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        return null;
    }

    private static long Usage(string group) => long.Parse(File.ReadAllText(Path.Combine(group, "cpuacct.usage")).Trim(), CultureInfo.InvariantCulture);

    private static int HolderPid(LabNode node)
    {
        var root = node.HostPath("/"); // "/proc/<holder>/root/"
        return int.Parse(root.Split('/', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture);
    }

    private static string? MountNamespace(int pid)
    {
        var info = new FileInfo($"/proc/{pid}/ns/mnt");
        return info.LinkTarget;
    }

    [LibraryImport("libc", EntryPoint = "acct", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Acct(string? path);

    /// <summary>Moves the processes back to the root group and removes the groups.</summary>
    public void Dispose()
    {
        foreach (var (_, group) in _nodes)
        {
            try
            {
                foreach (var pid in File.ReadAllLines(Path.Combine(group, "cgroup.procs")))
                {
                    try { File.AppendAllText(Path.Combine(CpuacctRoot, "cgroup.procs"), pid); }
                    catch (IOException) { }
                }
                Directory.Delete(group);
            }
            catch (IOException) { }
        }
    }
}
