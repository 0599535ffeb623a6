using System.Diagnostics;
using System.Text;

namespace OpenViduHa.Tests.Support;

/// <summary>A long-running child (NGINX, HAProxy) started in the foreground, killed with its children on dispose.</summary>
internal sealed class ChildProcess : IDisposable
{
    private readonly Process _process;
    private readonly StringBuilder _output = new();

    private ChildProcess(Process process)
    {
        _process = process;
    }

    public static ChildProcess Start(string fileName, IEnumerable<string> arguments)
    {
        var process = new Process { StartInfo = ProcessRunner.StartInfo(fileName, arguments) };
        var child = new ChildProcess(process);
        process.OutputDataReceived += (_, e) => child.Append(e.Data);
        process.ErrorDataReceived += (_, e) => child.Append(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return child;
    }

    public bool HasExited => _process.HasExited;

    /// <summary>What the process printed so far (bounded), for failure messages.</summary>
    public string Output
    {
        get
        {
            lock (_output) return (_process.HasExited ? $"(exited with {_process.ExitCode})\n" : "") + _output;
        }
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException)
        {
            // Already gone.
        }
        _process.Dispose();
    }

    private void Append(string? line)
    {
        if (line is null) return;
        lock (_output)
        {
            if (_output.Length < 64_000) _output.Append(line).Append('\n');
        }
    }
}
