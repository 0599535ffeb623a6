using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using Npgsql;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Hosting;

/// <summary>
/// Applies migrations before the panel serves anything, then creates the bootstrap administrator and token when no user
/// exists yet. Instances sharing PostgreSQL do this one at a time.
/// </summary>
public sealed class DatabaseInitializer(
    IDbContextFactory<PanelDbContext> dbFactory,
    IOptions<StorageOptions> storage,
    UserService users,
    ApiTokenService tokens,
    IOptions<BootstrapOptions> bootstrap,
    SetupState setup,
    OpenViduHa.Core.Jobs.JobService jobs,
    InstanceMonitor instances,
    PanelInstance instance,
    IOptions<InstanceOptions> instanceOptions,
    ILogger<DatabaseInitializer> logger)
{
    /// <summary>The PostgreSQL advisory lock the instances take in turn while they prepare the database ("ovha-init").</summary>
    public const long InitLockKey = 0x6f7668612d696e69;

    public async Task InitializeAsync(CancellationToken ct = default)
    {
        // Several instances starting at once on a new PostgreSQL database (the compose "ha" profile does): EF Core's own
        // migration lock did not keep the second from applying a migration the first had applied (a test saw "column already
        // exists"), and both would create the bootstrap administrator. One at a time, the others wait here.
        await using var turn = await TakeInitTurnAsync(ct);
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            await db.Database.MigrateAsync(ct);
            // WAL lets the status readers of later features run beside writers.
            if (db.Database.IsSqlite()) await db.Database.ExecuteSqlRawAsync("PRAGMA journal_mode=WAL;", ct);
        }
        // Before Hangfire's server starts: a job that was running when the panel stopped did not finish (with SQLite
        // every running job; with instances sharing PostgreSQL, those of instances that stopped beating).
        await instances.RegisterAsync(ct);
        await jobs.InterruptOrphansAsync(instance, instanceOptions.Value.DeadAfter, ct);

        if (await users.AnyUserAsync(ct))
        {
            setup.MarkDone();
            return;
        }

        var options = bootstrap.Value;
        if (string.IsNullOrWhiteSpace(options.AdminUser) || string.IsNullOrEmpty(options.AdminPassword))
        {
            logger.LogWarning("No administrator yet: open the panel and complete the one-time setup page");
            return;
        }
        if (UserService.CheckUserName(options.AdminUser) is { } badName) throw new InvalidOperationException($"Bootstrap:AdminUser: {badName}");
        if (UserService.CheckPassword(options.AdminPassword) is { } badPassword) throw new InvalidOperationException($"Bootstrap:AdminPassword: {badPassword}");

        var userId = await users.CreateFirstAdminAsync(options.AdminUser, options.AdminPassword, "bootstrap", ct);
        if (userId is not null && !string.IsNullOrEmpty(options.ApiToken))
        {
            if (options.ApiToken.Length < 32) throw new InvalidOperationException("Bootstrap:ApiToken: use at least 32 characters.");
            await tokens.ImportAsync(userId.Value, "bootstrap", options.ApiToken, ct);
        }
        setup.MarkDone();
        logger.LogInformation("Created the bootstrap administrator {UserName}", options.AdminUser.Trim());
    }

    /// <summary>
    /// PostgreSQL: a session advisory lock on a connection of its own (not pooled: closing it ends the session, and with it
    /// the lock, whatever happens in between). SQLite: nothing (one instance).
    /// </summary>
    private async Task<NpgsqlConnection?> TakeInitTurnAsync(CancellationToken ct)
    {
        if (storage.Value.Provider != StorageProvider.Postgres) return null;
        var connection = new NpgsqlConnection(new NpgsqlConnectionStringBuilder(storage.Value.ConnectionString) { Pooling = false }.ConnectionString);
        try
        {
            await connection.OpenAsync(ct);
            await using var take = new NpgsqlCommand("SELECT pg_try_advisory_lock(@key)", connection);
            take.Parameters.AddWithValue("key", InitLockKey);
            if ((bool)(await take.ExecuteScalarAsync(ct))!) return connection;
            logger.LogInformation("Another instance is preparing the database: waiting for it");
            await using var wait = new NpgsqlCommand("SELECT pg_advisory_lock(@key)", connection);
            wait.Parameters.AddWithValue("key", InitLockKey);
            wait.CommandTimeout = 0;
            await wait.ExecuteNonQueryAsync(ct);
            return connection;
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

}

/// <summary>Whether the one-time setup is done; once done it stays done for the life of the process.</summary>
public sealed class SetupState
{
    private volatile bool _done;
    public bool IsDone => _done;
    public void MarkDone() => _done = true;
}
