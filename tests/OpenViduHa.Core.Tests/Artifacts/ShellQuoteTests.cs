using OpenViduHa.Core.Artifacts;
using OpenViduHa.Core.Tests.Support;

namespace OpenViduHa.Core.Tests.Artifacts;

public sealed class ShellQuoteTests
{
    [Theory]
    [InlineData("abc", "'abc'")]
    [InlineData("it's", @"'it'\''s'")]
    [InlineData("", "''")]
    public void Quote_Value_WrapsInSingleQuotesAndEscapesQuotes(string value, string expected)
    {
        // Act
        var quoted = ShellQuote.Quote(value);

        // Assert
        Assert.Equal(expected, quoted);
    }

    [Theory]
    [InlineData("it's")]
    [InlineData("''")]
    [InlineData("a'b'c'")]
    [InlineData("$HOME ${PATH} $(id) `id`")]
    [InlineData("two  spaces\tand a tab")]
    [InlineData("* ? [a-z] ~ !")]
    [InlineData("back\\slash \"double\" ; & | > <")]
    [InlineData("line one\nline two")]
    [InlineData("")]
    public async Task Quote_AwkwardValue_RoundTripsThroughRealBash(string value)
    {
        // Arrange: the quoted value is parsed by bash as part of a command line, not passed as an argument.
        var script = "printf '[%s]' " + ShellQuote.Quote(value);

        // Act
        var result = await ProcessRunner.RunAsync(RequiredTools.Bash, ["-c", script]);

        // Assert
        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Equal($"[{value}]\n", result.StdOut);
    }
}
