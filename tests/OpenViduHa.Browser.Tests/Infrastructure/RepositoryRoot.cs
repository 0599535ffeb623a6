namespace OpenViduHa.Browser.Tests.Infrastructure;

public static class RepositoryRoot
{
    /// <summary>The directory holding <c>OpenViduHa.sln</c>: the panel's content root (appsettings.json, wwwroot).</summary>
    public static string Find()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "OpenViduHa.sln"))) return dir.FullName;
        }
        throw new InvalidOperationException($"No OpenViduHa.sln above {AppContext.BaseDirectory}: run the tests from the repository.");
    }
}
