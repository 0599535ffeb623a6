using System.Buffers.Binary;
using System.Text;
using OpenViduHa.Core.Backup;

namespace OpenViduHa.Core.Tests.Backup;

/// <summary>The backup container: what seals opens with the passphrase only, and any change to it is refused.</summary>
public sealed class BackupFileTests
{
    private const string Passphrase = "a long enough passphrase";
    private static readonly byte[] Payload = Encoding.UTF8.GetBytes("""{"format":"openvidu-ha-panel-backup","secret":"s3cr3t-value"}""");

    // The fewest iterations a file may have: the tests stay fast, the format is the same.
    private static byte[] Seal(string passphrase = Passphrase) => BackupFile.Seal(Payload, passphrase, BackupFile.MinIterations);

    [Fact]
    public void Seal_ThenOpen_GivesThePayloadBack()
    {
        var file = Seal();

        Assert.Equal(Payload, BackupFile.Open(file, Passphrase));
        Assert.Equal("OVHA-BAK"u8.ToArray(), file[..8]);
        Assert.Equal(1, file[8]);
        Assert.Equal((uint)BackupFile.MinIterations, BinaryPrimitives.ReadUInt32BigEndian(file.AsSpan(9, 4)));
        Assert.DoesNotContain("s3cr3t-value", Encoding.Latin1.GetString(file), StringComparison.Ordinal);
    }

    [Fact]
    public void TwoSeals_OfOnePayload_DifferInSaltNonceAndCiphertext()
    {
        var first = Seal();
        var second = Seal();

        Assert.NotEqual(first.AsSpan(13, 16).ToArray(), second.AsSpan(13, 16).ToArray());
        Assert.NotEqual(first.AsSpan(29, 12).ToArray(), second.AsSpan(29, 12).ToArray());
        Assert.NotEqual(first[BackupFile.HeaderBytes..], second[BackupFile.HeaderBytes..]);
    }

    [Theory]
    [InlineData("a long enough passphrasE")]
    [InlineData("")]
    public void AnotherPassphrase_IsRefused(string other)
    {
        var e = Assert.Throws<BackupFileException>(() => BackupFile.Open(Seal(), other));
        Assert.Equal(BackupFileProblem.WrongPassphrase, e.Problem);
    }

    [Theory]
    [InlineData(12)] // the iteration count (still within bounds)
    [InlineData(20)] // the salt
    [InlineData(35)] // the nonce
    [InlineData(BackupFile.HeaderBytes)] // the ciphertext
    [InlineData(-1)] // the tag
    public void AnyChangedByte_IsRefusedLikeAWrongPassphrase(int offset)
    {
        var file = Seal();
        file[offset < 0 ? file.Length + offset : offset] ^= 0x01;

        var e = Assert.Throws<BackupFileException>(() => BackupFile.Open(file, Passphrase));
        Assert.Equal(BackupFileProblem.WrongPassphrase, e.Problem);
    }

    [Fact]
    public void NotABackup_ATruncatedOne_AnotherVersion_AndAbsurdIterations_AreSaidSo()
    {
        Assert.Equal(BackupFileProblem.NotABackup, Assert.Throws<BackupFileException>(() => BackupFile.Open("not a backup at all, but long enough to be one"u8.ToArray(), Passphrase)).Problem);
        Assert.Equal(BackupFileProblem.NotABackup, Assert.Throws<BackupFileException>(() => BackupFile.Open(Seal().AsSpan(0, 50), Passphrase)).Problem);

        var version2 = Seal();
        version2[8] = 2;
        var e = Assert.Throws<BackupFileException>(() => BackupFile.Open(version2, Passphrase));
        Assert.Equal(BackupFileProblem.UnsupportedVersion, e.Problem);
        Assert.Contains("format version 2", e.Message, StringComparison.Ordinal);

        var spin = Seal();
        BinaryPrimitives.WriteUInt32BigEndian(spin.AsSpan(9, 4), 2_000_000_000);
        var absurd = Assert.Throws<BackupFileException>(() => BackupFile.Open(spin, Passphrase));
        Assert.Contains("2000000000 PBKDF2 iterations", absurd.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Seal_RefusesIterationsOutsideTheBounds()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BackupFile.Seal(Payload, Passphrase, BackupFile.MinIterations - 1));
        Assert.Throws<ArgumentOutOfRangeException>(() => BackupFile.Seal(Payload, Passphrase, BackupFile.MaxIterations + 1));
    }

    [Theory]
    [InlineData(null, "Give a passphrase: the backup is encrypted with it, and only it opens the file again.")]
    [InlineData("eleven char", "Use at least 12 characters: the passphrase is all that protects every secret in the file.")]
    [InlineData("twelve chars", null)]
    public void NewPassphrase_AtLeast12Characters(string? passphrase, string? problem) =>
        Assert.Equal(problem, BackupService.CheckNewPassphrase(passphrase));
}
