using System.Diagnostics;

/// <summary>An external command's exit code and output.</summary>
internal sealed record ExecResult(int ExitCode, string Stdout, string Stderr);

/// <summary>
/// Runs the comparison tools (ssh, ansible) directly, never through a shell, with a plain system PATH and without the
/// machine's Python environment (pyenv, virtualenv, PYTHON*) or any ANSIBLE_* the caller had: Debian's binaries only.
/// </summary>
internal static class Exec
{
    public const string SystemPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    private static readonly string[] DroppedPrefixes = ["PYENV", "PYTHON", "VIRTUAL_ENV", "CONDA", "ANSIBLE_"];
    private static readonly string[] DroppedNames = ["BASH_ENV", "ENV"];

    public static ProcessStartInfo Command(string file, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(file)
        {
            UseShellExecute = false,
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        foreach (var key in start.Environment.Keys.Where(k => DroppedNames.Contains(k) || DroppedPrefixes.Any(p => k.StartsWith(p, StringComparison.Ordinal))).ToList())
            start.Environment.Remove(key);
        start.Environment["PATH"] = SystemPath;
        start.Environment["LC_ALL"] = "C.UTF-8";
        foreach (var (key, value) in environment ?? new Dictionary<string, string>()) start.Environment[key] = value;
        return start;
    }

    /// <summary>Starts the command with stdin closed, waits for its exit and both streams' end.</summary>
    public static async Task<ExecResult> RunAsync(ProcessStartInfo start, TimeSpan timeout)
    {
        using var process = Process.Start(start) ?? throw new InvalidOperationException($"{start.FileName} did not start");
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            await process.WaitForExitAsync(deadline.Token);
        }
        catch (OperationCanceledException)
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{start.FileName} {string.Join(' ', start.ArgumentList.Take(3))}… still running after {timeout.TotalSeconds:0} s");
        }
        return new ExecResult(process.ExitCode, await stdout, await stderr);
    }
}
