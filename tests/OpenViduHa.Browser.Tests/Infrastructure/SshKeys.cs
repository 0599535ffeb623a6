using System.Diagnostics;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>A key pair made by OpenSSH's ssh-keygen (Debian package openssh-client): the private key and its SHA256 fingerprint.</summary>
public sealed record SshKeyPair(string PrivateKey, string Fingerprint)
{
    public override string ToString() => $"SshKeyPair {{ {Fingerprint} }}";
}

public static class SshKeys
{
    /// <summary>A real, unencrypted ed25519 key pair.</summary>
    public static async Task<SshKeyPair> GenerateEd25519Async()
    {
        var dir = Directory.CreateTempSubdirectory("ovha-key-").FullName;
        try
        {
            var file = Path.Combine(dir, "key");
            await RunAsync("-q", "-t", "ed25519", "-N", "", "-C", "browser-test", "-f", file);
            // "256 SHA256:abc... comment (ED25519)"
            var fingerprint = (await RunAsync("-l", "-E", "sha256", "-f", file + ".pub")).Split(' ')[1];
            return new SshKeyPair(await File.ReadAllTextAsync(file), fingerprint);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    private static async Task<string> RunAsync(params string[] args)
    {
        var start = new ProcessStartInfo("ssh-keygen") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new InvalidOperationException("ssh-keygen did not start: install openssh-client.");
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync();
        if (process.ExitCode != 0) throw new InvalidOperationException($"ssh-keygen {args[0]} failed ({process.ExitCode}): {await stderr}");
        return await stdout;
    }
}
