using System.Buffers.Binary;
using System.IO.Compression;
using System.Security.Cryptography;
using System.Text;

namespace OpenViduHa.Core.Backup;

/// <summary>Why a file could not be opened as a backup; never says anything of its content.</summary>
public enum BackupFileProblem
{
    NotABackup,
    UnsupportedVersion,

    /// <summary>The tag did not match: a wrong passphrase, or a file changed after it was made (GCM cannot tell them apart).</summary>
    WrongPassphrase,
}

public sealed class BackupFileException(BackupFileProblem problem, string message) : Exception(message)
{
    public BackupFileProblem Problem { get; } = problem;
}

/// <summary>
/// The panel's backup file: a passphrase-encrypted container any tool with PBKDF2 and AES-GCM can open (the README shows
/// it in Python). Independent of the panel's Data Protection keys, so it restores on another machine.
/// <code>
/// offset  size  field
///  0       8    magic, ASCII "OVHA-BAK"
///  8       1    format version, 1
///  9       4    PBKDF2 iterations, unsigned big-endian
/// 13      16    PBKDF2 salt
/// 29      12    AES-GCM nonce
/// 41       n    AES-256-GCM ciphertext
/// 41+n    16    AES-GCM tag
/// </code>
/// Key: PBKDF2-HMAC-SHA256 of the passphrase's UTF-8 bytes with the salt and iterations, 32 bytes. Associated data: the
/// 41 header bytes (a changed iteration count or salt fails like a wrong passphrase). Plaintext: gzip of the UTF-8 JSON
/// payload (<see cref="BackupService"/>). The salt and nonce are random per file.
/// </summary>
public static class BackupFile
{
    public const byte FormatVersion = 1;

    /// <summary>OWASP's 2023 figure for PBKDF2-HMAC-SHA256.</summary>
    public const int DefaultIterations = 600_000;

    /// <summary>What a file may ask for: fewer is too weak to accept, more is a file made to make the panel spin.</summary>
    public const int MinIterations = 100_000;
    public const int MaxIterations = 10_000_000;

    public const int HeaderBytes = 8 + 1 + 4 + SaltBytes + NonceBytes;
    private const int SaltBytes = 16;
    private const int NonceBytes = 12;
    private const int TagBytes = 16;
    private const int KeyBytes = 32;

    public static ReadOnlySpan<byte> Magic => "OVHA-BAK"u8;

    /// <summary>Compresses and encrypts a payload under a passphrase.</summary>
    public static byte[] Seal(ReadOnlySpan<byte> payload, string passphrase, int iterations = DefaultIterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, MinIterations);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(iterations, MaxIterations);
        byte[] compressed;
        using (var buffer = new MemoryStream())
        {
            using (var gzip = new GZipStream(buffer, CompressionLevel.Optimal, leaveOpen: true)) gzip.Write(payload);
            compressed = buffer.ToArray();
        }

        var file = new byte[HeaderBytes + compressed.Length + TagBytes];
        var header = file.AsSpan(0, HeaderBytes);
        Magic.CopyTo(header);
        header[8] = FormatVersion;
        BinaryPrimitives.WriteUInt32BigEndian(header[9..13], (uint)iterations);
        RandomNumberGenerator.Fill(header[13..(13 + SaltBytes)]);
        RandomNumberGenerator.Fill(header[(13 + SaltBytes)..]);

        var key = DeriveKey(passphrase, header[13..(13 + SaltBytes)], iterations);
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Encrypt(header[(13 + SaltBytes)..], compressed, file.AsSpan(HeaderBytes, compressed.Length), file.AsSpan(HeaderBytes + compressed.Length), header);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }
        return file;
    }

    /// <summary>Decrypts and decompresses a backup file; throws <see cref="BackupFileException"/> with what is wrong.</summary>
    public static byte[] Open(ReadOnlySpan<byte> file, string passphrase)
    {
        if (file.Length < HeaderBytes + TagBytes || !file[..8].SequenceEqual(Magic))
            throw new BackupFileException(BackupFileProblem.NotABackup, "This is not a panel backup (it does not start with OVHA-BAK).");
        if (file[8] != FormatVersion)
            throw new BackupFileException(BackupFileProblem.UnsupportedVersion,
                $"This backup has format version {file[8]}; this panel reads version {FormatVersion}. Restore it with the panel version that made it, or a newer one.");
        var iterations = BinaryPrimitives.ReadUInt32BigEndian(file[9..13]);
        if (iterations is < MinIterations or > MaxIterations)
            throw new BackupFileException(BackupFileProblem.NotABackup,
                $"This backup asks for {iterations} PBKDF2 iterations; a panel backup has between {MinIterations} and {MaxIterations}.");

        var header = file[..HeaderBytes];
        var ciphertext = file[HeaderBytes..^TagBytes];
        var compressed = new byte[ciphertext.Length];
        var key = DeriveKey(passphrase, header[13..(13 + SaltBytes)], (int)iterations);
        try
        {
            using var aes = new AesGcm(key, TagBytes);
            aes.Decrypt(header[(13 + SaltBytes)..], ciphertext, file[^TagBytes..], compressed, header);
        }
        catch (AuthenticationTagMismatchException)
        {
            throw new BackupFileException(BackupFileProblem.WrongPassphrase,
                "The passphrase does not open this backup (or the file was changed after it was made).");
        }
        finally
        {
            CryptographicOperations.ZeroMemory(key);
        }

        using var input = new GZipStream(new MemoryStream(compressed), CompressionMode.Decompress);
        using var output = new MemoryStream();
        try
        {
            input.CopyTo(output);
        }
        catch (InvalidDataException)
        {
            throw new BackupFileException(BackupFileProblem.NotABackup, "The backup opened but its content is not gzip: it was not made by this panel.");
        }
        return output.ToArray();
    }

    private static byte[] DeriveKey(string passphrase, ReadOnlySpan<byte> salt, int iterations)
    {
        var secret = Encoding.UTF8.GetBytes(passphrase);
        try
        {
            return Rfc2898DeriveBytes.Pbkdf2(secret, salt, iterations, HashAlgorithmName.SHA256, KeyBytes);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(secret);
        }
    }
}
