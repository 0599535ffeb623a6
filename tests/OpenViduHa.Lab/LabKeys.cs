namespace OpenViduHa.Lab;

/// <summary>A client private key made by ssh-keygen: its text, its public half, and a copy on disk for <c>ssh -i</c>.</summary>
/// <param name="Name">ed25519, ecdsa-pem, rsa-pem, rsa-openssh, ed25519-encrypted or unauthorized.</param>
/// <param name="PrivateKey">The private key file's text (PEM or OpenSSH format).</param>
/// <param name="PublicKey">The <c>authorized_keys</c> line, e.g. <c>ssh-ed25519 AAAA... ovha-lab-ed25519</c>.</param>
/// <param name="Passphrase">The passphrase protecting <see cref="PrivateKey"/>, or null.</param>
/// <param name="Path">The private key on the host, mode 0600, inside the lab's directory.</param>
public sealed record LabKey(string Name, string PrivateKey, string PublicKey, string? Passphrase, string Path)
{
    public override string ToString() => Name;
}

/// <summary>
/// The lab's client keys. Every node's root, <c>deploy</c> and <c>deploy-nopasswd</c> accept all of them except
/// <see cref="Unauthorized"/>, a valid key no node knows. Made once per machine (RSA is slow), kept under the lab root's
/// <c>client-keys/</c>, and shared by every lab.
/// </summary>
public sealed class LabKeys
{
    public const string Passphrase = "correct horse battery staple";

    private static readonly (string Name, string[] Args, string Passphrase)[] _kinds =
    [
        ("ed25519", ["-t", "ed25519"], ""),
        ("ecdsa-pem", ["-t", "ecdsa", "-b", "256", "-m", "PEM"], ""),
        ("rsa-pem", ["-t", "rsa", "-b", "2048", "-m", "PEM"], ""),
        ("rsa-openssh", ["-t", "rsa", "-b", "2048"], ""),
        ("ed25519-encrypted", ["-t", "ed25519"], Passphrase),
        ("unauthorized", ["-t", "ed25519"], ""),
    ];

    private static readonly SemaphoreSlim _gate = new(1, 1);
    private static (string Name, string Private, string Public, string Passphrase)[]? _made;

    private LabKeys(IReadOnlyList<LabKey> keys)
    {
        LabKey Find(string name) => keys.Single(k => k.Name == name);
        Ed25519 = Find("ed25519");
        EcdsaPem = Find("ecdsa-pem");
        RsaPem = Find("rsa-pem");
        RsaOpenSsh = Find("rsa-openssh");
        Ed25519Encrypted = Find("ed25519-encrypted");
        Unauthorized = Find("unauthorized");
        Authorized = [Ed25519, EcdsaPem, RsaPem, RsaOpenSsh, Ed25519Encrypted];
    }

    /// <summary>Ed25519, OpenSSH format, no passphrase.</summary>
    public LabKey Ed25519 { get; }

    /// <summary>ECDSA P-256 in PEM (<c>BEGIN EC PRIVATE KEY</c>).</summary>
    public LabKey EcdsaPem { get; }

    /// <summary>RSA 2048 in PEM (<c>BEGIN RSA PRIVATE KEY</c>).</summary>
    public LabKey RsaPem { get; }

    /// <summary>RSA 2048 in OpenSSH format.</summary>
    public LabKey RsaOpenSsh { get; }

    /// <summary>Ed25519, OpenSSH format, encrypted with <see cref="Passphrase"/>.</summary>
    public LabKey Ed25519Encrypted { get; }

    /// <summary>A well-formed Ed25519 key that is in no <c>authorized_keys</c>.</summary>
    public LabKey Unauthorized { get; }

    /// <summary>Every key the nodes accept.</summary>
    public IReadOnlyList<LabKey> Authorized { get; }

    /// <summary>The <c>authorized_keys</c> file every node user gets.</summary>
    internal string AuthorizedKeysFile => string.Concat(Authorized.Select(k => k.PublicKey + "\n"));

    internal static async Task<LabKeys> CreateAsync(string labKeysDirectory, string cacheDirectory, CancellationToken ct)
    {
        var made = await MakeOnceAsync(cacheDirectory, ct);
        Tools.MakeDirectory(labKeysDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        var keys = new List<LabKey>();
        foreach (var (name, privateKey, publicKey, passphrase) in made)
        {
            var path = Path.Combine(labKeysDirectory, name);
            Tools.WriteFile(path, privateKey, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            keys.Add(new LabKey(name, privateKey, publicKey, passphrase.Length == 0 ? null : passphrase, path));
        }
        return new LabKeys(keys);
    }

    /// <summary>
    /// The keys, made by ssh-keygen once per machine into <paramref name="cacheDirectory"/> (RSA takes up to seconds),
    /// under a file lock so parallel test processes make them once; read from there afterwards.
    /// </summary>
    private static async Task<(string, string, string, string)[]> MakeOnceAsync(string cacheDirectory, CancellationToken ct)
    {
        await _gate.WaitAsync(ct);
        try
        {
            if (_made is not null) return _made;
            Tools.MakeDirectory(cacheDirectory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            using var fileLock = await LockAsync(Path.Combine(cacheDirectory, ".lock"), ct);
            _made = await Task.WhenAll(_kinds.Select(async kind =>
            {
                var file = Path.Combine(cacheDirectory, kind.Name);
                if (!File.Exists(file) || !File.Exists(file + ".pub"))
                {
                    File.Delete(file);
                    File.Delete(file + ".pub");
                    await Tools.CheckedAsync(Tools.SshKeygen,
                        [.. kind.Args, "-q", "-N", kind.Passphrase, "-C", "ovha-lab-" + kind.Name, "-f", file], ct: ct);
                }
                return (kind.Name, await File.ReadAllTextAsync(file, ct), (await File.ReadAllTextAsync(file + ".pub", ct)).Trim(),
                    kind.Passphrase);
            }));
            return _made;
        }
        finally
        {
            _gate.Release();
        }
    }

    private static async Task<FileStream> LockAsync(string path, CancellationToken ct)
    {
        for (var attempt = 0; ; attempt++)
        {
            try
            {
                return new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None);
            }
            catch (IOException) when (attempt < 600)
            {
                await Task.Delay(100, ct);
            }
        }
    }
}
