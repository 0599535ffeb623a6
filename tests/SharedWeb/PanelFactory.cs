using System.Net;
using System.Net.Http.Headers;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Mvc.Testing;
using Microsoft.Data.Sqlite;
using Microsoft.Extensions.DependencyInjection;

namespace OpenViduHa.Tests.Shared;

/// <summary>
/// The real panel in process, on a fresh data directory (a real SQLite file, real Data Protection keys, real log
/// files), bootstrapped headlessly with an administrator and an API token as an operator's environment would.
/// </summary>
public sealed class PanelFactory : WebApplicationFactory<Program>
{
    public const string AdminUser = "admin";
    public const string AdminPassword = "a-long-admin-password-1";
    public const string ApiToken = "ovha_bootstrap_0123456789abcdef0123456789abcdef";

    private readonly bool _bootstrap;

    public PanelFactory() : this(bootstrap: true) { }

    internal PanelFactory(bool bootstrap, string? dataDirectory = null)
    {
        _bootstrap = bootstrap;
        DataDirectory = dataDirectory ?? Directory.CreateTempSubdirectory("ovha-web-").FullName;
    }

    public string DataDirectory { get; }

    public string? BootstrapPassword { get; init; } = AdminPassword;

    /// <summary>Extra configuration (job timeouts for the lab, …).</summary>
    public Dictionary<string, string?> Settings { get; init; } = [];

    /// <summary>Serilog's minimum level for this host (Debug logs far more, which a secrets test wants).</summary>
    public string LogLevel { get; init; } = "Information";

    protected override void ConfigureWebHost(IWebHostBuilder builder)
    {
        builder.UseContentRoot(RepoRoot.Path);
        builder.UseEnvironment("Production");
        builder.UseSetting("Storage:DataDirectory", DataDirectory);
        builder.UseSetting("Bootstrap:AdminUser", _bootstrap ? AdminUser : "");
        builder.UseSetting("Bootstrap:AdminPassword", _bootstrap ? BootstrapPassword : "");
        builder.UseSetting("Bootstrap:ApiToken", _bootstrap ? ApiToken : "");
        foreach (var (key, value) in Settings) builder.UseSetting(key, value);
        builder.UseSetting("Serilog:MinimumLevel:Default", LogLevel);
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.AspNetCore", LogLevel);
        builder.UseSetting("Serilog:MinimumLevel:Override:Microsoft.EntityFrameworkCore", LogLevel);
    }

    /// <summary>
    /// Serves on a real Kestrel socket on 127.0.0.1 instead of TestServer (headers, proxies and limits as a client meets
    /// them); <see cref="WebApplicationFactory{TEntryPoint}.CreateClient()"/> then talks to that socket.
    /// </summary>
    public Uri StartKestrel()
    {
        UseKestrel(o => o.Listen(IPAddress.Loopback, 0));
        StartServer();
        var address = Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.Single();
        _kestrel = new Uri(address.TrimEnd('/') + "/");
        ClientOptions.BaseAddress = _kestrel;
        return _kestrel;
    }

    private Uri? _kestrel;

    /// <summary>A client that sends the bootstrap token.</summary>
    public HttpClient ApiClient()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = _kestrel ?? new Uri("http://localhost") });
        client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", ApiToken);
        return client;
    }

    /// <summary>
    /// A browser-like client signed in through the real form (antiforgery token and all), with the sign-in answer
    /// (its Set-Cookie) for tests that copy the cookie.
    /// </summary>
    public async Task<(HttpClient Client, HttpResponseMessage SignIn)> SignedInClientAsync()
    {
        var client = CreateClient(new WebApplicationFactoryClientOptions { AllowAutoRedirect = false, BaseAddress = _kestrel ?? new Uri("http://localhost") });
        var form = await client.GetStringAsync("/login");
        var signIn = await client.PostAsync("/login", new FormUrlEncodedContent(new Dictionary<string, string>
        {
            ["_handler"] = "login", ["__RequestVerificationToken"] = AntiforgeryToken(form),
            ["Input.UserName"] = AdminUser, ["Input.Password"] = AdminPassword,
        }));
        if (signIn.StatusCode != HttpStatusCode.Redirect) throw new InvalidOperationException($"Sign-in answered {(int)signIn.StatusCode}.");
        return (client, signIn);
    }

    /// <summary>The antiforgery token of a page's form.</summary>
    public static string AntiforgeryToken(string html) =>
        System.Text.RegularExpressions.Regex.Match(html, "name=\"__RequestVerificationToken\" value=\"([^\"]+)\"").Groups[1].Value;

    /// <summary>Row count of a table, read straight from the SQLite file.</summary>
    public long Count(string table)
    {
        using var connection = new SqliteConnection($"Data Source={Path.Combine(DataDirectory, "panel.db")};Mode=ReadOnly");
        connection.Open();
        using var command = connection.CreateCommand();
        command.CommandText = $"SELECT COUNT(*) FROM \"{table}\"";
        return (long)command.ExecuteScalar()!;
    }

    protected override void Dispose(bool disposing)
    {
        base.Dispose(disposing);
        SqliteConnection.ClearAllPools();
    }
}
