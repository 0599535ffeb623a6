using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenViduHa.Lab;

/// <summary>
/// The lab's end of the service host's FIFO (Assets/supervisor.py, ServiceHost), the way the nodes' systemctl.sh asks:
/// one request line, <c>&lt;verb&gt; &lt;our pid&gt; &lt;fd&gt; &lt;address&gt; &lt;host name&gt; &lt;state dir&gt;</c>, and the
/// answer (an exit code and a newline) on a pipe of ours that the host opens as <c>/proc/&lt;our pid&gt;/fd/&lt;fd&gt;</c>.
/// Blocking, without the supervisor: the answer comes once the host has done it (ports listening or closed).
/// </summary>
internal static unsafe partial class ServiceHostClient
{
    private const int O_WRONLY = 0x1;
    private const int O_NONBLOCK = 0x800;
    private const int O_CLOEXEC = 0x80000;
    private const short POLLIN = 0x1;
    private const int EINTR = 4;
    private const int EAGAIN = 11;

    [StructLayout(LayoutKind.Sequential)]
    private struct PollFd
    {
        public int Fd;
        public short Events;
        public short Revents;
    }

    public static int Ask(string fifo, string verb, string address, string hostName, string stateDirectory, TimeSpan timeout)
    {
        var fds = stackalloc int[2];
        if (Pipe2(fds, O_CLOEXEC) != 0) throw Failure("pipe2");
        try
        {
            var line = Encoding.UTF8.GetBytes(string.Create(CultureInfo.InvariantCulture,
                $"{verb} {Environment.ProcessId} {fds[1]} {address} {hostName} {stateDirectory}\n"));
            // Write-only and non-blocking: with no service host holding the FIFO open the open fails (ENXIO) instead of waiting.
            var fifoFd = Open(fifo, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
            if (fifoFd < 0)
                throw new LabException($"The lab's service host is gone (cannot open {fifo}: errno {Marshal.GetLastPInvokeError()}).");
            try
            {
                fixed (byte* bytes = line)
                {
                    // Shorter than PIPE_BUF: written whole or not at all, never mixed with a node's request.
                    if (Write(fifoFd, bytes, line.Length) != line.Length)
                        throw Failure($"writing to {fifo}");
                }
            }
            finally
            {
                Close(fifoFd);
            }
            return ReadAnswer(fds[0], verb, timeout);
        }
        finally
        {
            Close(fds[0]);
            Close(fds[1]);
        }
    }

    private static int ReadAnswer(int fd, string verb, TimeSpan timeout)
    {
        var deadline = Environment.TickCount64 + (long)timeout.TotalMilliseconds;
        var answer = new List<byte>();
        var buffer = stackalloc byte[64];
        while (!answer.Contains((byte)'\n'))
        {
            var left = deadline - Environment.TickCount64;
            if (left <= 0) throw new LabException($"The lab's service host did not answer '{verb}' within {timeout}.");
            var poll = new PollFd { Fd = fd, Events = POLLIN };
            var ready = Poll(&poll, 1, (int)Math.Min(left, int.MaxValue));
            if (ready < 0 && Marshal.GetLastPInvokeError() == EINTR) continue;
            if (ready < 0) throw Failure("poll");
            if (ready == 0) continue;
            var read = Read(fd, buffer, 64);
            if (read < 0 && Marshal.GetLastPInvokeError() is EINTR or EAGAIN) continue;
            if (read <= 0) throw Failure("reading the service host's answer");
            for (var i = 0; i < read; i++) answer.Add(buffer[i]);
        }
        var text = Encoding.ASCII.GetString(answer.ToArray()).Trim();
        return int.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var code)
            ? code
            : throw new LabException($"The lab's service host answered '{verb}' with '{text}'.");
    }

    private static LabException Failure(string what) => new($"Lab: {what} failed: errno {Marshal.GetLastPInvokeError()}");

    [LibraryImport("libc", EntryPoint = "pipe2", SetLastError = true)]
    private static partial int Pipe2(int* fds, int flags);

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "write", SetLastError = true)]
    private static partial nint Write(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "read", SetLastError = true)]
    private static partial nint Read(int fd, byte* buffer, nint count);

    [LibraryImport("libc", EntryPoint = "poll", SetLastError = true)]
    private static partial int Poll(PollFd* fds, nuint count, int timeoutMilliseconds);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
