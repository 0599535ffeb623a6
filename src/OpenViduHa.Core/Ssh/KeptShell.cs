using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace OpenViduHa.Core.Ssh;

/// <summary>
/// One bash kept running as root on a connection, reading scripts from its stdin: a status sweep's probe costs one
/// write and its output instead of a channel opened, an exec request, a login shell started and a channel closed per
/// sweep (on both sides). The shell is a "shell" channel without a terminal that <c>exec</c>s
/// <c>bash --noprofile --norc</c> (through <c>sudo -n</c> for other users than root). A script is sent once, as a bash
/// function, and each run calls it: a healthy node's probe, the same every sweep, costs ~200 bytes. Each run is framed
/// by a start and an end line that carry this shell's random token and the run's number, so nothing a script prints can
/// end it early; the script runs in a subshell (its variables and <c>cd</c> never leak into the next run) with stdin from
/// /dev/null and stderr dropped, and its whole output comes back in one write. A run that fails, times out or is cancelled
/// closes the shell: the caller opens a new one.
/// </summary>
internal sealed class KeptShell : IDisposable
{
    /// <summary>Output one run may print before it is cut off as broken (a master's full port matrix is ~0.3 MB).</summary>
    internal const int MaxOutputBytes = 16 << 20;

    /// <summary>Scripts kept defined in bash at once (a healthy node's probe is the same every sweep; a master's varies).</summary>
    internal const int MaxFunctions = 4;

    private readonly ShellStream _stream;
    private readonly SshTarget _target;
    private readonly string _token = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
    private readonly SemaphoreSlim _gate = new(1, 1);
    private readonly Lock _sync = new();
    private readonly ArrayBufferWriter<byte> _output = new(1024);
    private Run? _run;
    private long _runs;
    private readonly Dictionary<string, int> _functions = new(StringComparer.Ordinal);
    private int _nextFunction;
    private string _preamble = "";
    private SshClient? _client;
    private volatile bool _closed;
    private int _disposed;

    private sealed class Run(byte[] start, byte[] end)
    {
        public readonly byte[] Start = start;
        public readonly byte[] End = end;
        public readonly TaskCompletionSource<(int ExitStatus, string Output)> Done = new(TaskCreationOptions.RunContinuationsAsynchronously);
        public readonly long Sent = Stopwatch.GetTimestamp();
        public long FirstOutput;

        /// <summary>Where the script's output starts (after the start line), and where the search for the end line resumes.</summary>
        public int OutputStart, SearchFrom;
    }

    private KeptShell(ShellStream stream, SshTarget target)
    {
        _stream = stream;
        _target = target;
        _stream.DataReceived += OnData;
        _stream.Closed += (_, _) => Fail(Ended());
        _stream.ErrorOccurred += (_, e) => Fail(new SshFailureException(SshFailureKind.Disconnected, $"The SSH connection to {target.Host}:{target.Port} failed ({e.Exception.GetType().Name}).", e.Exception));
    }

    public bool IsOpen => !_closed;

    /// <summary>
    /// Opens the shell channel; bash starts with the first run. A server that refuses the channel throws
    /// <see cref="KeptShellRefusedException"/>, as does a first run whose shell ends before bash answers (sudo wants a
    /// password, the user's login shell refuses): run the script the ordinary way.
    /// </summary>
    public static async Task<KeptShell> OpenAsync(SshClient client, SshTarget target, TimeSpan timeout, CancellationToken ct)
    {
        var opening = BlockingThreads.Shared.Run(() => client.CreateShellStreamNoTerminal(bufferSize: 1024));
        ShellStream stream;
        try
        {
            stream = await opening.WaitAsync(timeout, ct);
        }
        catch (Exception e) when (e is TimeoutException or OperationCanceledException)
        {
            _ = opening.ContinueWith(t => { if (t.IsCompletedSuccessfully) t.Result.Dispose(); else _ = t.Exception; }, TaskScheduler.Default);
            if (e is TimeoutException) throw SshFailureException.TimedOut(target, timeout, "opening a shell");
            throw;
        }
        catch (SshConnectionException e)
        {
            throw new SshFailureException(SshFailureKind.Disconnected, $"The SSH connection to {target.Host}:{target.Port} dropped while opening a shell.", e);
        }
        catch (SshException e)
        {
            throw new KeptShellRefusedException($"{target} refused a shell channel ({e.Message}).", e);
        }

        // The login shell reads its stdin a byte at a time (a pipe): it runs the exec line and leaves the rest to bash. The
        // line goes with the first script, so opening costs no round trip of its own.
        var bash = target.IsRoot ? "exec bash --noprofile --norc" : "exec sudo -n -- bash --noprofile --norc";
        return new KeptShell(stream, target) { _preamble = bash + " 2>/dev/null\n", _client = client };
    }

    /// <summary>Runs <paramref name="script"/> and returns its exit status, its stdout and how long until the shell answered.</summary>
    public async Task<(int ExitStatus, string Output, TimeSpan FirstOutput)> RunAsync(string script, TimeSpan timeout, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_closed) throw Ended();
            var preamble = _preamble;
            _preamble = "";
            var n = ++_runs;
            var start = $"@@ovha-start-{_token}-{n}";
            var end = $"@@ovha-end-{_token}-{n}";
            var run = new Run(Encoding.ASCII.GetBytes(start + "\n"), Encoding.ASCII.GetBytes("\n" + end + " "));
            lock (_sync)
            {
                _output.ResetWrittenCount();
                _run = run;
            }
            // A script is sent once and kept in bash as a function: the next runs of the same script (every sweep's probe
            // of a healthy node) send only the call. At most MaxFunctions are kept: one more unsets them all first.
            var framed = new StringBuilder(preamble.Length + 240).Append(preamble);
            var defined = _functions.TryGetValue(script, out var function);
            if (!defined)
            {
                if (_functions.Count >= MaxFunctions)
                {
                    framed.Append("unset -f");
                    foreach (var old in _functions.Values) framed.Append(" ovha_f").Append(old);
                    framed.Append('\n');
                    _functions.Clear();
                }
                function = ++_nextFunction;
                framed.EnsureCapacity(framed.Length + script.Length + 240);
                framed.Append("ovha_f").Append(function).Append("() {\n").Append(script).Append("\n}\n");
            }
            framed.Append("printf '%s\\n' ").Append(start)
                .Append("; ovha_o=$(ovha_f").Append(function).Append(" </dev/null 2>/dev/null); ovha_r=$?; printf '%s\\n%s %d\\n' \"$ovha_o\" ")
                .Append(end).Append(" \"$ovha_r\"; unset ovha_o ovha_r\n");
            try
            {
                _stream.Write(framed.ToString());
                var (status, output) = await run.Done.Task.WaitAsync(timeout, ct);
                if (!defined) _functions[script] = function;
                return (status, output, Stopwatch.GetElapsedTime(run.Sent, Volatile.Read(ref run.FirstOutput)));
            }
            catch (TimeoutException)
            {
                Dispose();
                throw SshFailureException.TimedOut(_target, timeout, "a script in the kept shell");
            }
            catch (Exception e) when (preamble.Length > 0 && Volatile.Read(ref run.FirstOutput) == 0 && _client is { IsConnected: true }
                && e is SshFailureException { Kind: SshFailureKind.Disconnected } or ObjectDisposedException)
            {
                // Ended (sudo wants a password, the login shell refused) before bash ever answered, the connection still up.
                Dispose();
                throw new KeptShellRefusedException($"{_target}: the shell ended before bash answered (sudo may want a password).", e);
            }
            catch (ObjectDisposedException)
            {
                throw Ended();
            }
            catch (SshException e)
            {
                Dispose();
                throw new SshFailureException(SshFailureKind.Disconnected, $"The SSH connection to {_target.Host}:{_target.Port} dropped while running a script in the kept shell.", e);
            }
            catch
            {
                Dispose();
                throw;
            }
            finally
            {
                lock (_sync) _run = null;
            }
        }
        finally
        {
            _gate.Release();
        }
    }

    /// <summary>On SSH.NET's listener thread: takes what arrived out of the stream and looks for the run's end line.</summary>
    private void OnData(object? sender, ShellDataEventArgs e)
    {
        lock (_sync)
        {
            // The stream keeps its own copy of everything that arrives: read it out so it never grows (and never waits: the
            // data is there). Between runs, and after a run has ended (too much output), what comes is dropped.
            while (_stream.DataAvailable)
            {
                var read = _stream.Read(_output.GetSpan(e.Data.Length));
                if (_run is { Done.Task.IsCompleted: false }) _output.Advance(read);
            }
            if (_run is not { } run || run.Done.Task.IsCompleted) return;
            var data = _output.WrittenSpan;
            if (run.FirstOutput == 0)
            {
                // Anything before the start line (a login script's chatter on the first run) is not the script's.
                var at = data.IndexOf(run.Start);
                if (at < 0) return;
                Volatile.Write(ref run.FirstOutput, Stopwatch.GetTimestamp());
                run.OutputStart = at + run.Start.Length;
                run.SearchFrom = run.OutputStart;
            }
            if (data.Length - run.OutputStart > MaxOutputBytes)
            {
                run.Done.TrySetException(new SshFailureException(SshFailureKind.CommandFailed, $"{_target}: a script in the kept shell printed more than {MaxOutputBytes >> 20} MiB."));
                return;
            }
            // The end line is "\n<end> <status>\n"; the script's output is what lies between the start line and it.
            var found = data[run.SearchFrom..].IndexOf(run.End);
            if (found < 0)
            {
                run.SearchFrom = Math.Max(run.SearchFrom, data.Length - run.End.Length + 1);
                return;
            }
            var endAt = run.SearchFrom + found;
            run.SearchFrom = endAt;
            var rest = data[(endAt + run.End.Length)..];
            var newline = rest.IndexOf((byte)'\n');
            if (newline < 0) return;
            var status = int.TryParse(rest[..newline], NumberStyles.Integer, CultureInfo.InvariantCulture, out var s) ? s : -1;
            var output = endAt <= run.OutputStart ? "" : Encoding.UTF8.GetString(data[run.OutputStart..endAt]);
            run.Done.TrySetResult((status, output.Length == 0 ? "" : output + "\n"));
        }
    }

    private void Fail(Exception e)
    {
        _closed = true;
        lock (_sync) _run?.Done.TrySetException(e);
    }

    private SshFailureException Ended() =>
        new(SshFailureKind.Disconnected, $"The kept shell on {_target.Host}:{_target.Port} ended.");

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1) return;
        _closed = true;
        lock (_sync) _run?.Done.TrySetException(Ended());
        // Closing the channel waits for the node's answer: never on the caller's thread.
        _ = BlockingThreads.Shared.Run(() => { try { _stream.Dispose(); } catch (Exception) { /* already gone */ } return 0; });
    }
}

/// <summary>The connection cannot keep a shell (a user whose sudo wants a password, a login shell that refuses).</summary>
internal sealed class KeptShellRefusedException(string message, Exception? inner = null) : Exception(message, inner);
