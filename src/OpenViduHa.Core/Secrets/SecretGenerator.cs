using System.Security.Cryptography;

namespace OpenViduHa.Core.Secrets;

/// <summary>
/// Cryptographically random alphanumeric values. The installer expands its arguments unquoted, so whitespace or glob
/// characters in a value would break the install: the alphabet is letters and digits only.
/// </summary>
public static class SecretGenerator
{
    public const string Alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    public static string Generate(int length = SecretCatalog.GeneratedLength) =>
        RandomNumberGenerator.GetString(Alphabet, length);

    /// <summary>A LiveKit API key: <c>API</c> followed by 12 random alphanumeric characters.</summary>
    public static string ApiKey() => "API" + Generate(12);

    public static string For(SecretDefinition definition) => definition.Kind switch
    {
        SecretKind.ApiKey => ApiKey(),
        SecretKind.Identity => definition.Default ?? Generate(12),
        _ => Generate(),
    };

    public static bool IsAlphanumeric(string value) => value.Length > 0 && value.All(c => c is >= 'a' and <= 'z' or >= 'A' and <= 'Z' or >= '0' and <= '9');
}
