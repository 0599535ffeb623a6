using OpenViduHa.Core.Backup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Instances;
using OpenViduHa.Core.Security;
using OpenViduHa.Core.Users;
using OpenViduHa.Data.Postgres;

namespace OpenViduHa.Web.Hosting;

public static class StorageExtensions
{
    /// <summary>
    /// The database (SQLite in the data directory, or PostgreSQL), the Data Protection key ring (beside the SQLite file, or
    /// in the shared database), and the services that use them.
    /// </summary>
    public static DataPaths AddPanelStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section)
            .Configure(o => o.ConnectionString = builder.Configuration.GetConnectionString(StorageOptions.ConnectionStringName))
            .ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section);

        var paths = DataPaths.Resolve(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(paths);

        var storage = Storage(builder.Configuration);
        if (storage.Provider == StorageProvider.Postgres)
        {
            builder.Services.AddDbContextFactory<PanelDbContext>(o => o.UsePanelPostgres(storage.ConnectionString!));
        }
        else
        {
            var file = storage.DatabaseFile;
            builder.Services.AddDbContextFactory<PanelDbContext>(o => o.UseSqlite($"Data Source={paths.Database(file)};Foreign Keys=True").AddInterceptors(new SqlitePragmas()));
        }

        var dataProtection = builder.Services.AddDataProtection().SetApplicationName("OpenViduHa");
        // One key ring for every instance: in the shared database with PostgreSQL, beside the SQLite file otherwise.
        if (storage.Provider == StorageProvider.Postgres) dataProtection.PersistKeysToDbContext<PanelDbContext>();
        else dataProtection.PersistKeysToFileSystem(new DirectoryInfo(paths.Keys));
        if (KeyRingCertificate.Load(builder.Configuration, builder.Environment.ContentRootPath) is { } certificate)
        {
            // New keys are written encrypted to the certificate; reading them needs the same certificate (not the
            // machine's certificate store: the file given here).
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }

        builder.Services.AddSingleton(TimeProvider.System);
        // Registered before Hangfire's server: hosted services stop in reverse order, so this instance beats until its
        // jobs have stopped.
        builder.Services.AddSingleton(new PanelInstance { Alone = storage.Provider == StorageProvider.Sqlite });
        builder.Services.AddOptions<InstanceOptions>().BindConfiguration(InstanceOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<InstanceMonitor>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<InstanceMonitor>());
        if (storage.Provider == StorageProvider.Postgres)
            builder.Services.AddHostedService(sp => ActivatorUtilities.CreateInstance<InstanceEvents>(sp, storage));
        builder.Services.AddSingleton<SecretProtector>();
        builder.Services.AddSingleton<AuditLog>();
        builder.Services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton(sp => new ClusterService(sp.GetRequiredService<IDbContextFactory<PanelDbContext>>(), sp.GetRequiredService<SecretProtector>(),
            sp.GetRequiredService<AuditLog>(), sp.GetRequiredService<TimeProvider>(), sp.GetRequiredService<ILogger<ClusterService>>(),
            sp.GetRequiredService<IOptions<ClusterOptions>>().Value));
        builder.Services.AddSingleton<UserService>();
        builder.Services.AddOptions<BackupOptions>().BindConfiguration(BackupOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<BackupService>();
        builder.Services.AddSingleton<ApiTokenService>();
        builder.Services.AddSingleton<SessionService>();
        builder.Services.AddSingleton<DatabaseInitializer>();
        builder.Services.AddSingleton<SetupState>();
        return paths;
    }

    /// <summary>The storage settings as configured, before the host is built (the database and Hangfire are chosen from them).</summary>
    public static StorageOptions Storage(IConfiguration configuration)
    {
        var options = configuration.GetSection(StorageOptions.Section).Get<StorageOptions>() ?? new StorageOptions();
        options.ConnectionString = configuration.GetConnectionString(StorageOptions.ConnectionStringName);
        if (options.Provider == StorageProvider.Postgres && string.IsNullOrWhiteSpace(options.ConnectionString))
            throw new OptionsValidationException(StorageOptions.Section, typeof(StorageOptions),
                [options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).First().ErrorMessage!]);
        return options;
    }

    public static Task InitializeDatabaseAsync(this WebApplication app) =>
        app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
}
