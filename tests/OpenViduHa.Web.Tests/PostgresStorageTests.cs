using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection;
using OpenViduHa.Core.Data;
using OpenViduHa.Data.Postgres;
using OpenViduHa.Tests.Shared;

namespace OpenViduHa.Web.Tests;

/// <summary>One real PostgreSQL server for the tests of this class, a database per test.</summary>
public sealed class PostgresFixture : IAsyncLifetime
{
    public PostgresServer Server { get; private set; } = null!;

    public async Task InitializeAsync() => Server = await PostgresServer.StartAsync();

    public async Task DisposeAsync() => await Server.DisposeAsync();
}

/// <summary>
/// The panel on PostgreSQL (<c>Storage:Provider</c> Postgres): its own migrations, Hangfire in the same database, and one
/// Data Protection key ring there that every instance shares, so a second panel on the same database reads the secrets
/// the first stored.
/// </summary>
public sealed class PostgresStorageTests(PostgresFixture postgres) : IClassFixture<PostgresFixture>
{
    private static Dictionary<string, string?> On(string connectionString) => new()
    {
        ["Storage:Provider"] = "Postgres",
        ["ConnectionStrings:Panel"] = connectionString,
    };

    [Fact]
    public void PostgresMigrations_MatchTheModel()
    {
        using var db = new PanelDbContext((DbContextOptions<PanelDbContext>)new DbContextOptionsBuilder<PanelDbContext>().UsePanelPostgres("Host=127.0.0.1;Database=none").Options);
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a PostgreSQL migration: dotnet ef migrations add … --project src/OpenViduHa.Data.Postgres.");
    }

    [Fact]
    public async Task TwoPanels_OnOneDatabase_ShareClustersSecretsAndTheKeyRing()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        using var a = new PanelFactory { Settings = On(database) };
        var created = await a.ApiClient().PostAsJsonAsync("/api/clusters", Specs.Valid("shared"));
        Assert.Equal(HttpStatusCode.Created, created.StatusCode);
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        var credentials = await a.ApiClient().GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env");

        // Another instance: its own data directory (no keys/ of its own to read), the same database.
        using var b = new PanelFactory { Settings = On(database) };
        Assert.NotEqual(a.DataDirectory, b.DataDirectory);
        Assert.Equal(credentials, await b.ApiClient().GetStringAsync($"/api/clusters/{id}/artifacts/credentials.env"));

        Assert.Empty(Directory.GetFiles(Path.Combine(a.DataDirectory, "keys")));
        Assert.Empty(Directory.GetFiles(Path.Combine(b.DataDirectory, "keys")));
        Assert.False(File.Exists(Path.Combine(a.DataDirectory, "panel.db")));
        Assert.False(File.Exists(Path.Combine(a.DataDirectory, "hangfire.db")));
        Assert.Equal(1L, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM \"DataProtectionKeys\""));
        Assert.True((long)(await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'hangfire'"))! > 5);
        Assert.Equal(1L, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM \"Clusters\""));
    }

    /// <summary>A SQLite panel's backup restored into a PostgreSQL panel: the ids it brought do not stop new rows.</summary>
    [Fact]
    public async Task SqliteBackup_RestoredIntoPostgres_ThenNewRowsGetNewIds()
    {
        using var sqlite = new PanelFactory();
        var first = await sqlite.ApiClient().PostAsJsonAsync("/api/clusters", Specs.Valid("from-sqlite"));
        Assert.Equal(HttpStatusCode.Created, first.StatusCode);
        var seeded = await JobSeed.CreateAsync(sqlite.Services, (await first.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>(), 3);
        var backup = await sqlite.ApiClient().PostAsJsonAsync("/api/backup", new { passphrase = "from sqlite to postgres" });
        var file = await backup.Content.ReadAsByteArrayAsync();

        var database = await postgres.Server.CreateDatabaseAsync();
        using var pg = new PanelFactory { Settings = On(database) };
        using var form = new MultipartFormDataContent
        {
            { new ByteArrayContent(file), "file", "panel.ovhabak" },
            { new StringContent("from sqlite to postgres"), "passphrase" },
        };
        var restored = await pg.ApiClient().PostAsync("/api/restore", form);
        Assert.True(restored.StatusCode == HttpStatusCode.OK, await restored.Content.ReadAsStringAsync());
        // The seeded job's lines, times to the microsecond as PostgreSQL keeps them, and the line its interruption added.
        var before = (await sqlite.ApiClient().GetFromJsonAsync<JsonArray>($"/api/jobs/{seeded.JobId}/log"))!;
        var after = (await pg.ApiClient().GetFromJsonAsync<JsonArray>($"/api/jobs/{seeded.JobId}/log"))!;
        Assert.Equal(before.Select(l => l!["text"]!.GetValue<string>()).Append("Interrupted: restored from a backup made while this job ran."), after.Select(l => l!["text"]!.GetValue<string>()));
        Assert.Equal(before.Select(l => l!["at"]!.GetValue<DateTimeOffset>().Ticks / 10), after.Take(3).Select(l => l!["at"]!.GetValue<DateTimeOffset>().Ticks / 10));

        var second = await pg.ApiClient().PostAsJsonAsync("/api/clusters", Specs.Valid("made-on-postgres"));
        Assert.True(second.StatusCode == HttpStatusCode.Created, await second.Content.ReadAsStringAsync());
        await using var db = await pg.Services.GetRequiredService<IDbContextFactory<PanelDbContext>>().CreateDbContextAsync();
        Assert.Equal(2, await db.Clusters.CountAsync());
        Assert.Equal(12, await db.Nodes.CountAsync());
    }
}
