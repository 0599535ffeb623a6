using OpenViduHa.Core.Status;

namespace OpenViduHa.Web.Status;

public static class StatusExtensions
{
    /// <summary>The status collector, its kept connections, the live store and the schedule.</summary>
    public static void AddPanelStatus(this IHostApplicationBuilder builder)
    {
        builder.Services.AddOptions<StatusOptions>().BindConfiguration(StatusOptions.Section).ValidateDataAnnotations().ValidateOnStart();
        builder.Services.AddSingleton<StatusStore>();
        builder.Services.AddSingleton<StatusConnections>();
        builder.Services.AddSingleton<SweepOwnership>();
        builder.Services.AddSingleton<StatusSharing>();
        builder.Services.AddSingleton<StatusCollector>();
        builder.Services.AddHostedService<StatusService>();
    }

    public static void MapPanelStatus(this WebApplication app)
    {
        app.MapStatusApi();
        app.MapMetrics();
    }
}
