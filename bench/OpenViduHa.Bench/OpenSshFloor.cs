using System.Diagnostics;
using OpenViduHa.Core.Artifacts;

/// <summary>One lab node and the exact probe script the panel runs on it.</summary>
internal sealed record ProbeNode(string Name, string Address, string Script);

/// <summary>A comparison side's run was not a valid measurement (a node failed, output incomplete).</summary>
internal sealed class InvalidMeasurementException(string message) : Exception(message);

/// <summary>
/// The practical floor: OpenSSH's client with warm multiplexed connections (ControlMaster/ControlPersist), every node
/// at once, each running the panel's probe script exactly as the panel sends it (<c>bash -c '&lt;script&gt;'</c>).
/// Not <paramref name="multiplexed"/>: the cold floor, every round a new connection per node (key exchange,
/// authentication, session), what a restarted panel's first sweep has to do too.
/// </summary>
internal sealed class OpenSshFloor(string workDirectory, string name, string knownHostsPath, string keyPath, IReadOnlyList<ProbeNode> nodes, bool multiplexed = true)
    : IAsyncDisposable
{
    private readonly string _controlDirectory = Directory.CreateDirectory(Path.Combine(workDirectory, name), UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute).FullName;

    private IEnumerable<string> Options() =>
    [
        .. multiplexed ? ["-o", "ControlMaster=auto", "-o", $"ControlPath={_controlDirectory}/%h", "-o", "ControlPersist=600"] : new[] { "-o", "ControlMaster=no", "-o", "ControlPath=none" },
        "-o", "BatchMode=yes", "-o", $"UserKnownHostsFile={knownHostsPath}", "-o", "GlobalKnownHostsFile=/dev/null",
        "-o", "StrictHostKeyChecking=yes", "-o", "IdentitiesOnly=yes", "-i", keyPath,
    ];

    /// <summary>Runs the probe on every node, all at once, and opens the control masters: not timed.</summary>
    public async Task WarmUpAsync()
    {
        await RoundAsync();
        if (!multiplexed) return;
        var missing = nodes.Where(n => !File.Exists(Path.Combine(_controlDirectory, n.Address))).Select(n => n.Name).ToList();
        if (missing.Count > 0) throw new InvalidMeasurementException($"openssh: no control master for {string.Join(", ", missing)} after the warm-up");
    }

    /// <summary>One timed round: every node's probe in parallel over its master; each must exit 0 and print <c>@end</c>.</summary>
    public async Task<double> RoundAsync()
    {
        var clock = Stopwatch.StartNew();
        var results = await Task.WhenAll(nodes.Select(node => Exec.RunAsync(
            Exec.Command("/usr/bin/ssh", [.. Options(), "-T", $"root@{node.Address}", "bash", "-c", ShellQuote.Quote(node.Script)]),
            TimeSpan.FromMinutes(2))));
        var seconds = clock.Elapsed.TotalSeconds;
        var bad = nodes.Zip(results).Where(x => x.Second.ExitCode != 0 || !x.Second.Stdout.Contains("@end", StringComparison.Ordinal)).ToList();
        if (bad.Count > 0)
        {
            var (node, result) = bad[0];
            throw new InvalidMeasurementException(
                $"openssh: {bad.Count} of {nodes.Count} nodes failed, e.g. {node.Name}: exit {result.ExitCode}, stderr: {result.Stderr.Trim()}, stdout tail: {Tail(result.Stdout)}");
        }
        return seconds;
    }

    private static string Tail(string text) => text.Length <= 300 ? text : "…" + text[^300..];

    /// <summary>Closes the control masters.</summary>
    public async ValueTask DisposeAsync()
    {
        await Task.WhenAll(nodes.Where(n => File.Exists(Path.Combine(_controlDirectory, n.Address))).Select(n => Exec.RunAsync(
            Exec.Command("/usr/bin/ssh", [.. Options(), "-O", "exit", $"root@{n.Address}"]), TimeSpan.FromSeconds(30))));
    }
}
