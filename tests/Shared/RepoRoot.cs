namespace OpenViduHa.Tests.Shared;

public static class RepoRoot
{
    /// <summary>The folder holding OpenViduHa.sln, found by walking up from the test binaries.</summary>
    public static string Path { get; } = Find();

    private static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(System.IO.Path.Combine(dir.FullName, "OpenViduHa.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException("OpenViduHa.sln not found above " + AppContext.BaseDirectory);
    }
}
