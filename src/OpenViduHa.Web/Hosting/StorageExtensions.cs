using OpenViduHa.Core.Backup;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Security;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Web.Hosting;

public static class StorageExtensions
{
    /// <summary>SQLite in the data directory, Data Protection keys beside it, and the services that use them.</summary>
    public static DataPaths AddPanelStorage(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StorageOptions>().BindConfiguration(StorageOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddOptions<BootstrapOptions>().BindConfiguration(BootstrapOptions.Section);

        var paths = DataPaths.Resolve(builder.Configuration, builder.Environment.ContentRootPath);
        builder.Services.AddSingleton(paths);

        var file = builder.Configuration[$"{StorageOptions.Section}:{nameof(StorageOptions.DatabaseFile)}"] ?? "panel.db";
        builder.Services.AddDbContextFactory<PanelDbContext>(o => o.UseSqlite($"Data Source={paths.Database(file)};Foreign Keys=True").AddInterceptors(new SqlitePragmas()));

        var dataProtection = builder.Services.AddDataProtection()
            .SetApplicationName("OpenViduHa")
            .PersistKeysToFileSystem(new DirectoryInfo(paths.Keys));
        if (KeyRingCertificate.Load(builder.Configuration, builder.Environment.ContentRootPath) is { } certificate)
        {
            // New keys are written encrypted to the certificate; reading them needs the same certificate (not the
            // machine's certificate store: the file given here).
            dataProtection.ProtectKeysWithCertificate(certificate).UnprotectKeysWithAnyCertificate(certificate);
        }

        builder.Services.AddSingleton(TimeProvider.System);
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

    public static Task InitializeDatabaseAsync(this WebApplication app) =>
        app.Services.GetRequiredService<DatabaseInitializer>().InitializeAsync(app.Lifetime.ApplicationStopping);
}
