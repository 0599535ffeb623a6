using System.Text;
using Xunit;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// Approved-file comparison. The approved files live in <c>Artifacts/Golden/&lt;case&gt;/&lt;artifact&gt;</c> and are copied
/// to the output folder; a mismatch fails with the first differing line. With <c>UPDATE_GOLDEN=1</c> the approved file in
/// the source tree is rewritten instead (review the diff in git before committing it).
/// </summary>
internal static class Golden
{
    public const string UpdateVariable = "UPDATE_GOLDEN";

    public static void Verify(string caseName, string artifactName, string actual)
    {
        var relative = Path.Combine("Artifacts", "Golden", caseName, artifactName);
        if (Environment.GetEnvironmentVariable(UpdateVariable) == "1")
        {
            var source = Path.Combine(ProjectDirectory(), relative);
            Directory.CreateDirectory(Path.GetDirectoryName(source)!);
            if (!File.Exists(source) || File.ReadAllText(source) != actual)
                File.WriteAllText(source, actual, new UTF8Encoding(encoderShouldEmitUTF8Identifier: false));
            return;
        }
        var approved = Path.Combine(AppContext.BaseDirectory, relative);
        if (!File.Exists(approved))
            Assert.Fail($"No approved file {relative}. Review the output, then run the tests with {UpdateVariable}=1 to write it.");
        var expected = File.ReadAllText(approved);
        if (!string.Equals(expected, actual, StringComparison.Ordinal))
            Assert.Fail(Describe(relative, expected, actual));
    }

    /// <summary>A readable account of the first difference: line number, expected and actual lines, some context.</summary>
    public static string Describe(string name, string expected, string actual)
    {
        var expectedLines = expected.Split('\n');
        var actualLines = actual.Split('\n');
        var first = 0;
        while (first < expectedLines.Length && first < actualLines.Length && expectedLines[first] == actualLines[first]) first++;
        var text = new StringBuilder()
            .Append($"{name} differs from the approved file ({expectedLines.Length} expected lines, {actualLines.Length} actual).\n")
            .Append($"First difference at line {first + 1}:\n");
        for (var i = Math.Max(0, first - 3); i < first; i++) text.Append($"    {i + 1,4}   {expectedLines[i]}\n");
        for (var i = first; i < Math.Min(first + 5, expectedLines.Length); i++) text.Append($"  - {i + 1,4}   {Visible(expectedLines[i])}\n");
        if (first >= expectedLines.Length) text.Append("  - (end of file)\n");
        for (var i = first; i < Math.Min(first + 5, actualLines.Length); i++) text.Append($"  + {i + 1,4}   {Visible(actualLines[i])}\n");
        if (first >= actualLines.Length) text.Append("  + (end of file)\n");
        text.Append($"(- approved, + generated.) If the change is intended, run with {UpdateVariable}=1 and review the approved file.");
        return text.ToString();
    }

    private static string Visible(string line) => line.Replace("\r", "\\r").Replace("\t", "\\t");

    /// <summary>The test project's folder in the source tree: up from the output folder to the one holding the .csproj.</summary>
    public static string ProjectDirectory()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
            if (File.Exists(Path.Combine(dir.FullName, "OpenViduHa.Core.Tests.csproj"))) return dir.FullName;
        throw new InvalidOperationException($"No OpenViduHa.Core.Tests.csproj above {AppContext.BaseDirectory}.");
    }
}
