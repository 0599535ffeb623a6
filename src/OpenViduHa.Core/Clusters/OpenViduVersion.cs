using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace OpenViduHa.Core.Clusters;

/// <summary>The two installer generations the panel knows. Flags, module names and config layout differ.</summary>
public enum InstallerGeneration
{
    /// <summary>OpenVidu 3.0.x: <c>--domain-name-or-ip</c>, module <c>app</c>, everything in <c>/opt/openvidu/.env</c>.</summary>
    V30,

    /// <summary>OpenVidu 3.2.0 and later: <c>--domain-name</c>, module <c>openviduMeet</c>, <c>/opt/openvidu/config/…</c>.</summary>
    Current,
}

/// <summary>A pinned OpenVidu release (X.Y.Z). <c>latest</c> is refused: every node of a cluster must run the same version.</summary>
public sealed partial record OpenViduVersion(int Major, int Minor, int Patch) : IComparable<OpenViduVersion>
{
    /// <summary>
    /// The first release of the current generation. The public material does not say whether the flag rename happened in
    /// 3.1 or 3.2, so 3.1.x is refused rather than guessed; this is the one place the boundary lives.
    /// </summary>
    public static readonly OpenViduVersion CurrentGenerationFrom = new(3, 2, 0);

    public static readonly OpenViduVersion Minimum = new(3, 0, 0);

    public InstallerGeneration Generation => this < CurrentGenerationFrom ? InstallerGeneration.V30 : InstallerGeneration.Current;

    public static bool TryParse([NotNullWhen(true)] string? text, [NotNullWhen(true)] out OpenViduVersion? version)
    {
        version = null;
        if (text is null) return false;
        var match = Pattern().Match(text);
        if (!match.Success) return false;
        if (!int.TryParse(match.Groups[1].Value, out var major) || !int.TryParse(match.Groups[2].Value, out var minor) ||
            !int.TryParse(match.Groups[3].Value, out var patch)) return false;
        version = new OpenViduVersion(major, minor, patch);
        return true;
    }

    /// <summary>Why a parsed version cannot be installed, or null when it can.</summary>
    public string? Unsupported()
    {
        if (this < Minimum) return $"OpenVidu HA 3.x starts at {Minimum}; {this} is not supported.";
        if (Major > 3) return $"Only OpenVidu 3.x is supported; {this} is not.";
        if (Major == 3 && Minor == 1)
            return $"OpenVidu 3.1.x is not supported: the installer's flags changed between 3.0 and {CurrentGenerationFrom} and " +
                   "the panel does not guess which set 3.1 takes. Use 3.0.x or 3.2.0 and later.";
        return null;
    }

    public int CompareTo(OpenViduVersion? other)
    {
        if (other is null) return 1;
        var c = Major.CompareTo(other.Major);
        if (c != 0) return c;
        c = Minor.CompareTo(other.Minor);
        return c != 0 ? c : Patch.CompareTo(other.Patch);
    }

    public static bool operator <(OpenViduVersion a, OpenViduVersion b) => a.CompareTo(b) < 0;
    public static bool operator >(OpenViduVersion a, OpenViduVersion b) => a.CompareTo(b) > 0;
    public static bool operator <=(OpenViduVersion a, OpenViduVersion b) => a.CompareTo(b) <= 0;
    public static bool operator >=(OpenViduVersion a, OpenViduVersion b) => a.CompareTo(b) >= 0;

    public override string ToString() => $"{Major}.{Minor}.{Patch}";

    [GeneratedRegex(@"^(\d{1,4})\.(\d{1,4})\.(\d{1,4})$", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
