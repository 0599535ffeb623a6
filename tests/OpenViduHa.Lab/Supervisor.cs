using System.Diagnostics;
using System.Text;

namespace OpenViduHa.Lab;

/// <summary>
/// The lab's end of Assets/supervisor.py: a Debian python3 child holding every node's namespaces and sshd, talked to one
/// line at a time over its stdin and stdout. Its stdin is the lab's lifeline: when the test process ends, however it
/// ends, the pipe closes and the supervisor kills everything the lab started.
/// </summary>
internal sealed class Supervisor : IDisposable
{
    private readonly Process _process;
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly StringBuilder _stderr = new();
    private bool _broken;

    private Supervisor(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;

    public static Supervisor Start(string script, string labDirectory, int labId, string idLock, bool keepFiles, IEnumerable<string> sshdArguments)
    {
        var psi = new ProcessStartInfo(Tools.Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
        };
        foreach (var arg in new[] { "-I", "-u", script, labDirectory, labId.ToString(), keepFiles ? "1" : "0", idLock }.Concat(sshdArguments))
            psi.ArgumentList.Add(arg);
        psi.Environment.Clear();
        psi.Environment["PATH"] = Tools.RootPath;
        psi.Environment["LANG"] = "C.UTF-8";
        var process = Process.Start(psi) ?? throw new LabException("Could not start the lab supervisor (python3).");
        var supervisor = new Supervisor(process);
        process.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null) return;
            lock (supervisor._stderr) supervisor._stderr.AppendLine(e.Data);
        };
        process.BeginErrorReadLine();
        return supervisor;
    }

    /// <summary>Sends one command and returns the value of its <c>ok</c> answer; an <c>error</c> answer throws.</summary>
    public async Task<string> SendAsync(string command, TimeSpan timeout, CancellationToken ct = default)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_broken || _process.HasExited) throw new LabException("The lab supervisor is gone." + Stderr());
            using var limit = CancellationTokenSource.CreateLinkedTokenSource(ct);
            limit.CancelAfter(timeout);
            string? line;
            try
            {
                await _process.StandardInput.WriteLineAsync(command.AsMemory(), limit.Token);
                await _process.StandardInput.FlushAsync(limit.Token);
                line = await _process.StandardOutput.ReadLineAsync(limit.Token);
            }
            catch (OperationCanceledException e)
            {
                // An answer may still come: the conversation is out of step for good.
                _broken = true;
                throw ct.IsCancellationRequested ? e : new LabException($"The lab supervisor did not answer '{Verb(command)}' within {timeout}.");
            }
            catch (IOException e)
            {
                _broken = true;
                throw new LabException("The lab supervisor is gone." + Stderr(), e);
            }
            if (line is null)
            {
                _broken = true;
                throw new LabException($"The lab supervisor ended during '{Verb(command)}'." + Stderr());
            }
            if (line == "ok") return "";
            if (line.StartsWith("ok ", StringComparison.Ordinal)) return line[3..];
            throw new LabException($"Lab: {Verb(command)} failed: {(line.StartsWith("error ", StringComparison.Ordinal) ? line[6..] : line)}" + Stderr());
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>Closes the supervisor's stdin (it tears the lab down on end of input) and waits for it to exit.</summary>
    public bool CloseAndWait(TimeSpan timeout)
    {
        try
        {
            _process.StandardInput.Close();
        }
        catch (IOException)
        {
        }
        return _process.WaitForExit(timeout);
    }

    public bool WaitForExit(TimeSpan timeout) => _process.WaitForExit(timeout);

    public void Kill()
    {
        try
        {
            _process.Kill();
            _process.WaitForExit(TimeSpan.FromSeconds(10));
        }
        catch (InvalidOperationException)
        {
        }
    }

    public void Dispose()
    {
        _process.Dispose();
        _gate.Dispose();
    }

    private static string Verb(string command) => command.Split(' ', 2)[0];

    private string Stderr()
    {
        lock (_stderr) return _stderr.Length == 0 ? "" : " Its errors: " + _stderr.ToString().Trim();
    }
}
