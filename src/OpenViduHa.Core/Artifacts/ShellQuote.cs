namespace OpenViduHa.Core.Artifacts;

/// <summary>POSIX single-quote quoting: everything between single quotes is literal, a quote is written <c>'\''</c>.</summary>
public static class ShellQuote
{
    public static string Quote(string value)
    {
        ArgumentNullException.ThrowIfNull(value);
        return "'" + value.Replace("'", @"'\''", StringComparison.Ordinal) + "'";
    }

    /// <summary><c>--flag='value'</c>, the form the install guide writes.</summary>
    public static string Flag(string flag, string value) => $"--{flag}={Quote(value)}";
}
