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
public sealed class PostgresStorageTests(PostgresFixture postgres, Xunit.Abstractions.ITestOutputHelper output) : IClassFixture<PostgresFixture>
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

    /// <summary>
    /// Three instances started at the same moment on a new, empty database (as the compose "ha" profile starts its two):
    /// they prepare it one at a time, so each starts, the schema is migrated once, and there is one administrator.
    /// </summary>
    [Fact]
    public async Task InstancesStartingAtOnce_OnANewDatabase_PrepareItInTurn()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>(On(database)) { ["Status:Enabled"] = "false" };
        var panels = await Task.WhenAll(Enumerable.Range(1, 3).Select(i => PanelProcess.StartAsync($"together-{i}", settings)));
        try
        {
            foreach (var panel in panels)
            {
                using var api = panel.Api();
                Assert.Equal(HttpStatusCode.OK, (await api.GetAsync("/api/clusters")).StatusCode);
            }
            Assert.Equal(1L, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM \"Users\""));
            Assert.Equal(1L, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM \"ApiTokens\""));
            Assert.Equal((long)Migrations().Count, await PostgresServer.ScalarAsync(database, "SELECT count(*) FROM \"__EFMigrationsHistory\""));
        }
        finally
        {
            foreach (var panel in panels) await panel.DisposeAsync();
        }

        static IReadOnlyCollection<string> Migrations()
        {
            using var db = new PanelDbContext((DbContextOptions<PanelDbContext>)new DbContextOptionsBuilder<PanelDbContext>().UsePanelPostgres("Host=127.0.0.1;Database=none").Options);
            return db.Database.GetMigrations().ToList();
        }
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

    /// <summary>
    /// Two panel processes on one database, each asked at the same moment to start a changing job on the same cluster,
    /// round after round: exactly one request in each round is queued, every other one is a 409, and the database holds
    /// one queued job. Inside one process a lock orders the requests; between processes only the database can: the
    /// cluster's revision moves in the same transaction that queues the job.
    /// </summary>
    [Fact]
    public async Task TwoProcesses_StartingChangingJobsAtOnce_OnlyOneIsQueued()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>(On(database))
        {
            // Nothing runs the queued jobs and nothing sweeps: a queued install stays queued, and no node is contacted.
            ["Jobs:Workers"] = "0",
            ["Status:Enabled"] = "false",
        };
        var started = await Task.WhenAll(PanelProcess.StartAsync("race-a", settings), PanelProcess.StartAsync("race-b", settings));
        await using var a = started[0];
        await using var b = started[1];
        using var apiA = a.Api();
        using var apiB = b.Api();

        var spec = Specs.Valid("raced");
        var nodes = spec.Nodes!;
        for (var i = 0; i < nodes.Count; i++)
        {
            // Loopback addresses with pinned keys: install passes its rules; nothing would answer if anything connected.
            nodes[i].Ssh!.Host = $"127.77.0.{i + 1}";
            nodes[i].Ssh!.HostKeyFingerprint = $"SHA256:{Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData([(byte)i])).TrimEnd('=')}";
        }
        var created = await apiA.PostAsJsonAsync("/api/clusters", spec);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
        Assert.Equal(HttpStatusCode.OK, (await apiB.GetAsync($"/api/clusters/{id}")).StatusCode);

        for (var round = 0; round < 5; round++)
        {
            using var go = new ManualResetEventSlim();
            var requests = Enumerable.Range(0, 16).Select(i => Task.Run(async () =>
            {
                go.Wait();
                return await (i % 2 == 0 ? apiA : apiB).PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "install" });
            })).ToList();
            go.Set();
            var answers = await Task.WhenAll(requests);
            var codes = answers.Select(r => r.StatusCode).ToList();
            Assert.True(codes.Count(c => c == HttpStatusCode.Accepted) == 1, $"round {round}: {string.Join(", ", codes)}");
            Assert.All(codes, c => Assert.True(c is HttpStatusCode.Accepted or HttpStatusCode.Conflict, $"round {round}: {string.Join(", ", codes)}"));
            Assert.Equal(1L, await PostgresServer.ScalarAsync(database, $"SELECT count(*) FROM \"Jobs\" WHERE \"ClusterId\" = {id} AND \"State\" = 'Queued'"));

            // Cancel the queued one (from the other instance than the one that queued it, now and then) for the next round.
            var queued = answers.Single(r => r.StatusCode == HttpStatusCode.Accepted);
            var jobId = (await queued.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
            var cancelled = await (round % 2 == 0 ? apiB : apiA).PostAsync($"/api/jobs/{jobId}/cancel", null);
            Assert.True(cancelled.IsSuccessStatusCode, await cancelled.Content.ReadAsStringAsync());
        }
        Assert.Equal(5L, await PostgresServer.ScalarAsync(database, $"SELECT count(*) FROM \"Jobs\" WHERE \"ClusterId\" = {id}"));
    }

    /// <summary>
    /// On PostgreSQL a queued job is announced to every instance (NOTIFY), so it starts at once on another instance although
    /// the workers there poll the queue only once a minute. Without the announcement each of these jobs would wait for the
    /// next poll, up to a minute.
    /// </summary>
    [Fact]
    public async Task QueuedOnOneInstance_StartsAtOnceOnAnother_ThoughItsWorkersPollOnceAMinute()
    {
        var database = await postgres.Server.CreateDatabaseAsync();
        var settings = new Dictionary<string, string?>(On(database))
        {
            ["Jobs:QueuePollInterval"] = "00:01:00",
            ["Status:Enabled"] = "false",
        };
        var started = await Task.WhenAll(
            PanelProcess.StartAsync("runner", settings),
            PanelProcess.StartAsync("queuer", new Dictionary<string, string?>(settings) { ["Jobs:Workers"] = "0" }));
        await using var runner = started[0];
        await using var queuer = started[1];
        using var api = queuer.Api();

        var spec = Specs.Valid("announced");
        // Nothing listens on port 1: the preflight fails at once, and what is measured is how soon it started.
        foreach (var node in spec.Nodes!) (node.Ssh!.Host, node.Ssh.Port) = (node.PrivateIp!.Replace("10.5.0.", "127.77.0.", StringComparison.Ordinal), 1);
        var created = await api.PostAsJsonAsync("/api/clusters", spec);
        Assert.True(created.StatusCode == HttpStatusCode.Created, await created.Content.ReadAsStringAsync());
        var id = (await created.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();

        // The first one also waits for the runner's workers to be listening (they start beside its web server).
        await RunAsync(TimeSpan.FromSeconds(90));
        var waits = new List<TimeSpan>();
        for (var i = 0; i < 3; i++) waits.Add(await RunAsync(TimeSpan.FromSeconds(20)));
        output.WriteLine($"queued → started on the other instance: {string.Join(", ", waits.Select(x => $"{x.TotalSeconds:0.00} s"))}");
        Assert.All(waits, w => Assert.True(w < TimeSpan.FromSeconds(5), $"queued for {string.Join(", ", waits.Select(x => $"{x.TotalSeconds:0.00} s"))}"));

        async Task<TimeSpan> RunAsync(TimeSpan limit)
        {
            var queued = await api.PostAsJsonAsync($"/api/clusters/{id}/jobs", new { kind = "preflight" });
            Assert.True(queued.StatusCode == HttpStatusCode.Accepted, await queued.Content.ReadAsStringAsync());
            var clock = System.Diagnostics.Stopwatch.StartNew();
            var jobId = (await queued.Content.ReadFromJsonAsync<JsonObject>())!["id"]!.GetValue<int>();
            while (true)
            {
                var job = (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!;
                if (job["state"]!.GetValue<string>() != "queued")
                {
                    clock.Stop();
                    // It ran on the runner (the queuer has no worker), to its end.
                    await WaitEndedAsync(jobId);
                    return clock.Elapsed;
                }
                if (clock.Elapsed > limit) throw new TimeoutException($"Job {jobId} still queued after {limit.TotalSeconds} s");
                await Task.Delay(25);
            }
        }

        async Task WaitEndedAsync(int jobId)
        {
            for (var i = 0; i < 600; i++)
            {
                var state = (await api.GetFromJsonAsync<JsonObject>($"/api/jobs/{jobId}"))!["state"]!.GetValue<string>();
                if (state is "failed" or "succeeded") return;
                await Task.Delay(100);
            }
            throw new TimeoutException($"Job {jobId} did not end");
        }
    }
}
