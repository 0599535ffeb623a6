namespace OpenViduHa.Core.Clusters;

public enum NodeRole
{
    Master,
    Media,
}

public enum RtcEngine
{
    Pion,
    Mediasoup,
}

/// <summary>Optional OpenVidu modules. The default app is <c>app</c> in 3.0.x and <c>openviduMeet</c> later.</summary>
public static class Modules
{
    public const string Observability = "observability";
    public const string V2Compatibility = "v2compatibility";
    public const string App = "app";
    public const string OpenViduMeet = "openviduMeet";

    public static string DefaultApp(InstallerGeneration generation) =>
        generation == InstallerGeneration.V30 ? App : OpenViduMeet;

    public static IReadOnlyList<string> For(InstallerGeneration generation) =>
        [Observability, V2Compatibility, DefaultApp(generation)];
}
