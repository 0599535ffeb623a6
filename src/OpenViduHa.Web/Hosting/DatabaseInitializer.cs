using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Hosting;

/// <summary>Applies migrations before the panel serves anything, then creates the bootstrap administrator and token when no user exists yet.</summary>
public sealed class DatabaseInitializer(
    IDbContextFactory<PanelDbContext> dbFactory,
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
    public async Task InitializeAsync(CancellationToken ct = default)
    {
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // Several instances starting at once on PostgreSQL: EF Core's migration lock lets one migrate, the others wait.
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

}

/// <summary>Whether the one-time setup is done; once done it stays done for the life of the process.</summary>
public sealed class SetupState
{
    private volatile bool _done;
    public bool IsDone => _done;
    public void MarkDone() => _done = true;
}
