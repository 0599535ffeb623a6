using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Secrets;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Core.Tests.Secrets;

public class SecretGeneratorTests
{
    [Fact]
    public void Generate_Default_Is44AlphanumericCharacters()
    {
        var value = SecretGenerator.Generate();
        Assert.Equal(44, value.Length);
        Assert.Matches("^[A-Za-z0-9]{44}$", value);
    }

    [Fact]
    public void ApiKey_IsApiPlus12Alphanumeric() => Assert.Matches("^API[A-Za-z0-9]{12}$", SecretGenerator.ApiKey());

    /// <summary>
    /// Written out, not read from <see cref="SecretGenerator.Alphabet"/>: a test that compares the generator with its own
    /// constant passes whatever the constant becomes (digits dropped, a quote added).
    /// </summary>
    private const string LettersAndDigits = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

    [Fact]
    public void Alphabet_IsExactlyTheLettersAndDigits()
    {
        Assert.Equal(62, LettersAndDigits.Length);
        Assert.Equal(LettersAndDigits, SecretGenerator.Alphabet);
    }

    [Fact]
    public void Generate_ManyValues_AreUniqueAndUseEveryLetterAndDigit()
    {
        var values = Enumerable.Range(0, 2000).Select(_ => SecretGenerator.Generate()).ToList();

        Assert.Equal(values.Count, values.Distinct().Count());
        // 88,000 draws over 62 symbols: each one is missed with a probability of about e^-1431, never in practice.
        var seen = new string(values.SelectMany(v => v).Distinct().Order().ToArray());
        Assert.Equal(new string(LettersAndDigits.Order().ToArray()), seen);
    }

    [Theory]
    [InlineData("3.0.0")]
    [InlineData("3.8.0")]
    public void Validate_GeneratedSecrets_MatchTheirKind(string version)
    {
        var definition = ClusterValidator.Validate(Specs.Valid(version: version)).Definition!;
        foreach (var secret in SecretCatalog.For(definition.Generation))
        {
            var value = definition.Secret(secret.Key);
            Assert.True(SecretGenerator.IsAlphanumeric(value), secret.Key);
            switch (secret.Kind)
            {
                case SecretKind.Secret: Assert.Equal(44, value.Length); break;
                case SecretKind.ApiKey: Assert.Matches("^API[A-Za-z0-9]{12}$", value); break;
                case SecretKind.Identity: Assert.Equal(secret.Default, value); break;
            }
        }
    }

    [Fact]
    public void Validate_TwoClusters_GetDifferentSecrets()
    {
        var a = ClusterValidator.Validate(Specs.Valid()).Definition!;
        var b = ClusterValidator.Validate(Specs.Valid()).Definition!;
        foreach (var secret in SecretCatalog.For(a.Generation).Where(s => s.Kind != SecretKind.Identity))
            Assert.NotEqual(a.Secret(secret.Key), b.Secret(secret.Key));
    }

    [Theory]
    [InlineData("abcXYZ019", true)]
    [InlineData("", false)]
    [InlineData("has space", false)]
    [InlineData("glob*", false)]
    [InlineData("quote'", false)]
    [InlineData("ümlaut", false)]
    public void IsAlphanumeric_Cases(string value, bool expected) => Assert.Equal(expected, SecretGenerator.IsAlphanumeric(value));
}
