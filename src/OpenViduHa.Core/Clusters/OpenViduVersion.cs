using System.Diagnostics.CodeAnalysis;
using System.Text.RegularExpressions;

namespace OpenViduHa.Core.Clusters;

/// <summary>The two installer generations the panel knows. Flags, module names and config layout differ.</summary>
public enum InstallerGeneration
{
    /// <summary>OpenVidu 3.0.x: <c>--domain-name-or-ip</c>, module <c>app</c>, everything in <c>/opt/openvidu/.env</c>.</summary>
    V30,

    /// <summary>
    /// OpenVidu 3.4.0 and later: <c>--domain-name</c>, module <c>openviduMeet</c>, <c>/opt/openvidu/config/…</c>, and the load
    /// balancer in front of the masters only (docs/openvidu-versions.md).
    /// </summary>
    Current,
}

/// <summary>A pinned OpenVidu release (X.Y.Z). <c>latest</c> is refused: every node of a cluster must run the same version.</summary>
public sealed partial record OpenViduVersion(int Major, int Minor, int Patch) : IComparable<OpenViduVersion>
{
    /// <summary>
    /// The first release of the current generation, and the one place the boundary lives. OpenVidu's versioned install
    /// guides show a third flag set in between: 3.1.0 to 3.3.x take <c>--domain-name</c> and the short media command but
    /// still the <c>app</c> module with <c>--default-app-*</c> credentials (and 3.1.0 the 3.0 load balancer topology). The
    /// panel generates neither for them, so they are refused rather than installed with flags they do not take.
    /// </summary>
    public static readonly OpenViduVersion CurrentGenerationFrom = new(3, 4, 0);

    public static readonly OpenViduVersion Minimum = new(3, 0, 0);

    /// <summary>
    /// The supported releases OpenVidu's release notes list (docs/openvidu-versions.md, "Releases": 3.9.0 back to 3.0.0,
    /// without the refused 3.1.0 to 3.3.x), oldest first: the wizard offers them, newest by default. Any other supported
    /// X.Y.Z (a newer release) is accepted as typed.
    /// </summary>
    public static readonly IReadOnlyList<string> KnownReleases = ["3.0.0", "3.4.0", "3.4.1", "3.5.0", "3.6.0", "3.6.1", "3.7.0", "3.8.0", "3.9.0"];

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
        if (Major == 3 && Minor >= 1 && this < CurrentGenerationFrom)
            return $"OpenVidu {this} is not supported: 3.1.0 to 3.3.x take the new installer flags with the old default app " +
                   $"('app', --default-app-*), a flag set the panel does not generate. Use 3.0.x, or {CurrentGenerationFrom} and later.";
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

    [GeneratedRegex(@"\A(\d{1,4})\.(\d{1,4})\.(\d{1,4})\z", RegexOptions.CultureInvariant)]
    private static partial Regex Pattern();
}
