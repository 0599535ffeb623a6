using OpenViduHa.Core.Clusters;
using Hangfire;
using Hangfire.Dashboard;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;
using Hangfire.Storage.SQLite;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Credentials;
using OpenViduHa.Core.Install;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Preflight;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Web.Hosting;

namespace OpenViduHa.Web.Jobs;

public static class JobsExtensions
{
    /// <summary>Hangfire (its own SQLite file in the data directory, or the panel's PostgreSQL database), the SSH engine and the job handlers.</summary>
    public static void AddPanelJobs(this IHostApplicationBuilder builder, DataPaths paths)
    {
        builder.Services.AddOptions<JobOptions>().BindConfiguration(JobOptions.Section).ValidateDataAnnotations().ValidateOnStart();

        // Storage and activator are this host's own services, not Hangfire's process-wide defaults (JobStorage.Current,
        // JobActivator.Current): a second host in the same process (tests) must never take this host's jobs.
        var storage = StorageExtensions.Storage(builder.Configuration);
        if (storage.Provider == StorageProvider.Postgres)
        {
            // In the panel's database, schema "hangfire": every instance's workers take from one queue. A queued job is
            // announced (NOTIFY new_job) and the idle workers of every instance, each listening, look at once: the poll
            // is only the safety net, so it can be slow, and an instance at rest queries little.
            builder.Services.AddSingleton<JobStorage>(sp =>
            {
                var options = new PostgreSqlStorageOptions
                {
                    QueuePollInterval = sp.GetRequiredService<IOptions<JobOptions>>().Value.QueuePollIntervalFor(notified: true),
                    EnableLongPolling = true,
                    PrepareSchemaIfNecessary = true,
                };
                return new PostgreSqlStorage(new NpgsqlConnectionFactory(storage.ConnectionString!, options), options);
            });
        }
        else
        {
            var hangfireFile = builder.Configuration["Jobs:HangfireDatabase"] is { Length: > 0 } configured
                ? Path.GetFullPath(configured, paths.Root)
                : Path.Combine(paths.Root, "hangfire.db");
            builder.Services.AddSingleton<JobStorage>(sp => new SQLiteStorage(hangfireFile, new SQLiteStorageOptions
            {
                QueuePollInterval = sp.GetRequiredService<IOptions<JobOptions>>().Value.QueuePollIntervalFor(notified: false),
            }));
        }
        builder.Services.AddSingleton<JobActivator>(sp => new Hangfire.AspNetCore.AspNetCoreJobActivator(sp.GetRequiredService<IServiceScopeFactory>()));
        builder.Services.AddHangfire(config => config
            .SetDataCompatibilityLevel(CompatibilityLevel.Version_180)
            .UseSimpleAssemblyNameTypeSerializer()
            .UseRecommendedSerializerSettings());
        // Jobs:Workers 0: an instance that serves pages and the API and queues jobs, but runs none (with PostgreSQL, the
        // other instances run them).
        var workers = builder.Configuration.GetValue("Jobs:Workers", 8);
        if (workers < 0) throw new OptionsValidationException("Jobs", typeof(JobOptions), ["Jobs:Workers must be 0 (run no job here) or more."]);
        if (workers > 0)
        {
            builder.Services.AddHangfireServer(o =>
            {
                o.WorkerCount = workers;
            });
        }

        builder.Services.AddSingleton<ISshConnector, SshNetConnector>();
        builder.Services.AddSingleton<JobNotifier>();
        builder.Services.AddSingleton<JobCancellations>();
        builder.Services.AddSingleton<JobService>();
        builder.Services.AddSingleton<HostKeyService>();
        builder.Services.AddSingleton<AdoptService>();
        builder.Services.AddSingleton<PrivateFiles>();
        builder.Services.AddSingleton<NodeOps>();
        builder.Services.AddTransient<JobRunner>();
        builder.Services.AddSingleton<ServiceHandler>();
        builder.Services.AddSingleton<CredentialsHandler>();
        builder.Services.AddSingleton<InstallHandler>();
        builder.Services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<InstallHandler>());
        builder.Services.AddSingleton<IJobHandler, OpenViduHa.Core.Nodes.RemoveNodeHandler>();
        builder.Services.AddSingleton<IJobHandler, OpenViduHa.Core.Nodes.SetPublicIpHandler>();
        builder.Services.AddSingleton<IJobHandler, OpenViduHa.Core.Reconfigure.ReconfigureHandler>();
        builder.Services.AddSingleton<IJobHandler, PreflightHandler>();
        builder.Services.AddSingleton<IJobHandler, InstallerDigestsHandler>();
        builder.Services.AddSingleton<IJobHandler, OpenViduHa.Core.Upgrade.UpgradeHandler>();
        builder.Services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<ServiceHandler>());
        builder.Services.AddSingleton<IJobHandler>(sp => sp.GetRequiredService<CredentialsHandler>());
    }

    /// <summary>The Hangfire dashboard, read only, behind the panel's own sign-in (never a filter that lets everyone in).</summary>
    public static void MapPanelHangfire(this WebApplication app) =>
        app.MapHangfireDashboard("/hangfire", new DashboardOptions
        {
            Authorization = [new SignedInFilter()],
            DisplayStorageConnectionString = false,
            AppPath = "/clusters",
            // Read only: requeue and delete would act on Hangfire's copy and the panel would ignore them (a job is
            // retried, cancelled and deleted in the panel, which keeps its rules: one changing job, failed nodes only).
            IsReadOnlyFunc = _ => true,
        }, app.Services.GetRequiredService<JobStorage>()).RequireAuthorization();

    private sealed class SignedInFilter : IDashboardAuthorizationFilter
    {
        public bool Authorize(DashboardContext context) => context.GetHttpContext().User.Identity?.IsAuthenticated == true;
    }
}
