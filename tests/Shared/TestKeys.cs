using System.Collections.Concurrent;
using System.Diagnostics;

namespace OpenViduHa.Tests.Shared;

/// <summary>Real SSH private keys made by OpenSSH's ssh-keygen, once per test run and key type.</summary>
public static class TestKeys
{
    private static readonly ConcurrentDictionary<string, string> Cache = new();

    public static string Ed25519 => Make("ed25519", "-t ed25519", passphrase: "");
    public static string EcdsaPem => Make("ecdsa-pem", "-t ecdsa -b 256 -m PEM", passphrase: "");
    public static string RsaPem => Make("rsa-pem", "-t rsa -b 2048 -m PEM", passphrase: "");
    public static string RsaOpenSsh => Make("rsa", "-t rsa -b 2048", passphrase: "");
    public const string Passphrase = "correct horse battery staple";
    public static string Ed25519Encrypted => Make("ed25519-enc", "-t ed25519", Passphrase);
    public static string RsaPemEncrypted => Make("rsa-pem-enc", "-t rsa -b 2048 -m PEM", Passphrase);

    private static string Make(string name, string args, string passphrase) => Cache.GetOrAdd(name, _ =>
    {
        var dir = Directory.CreateTempSubdirectory("ovha-keys-").FullName;
        var file = Path.Combine(dir, "key");
        var psi = new ProcessStartInfo("ssh-keygen") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args.Split(' ')) psi.ArgumentList.Add(a);
        foreach (var a in new[] { "-q", "-N", passphrase, "-C", "test", "-f", file }) psi.ArgumentList.Add(a);
        try
        {
            using var process = Process.Start(psi)!;
            process.WaitForExit(30_000);
            if (process.ExitCode != 0) throw new InvalidOperationException($"ssh-keygen {args} failed: {process.StandardError.ReadToEnd()}");
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("ssh-keygen is missing: install Debian's openssh-client (.ci/run does).", e);
        }
        var key = File.ReadAllText(file);
        Directory.Delete(dir, recursive: true);
        return key;
    });
}
