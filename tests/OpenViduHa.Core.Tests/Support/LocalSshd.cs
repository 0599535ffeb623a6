using System.Diagnostics;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// One real OpenSSH server (Debian's sshd) on a free loopback port, in a private mount namespace (its own /tmp, /run and
/// /opt), accepting root with <see cref="TestKeys.Ed25519"/> only, SFTP included. For the SSH engine's own tests in the fast
/// suite; sudo, passwords, other users and every job over SSH are tested against the lab in OpenViduHa.Install.Tests.
/// </summary>
public sealed class LocalSshd : IAsyncLifetime
{
    private readonly TempDirectory _directory = new("ovha-sshd-");
    private Process? _sshd;

    public int Port { get; private set; }

    /// <summary>The host key's fingerprint as ssh-keygen prints it.</summary>
    public string HostKeyFingerprint { get; private set; } = "";

    public async Task InitializeAsync()
    {
        // Not under /tmp: the server's namespace mounts its own /tmp over it.
        var dir = Directory.CreateDirectory(Path.Combine("/var/tmp", Path.GetFileName(_directory.Path))).FullName;
        var host = Path.Combine(dir, "host");
        await RunAsync("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "host", "-f", host);
        HostKeyFingerprint = (await RunAsync("ssh-keygen", "-l", "-E", "sha256", "-f", host + ".pub")).Split(' ')[1];
        var user = Path.Combine(dir, "user");
        File.WriteAllText(user, TestKeys.Ed25519);
        File.SetUnixFileMode(user, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        File.WriteAllText(Path.Combine(dir, "authorized_keys"), await RunAsync("ssh-keygen", "-y", "-f", user));
        Port = FreePort.Get();
        File.WriteAllText(Path.Combine(dir, "sshd_config"), $"""
            Port {Port}
            ListenAddress 127.0.0.1
            HostKey {host}
            AuthorizedKeysFile {dir}/authorized_keys
            PermitRootLogin prohibit-password
            PasswordAuthentication no
            KbdInteractiveAuthentication no
            UsePAM no
            StrictModes no
            PidFile none
            Subsystem sftp internal-sftp

            """);
        var info = new ProcessStartInfo("unshare") { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        foreach (var a in new[] { "--mount", "--propagation", "private", "--", "bash", "-c",
                     $"set -e; for d in /tmp /run /opt; do mount -t tmpfs ovha-sshd \"$d\"; done; mkdir -p /run/sshd; exec /usr/sbin/sshd -D -e -f {dir}/sshd_config" })
            info.ArgumentList.Add(a);
        _sshd = Process.Start(info)!;
        _sshd.BeginOutputReadLine();
        _sshd.BeginErrorReadLine();
        await FreePort.WaitUntilListeningAsync(Port, TimeSpan.FromSeconds(30), () => "sshd did not start (root needed, Debian's openssh-server installed)");
    }

    public Task DisposeAsync()
    {
        try
        {
            _sshd?.Kill(entireProcessTree: true);
            _sshd?.WaitForExit();
        }
        catch (InvalidOperationException)
        {
            // Never started.
        }
        _sshd?.Dispose();
        Directory.Delete(Path.Combine("/var/tmp", Path.GetFileName(_directory.Path)), recursive: true);
        _directory.Dispose();
        return Task.CompletedTask;
    }

    private static async Task<string> RunAsync(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments);
        if (result.ExitCode != 0) throw new InvalidOperationException($"{program} failed: {result}");
        return result.StdOut;
    }
}
