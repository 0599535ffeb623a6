using Serilog;

namespace OpenViduHa.Web.Hosting;

public static class LoggingExtensions
{
    /// <summary>Serilog from the <c>Serilog</c> section, plus a rolling file in the data directory.</summary>
    public static void AddPanelLogging(this IHostApplicationBuilder builder, DataPaths paths)
    {
        builder.Services.AddSerilog((services, logger) => logger
            .ReadFrom.Configuration(builder.Configuration)
            .ReadFrom.Services(services)
            .Enrich.FromLogContext()
            .WriteTo.File(
                Path.Combine(paths.Logs, "panel-.log"),
                rollingInterval: RollingInterval.Day,
                retainedFileCountLimit: 14,
                outputTemplate: "{Timestamp:yyyy-MM-dd HH:mm:ss.fff zzz} [{Level:u3}] {SourceContext}: {Message:lj}{NewLine}{Exception}"),
            preserveStaticLogger: true);
    }
}
