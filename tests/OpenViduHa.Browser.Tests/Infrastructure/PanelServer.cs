using System.Net;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Extensions.DependencyInjection;

namespace OpenViduHa.Browser.Tests.Infrastructure;

/// <summary>
/// The real panel on a real Kestrel port on 127.0.0.1 (the browser needs a socket, not a TestServer), with the repository
/// as content root and a fresh data directory: a new SQLite file, new Data Protection keys, no user yet.
/// </summary>
public sealed class PanelServer : WebApplicationFactory<Program>
{
    public string DataDirectory { get; } = Directory.CreateTempSubdirectory("ovha-browser-").FullName;

    public Uri BaseAddress { get; private set; } = default!;

    public PanelServer() => UseKestrel(o => o.Listen(IPAddress.Loopback, 0));

    /// <summary>Headless bootstrap (administrator and API token) instead of the setup page; empty means no user yet.</summary>
    public (string User, string Password, string Token)? Bootstrap { get; init; }

    /// <summary>More configuration for this panel (e.g. <c>Status:Interval</c>), applied after the defaults above.</summary>
    public IReadOnlyDictionary<string, string> Settings { get; init; } = new Dictionary<string, string>();

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(RepoRoot.Path);
        builder.UseEnvironment("Production");
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Bootstrap:AdminUser", Bootstrap?.User ?? "");
        builder.UseSetting("Bootstrap:AdminPassword", Bootstrap?.Password ?? "");
        builder.UseSetting("Bootstrap:ApiToken", Bootstrap?.Token ?? "");
        builder.UseSetting("Jobs:HealthPollInterval", "00:00:00.200");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
    }

    public void Start()
    {
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        BaseAddress = new Uri(address.TrimEnd('/') + "/");
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        try
        {
            Directory.Delete(DataDirectory, recursive: true);
        }
        catch (IOException)
        {
            // SQLite's WAL files may linger a moment on a slow machine; the temp directory is cleaned by the OS anyway.
        }
    }
}
