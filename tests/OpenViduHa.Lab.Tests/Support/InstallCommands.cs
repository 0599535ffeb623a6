using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Lab.Tests.Support;

/// <summary>
/// Install commands exactly as the product generates them: taken from the approved golden files of the artifact tests
/// (tests/OpenViduHa.Core.Tests/Artifacts/Golden/*/install-commands.sh), pointed at the lab's installer server.
/// </summary>
public static class InstallCommands
{
    public const string V300 = "v3.0.0-full";
    public const string V380 = "v3.8.0-full";

    /// <summary>
    /// The command of one node (<c>master-1</c>, <c>media-2</c>...): the file's download-check-run function followed by the
    /// node's case branch (the function's call with its <c>\</c> continuations), pointed at <paramref name="installerBaseUrl"/>
    /// (the lab's https server: the golden file's curl takes https only).
    /// </summary>
    public static string For(string golden, string node, string installerBaseUrl)
    {
        var lines = File.ReadAllText(Path.Combine(RepoRoot.Path, "tests/OpenViduHa.Core.Tests/Artifacts/Golden", golden, "install-commands.sh"))
            .Split('\n');
        var start = Array.IndexOf(lines, $"  '{node}')");
        if (start < 0) throw new ArgumentException($"No node {node} in golden {golden}.", nameof(node));
        var functionStart = Array.FindIndex(lines, l => l.StartsWith("ovha_install() {", StringComparison.Ordinal));
        var function = lines.Skip(functionStart).TakeWhile(l => l != "}").Append("}");
        var body = lines.Skip(start + 1).TakeWhile(l => l.Trim() != ";;").Select(l => l[4..]);
        return string.Join('\n', function.Concat(body)).Replace("https://get.openvidu.io", installerBaseUrl, StringComparison.Ordinal);
    }

    /// <summary>How the product's install job runs a node command: <c>bash -c '&lt;command&gt;'</c> (process substitution needs bash).</summary>
    public static string BashC(string command) => "bash -c " + Quote(command);

    public static string Quote(string value) => "'" + value.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    /// <summary>The command without the line holding <c>--flag</c> (the line before it keeps its continuation).</summary>
    public static string Without(string command, string flag)
    {
        var lines = command.Split('\n').ToList();
        var index = lines.FindIndex(l => l.TrimStart().StartsWith(flag + "=", StringComparison.Ordinal) || l.Trim().TrimEnd('\\').Trim() == flag);
        if (index < 0) throw new ArgumentException($"No {flag} in the command.", nameof(flag));
        var last = index == lines.Count - 1;
        lines.RemoveAt(index);
        if (last) lines[^1] = lines[^1].TrimEnd('\\').TrimEnd();
        return string.Join('\n', lines);
    }

    /// <summary>
    /// The node's installer call run on a file fetched beforehand: the function's call, <c>ovha_install 'URL' 'SHA' \</c>,
    /// becomes <c>sh FILE \</c> (the function goes); the flags stay as they are.
    /// </summary>
    public static string FromFile(string command, string file)
    {
        var lines = command.Split('\n').ToList();
        var call = lines.FindIndex(l => l.StartsWith("ovha_install '", StringComparison.Ordinal) && l.EndsWith(" \\", StringComparison.Ordinal));
        if (call < 0) throw new ArgumentException("The command has no ovha_install 'URL' 'SHA-256' call.", nameof(command));
        return string.Join('\n', new[] { "sh " + Quote(file) + " \\" }.Concat(lines.Skip(call + 1)));
    }

    /// <summary>The command with one more argument at its end.</summary>
    public static string With(string command, string argument) => command + " \\\n    " + argument;
}
