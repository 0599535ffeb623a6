using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace OpenViduHa.Lab;

/// <summary>What a command run by the lab (or inside a node) returned.</summary>
public sealed record LabCommandResult(int ExitCode, string Output, string Error);

/// <summary>A lab that cannot start or a node that cannot do what was asked.</summary>
public sealed class LabException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>The machine's programs the lab runs, and small system calls .NET does not offer.</summary>
internal static partial class Tools
{
    public const string Python = "/usr/bin/python3";
    public const string Sshd = "/usr/sbin/sshd";
    public const string SshKeygen = "/usr/bin/ssh-keygen";
    public const string Ssh = "/usr/bin/ssh";
    public const string Openssl = "/usr/bin/openssl";
    public const string Nsenter = "/usr/bin/nsenter";
    /// <summary>Debian's openssh-sftp-server (a dependency of openssh-server): the sftp subsystem a forced command can run.</summary>
    public const string SftpServer = "/usr/lib/openssh/sftp-server";
    public const string Packages = "openssh-server openssh-client sudo curl python3 util-linux openssl";

    /// <summary>The PATH sshd gives root's sessions (Debian's SUPERUSER_PATH); the lab's commands get it too.</summary>
    public const string RootPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static void CheckPrerequisites(bool sftpServer)
    {
        if (!Environment.IsPrivilegedProcess)
            throw new LabException("The lab runs as root: it makes mount namespaces and binds sshd to port 22.");
        // The sftp server only for LabOptions.RecordCommands (the forced command cannot run internal-sftp).
        string[] needed = [Python, Sshd, SshKeygen, Ssh, Openssl, Nsenter, "/usr/bin/sudo", "/usr/bin/curl", "/bin/bash", .. sftpServer ? [SftpServer] : Array.Empty<string>()];
        var missing = needed.Where(p => !File.Exists(p)).ToList();
        if (missing.Count > 0)
            throw new LabException($"The lab needs {string.Join(", ", missing)}: apt-get install -y {Packages}{(sftpServer ? " openssh-sftp-server" : "")}");
    }

    /// <summary>OpenSSH's version as (major, minor), from <c>ssh -V</c> (the client and server come in step on Debian).</summary>
    public static readonly Lazy<Version> OpenSshVersion = new(() =>
    {
        var result = Run(Ssh, ["-V"]);
        var text = result.Error + result.Output;
        var match = System.Text.RegularExpressions.Regex.Match(text, @"OpenSSH_(\d+)\.(\d+)");
        return match.Success ? new Version(int.Parse(match.Groups[1].Value), int.Parse(match.Groups[2].Value)) : new Version(9, 2);
    });

    public static LabCommandResult Run(string file, IEnumerable<string> args, string? input = null) =>
        RunAsync(file, args, input).GetAwaiter().GetResult();

    public static async Task<LabCommandResult> RunAsync(string file, IEnumerable<string> args, string? input = null,
        IReadOnlyDictionary<string, string>? environment = null, CancellationToken ct = default)
    {
        var psi = new ProcessStartInfo(file)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            StandardInputEncoding = new UTF8Encoding(false),
            StandardOutputEncoding = Encoding.UTF8,
            StandardErrorEncoding = Encoding.UTF8,
        };
        foreach (var arg in args) psi.ArgumentList.Add(arg);
        if (environment is not null)
        {
            psi.Environment.Clear();
            foreach (var (key, value) in environment) psi.Environment[key] = value;
        }
        using var process = Process.Start(psi) ?? throw new LabException($"Could not start {file}.");
        var output = process.StandardOutput.ReadToEndAsync(ct);
        var error = process.StandardError.ReadToEndAsync(ct);
        if (input is not null) await process.StandardInput.WriteAsync(input.AsMemory(), ct);
        process.StandardInput.Close();
        try
        {
            await process.WaitForExitAsync(ct);
        }
        catch (OperationCanceledException)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { }
            throw;
        }
        return new LabCommandResult(process.ExitCode, await output, await error);
    }

    public static async Task<string> CheckedAsync(string file, IEnumerable<string> args, string? input = null, CancellationToken ct = default)
    {
        var list = args.ToList();
        var result = await RunAsync(file, list, input, ct: ct);
        if (result.ExitCode != 0)
            throw new LabException($"{file} {string.Join(' ', list)} exited with {result.ExitCode}: {result.Error.Trim()}");
        return result.Output;
    }

    public static void WriteFile(string path, string content, UnixFileMode mode, int? owner = null)
    {
        File.WriteAllText(path, content, new UTF8Encoding(false));
        File.SetUnixFileMode(path, mode);
        if (owner is { } id) Chown(path, id, id);
    }

    public static void MakeDirectory(string path, UnixFileMode mode, int? owner = null)
    {
        Directory.CreateDirectory(path);
        File.SetUnixFileMode(path, mode);
        if (owner is { } id) Chown(path, id, id);
    }

    /// <summary>A hard link: <paramref name="path"/> becomes another name of <paramref name="existing"/>'s file.</summary>
    public static void HardLink(string existing, string path)
    {
        if (LinkNative(existing, path) != 0)
            throw new LabException($"link {existing} {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int LinkNative(string existing, string path);

    public static void Chown(string path, int user, int group)
    {
        if (ChownNative(path, user, group) != 0)
            throw new LabException($"chown {user}:{group} {path} failed: errno {Marshal.GetLastPInvokeError()}");
    }

    [LibraryImport("libc", EntryPoint = "chown", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int ChownNative(string path, int owner, int group);

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int KillNative(int pid, int signal);

    public static void Kill(int pid) => KillNative(pid, 9);

    /// <summary>
    /// Ends whatever lab <paramref name="labId"/> still runs (its supervisor died, or a test process was killed before its
    /// lab could end): its namespace holders (<c>/proc/PID/comm</c> <c>ovha-lab-&lt;id&gt;-&lt;k&gt;</c>), everything in their
    /// mount namespaces first and the holders last. A namespace's number is only matched while its holder keeps it
    /// alive: a dead namespace's number may already belong to another lab.
    /// </summary>
    public static void EndLab(int labId)
    {
        var holderPrefix = $"ovha-lab-{labId}-";
        for (var round = 0; round < 10; round++)
        {
            var processes = Processes().ToList();
            var holders = processes.Where(p => Command(p.Pid).StartsWith(holderPrefix, StringComparison.Ordinal)).ToList();
            if (holders.Count == 0) return;
            var namespaces = holders.Select(h => h.Namespace).ToHashSet();
            var holderPids = holders.Select(h => h.Pid).ToHashSet();
            var others = processes.Where(p => namespaces.Contains(p.Namespace) && !holderPids.Contains(p.Pid) && IsAlive(p.Pid)).ToList();
            foreach (var (pid, _) in others.Count > 0 ? others : holders) Kill(pid);
            Thread.Sleep(50);
        }
    }

    public static bool IsAlive(int pid)
    {
        try
        {
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            return stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[0] != "Z";
        }
        catch (IOException)
        {
            return false;
        }
    }

    /// <summary>The process's name (<c>/proc/PID/comm</c>), or "" when it is gone.</summary>
    public static string Command(int pid)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/comm").TrimEnd('\n');
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }

    private static IEnumerable<(int Pid, string Namespace)> Processes()
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid)) continue;
            string? ns;
            try
            {
                ns = new FileInfo(Path.Combine(dir, "ns", "mnt")).LinkTarget;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                continue;
            }
            if (ns is not null) yield return (pid, ns);
        }
    }
}
