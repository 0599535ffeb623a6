using System.Text;
using System.Text.RegularExpressions;
using Renci.SshNet;
using Renci.SshNet.Common;

namespace OpenViduHa.Core.Nodes;

/// <summary>Checks a private key at input time with SSH.NET, so a key that would fail at install time is refused now.</summary>
public static partial class SshKeyInspector
{
    /// <summary>Null when the key loads; otherwise a message that names the problem and never echoes the key.</summary>
    public static string? Check(string privateKey, string? passphrase)
    {
        var encrypted = privateKey.Contains("ENCRYPTED", StringComparison.Ordinal) || IsEncryptedOpenSshKey(privateKey);
        if (encrypted && string.IsNullOrEmpty(passphrase))
            return "This private key is protected by a passphrase: give the passphrase.";
        try
        {
            using var stream = new MemoryStream(Encoding.UTF8.GetBytes(privateKey.Trim() + "\n"));
            using var file = string.IsNullOrEmpty(passphrase) ? new PrivateKeyFile(stream) : new PrivateKeyFile(stream, passphrase);
            var algorithm = file.Key?.ToString() ?? "";
            if (algorithm.Contains("dss", StringComparison.OrdinalIgnoreCase))
                return "DSA keys are not accepted: use an ed25519, ECDSA or RSA key.";
            return null;
        }
        catch (SshPassPhraseNullOrEmptyException)
        {
            return "This private key is protected by a passphrase: give the passphrase.";
        }
        catch (Exception) when (encrypted)
        {
            return "The passphrase does not open this private key.";
        }
        catch (Exception)
        {
            return "This is not a private key SSH can use: paste an OpenSSH or PEM private key (ed25519, ECDSA or RSA), including its BEGIN and END lines.";
        }
    }

    /// <summary>The OpenSSH format names its cipher inside the base64 body: <c>none</c> means unencrypted.</summary>
    private static bool IsEncryptedOpenSshKey(string privateKey)
    {
        var match = OpenSshBody().Match(privateKey);
        if (!match.Success) return false;
        try
        {
            var bytes = Convert.FromBase64String(Regex.Replace(match.Groups[1].Value, @"\s+", ""));
            // "openssh-key-v1\0" then uint32 length + cipher name.
            const int offset = 15;
            if (bytes.Length < offset + 4) return false;
            var length = (bytes[offset] << 24) | (bytes[offset + 1] << 16) | (bytes[offset + 2] << 8) | bytes[offset + 3];
            if (length <= 0 || offset + 4 + length > bytes.Length) return false;
            var cipher = Encoding.ASCII.GetString(bytes, offset + 4, length);
            return cipher != "none";
        }
        catch (FormatException)
        {
            return false;
        }
    }

    [GeneratedRegex(@"-----BEGIN OPENSSH PRIVATE KEY-----(.*?)-----END OPENSSH PRIVATE KEY-----", RegexOptions.Singleline)]
    private static partial Regex OpenSshBody();
}
