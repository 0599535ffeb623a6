using Scalar.AspNetCore;
using System.Text.Json;
using System.Text.Json.Serialization;

namespace OpenViduHa.Web.Api;

public static class ApiExtensions
{
    public sealed record Health(string Status);

    public static void AddPanelApi(this IHostApplicationBuilder builder)
    {
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi("v1", OpenApiContract.Configure);
        builder.Services.ConfigureHttpJsonOptions(o =>
        {
            o.SerializerOptions.PropertyNamingPolicy = JsonNamingPolicy.CamelCase;
            o.SerializerOptions.PropertyNameCaseInsensitive = true;
            o.SerializerOptions.Converters.Add(new JsonStringEnumConverter(JsonNamingPolicy.CamelCase));
        });
    }

    public static void MapPanelApi(this WebApplication app)
    {
        app.MapOpenApi("/openapi/{documentName}.json");
        // A browsable reference of the same document (Scalar, served by the panel itself: no CDN, not even for fonts), behind
        // sign-in like it.
        app.MapScalarApiReference("/api-docs", o => o.WithTitle("OpenVidu HA panel API").DisableDefaultFonts().WithOpenApiRoutePattern("/openapi/{documentName}.json"));
        app.MapGet("/healthz", () => TypedResults.Ok(new Health("ok"))).AllowAnonymous()
            .WithTags("Panel").WithName("Healthz").WithSummary("Liveness: 200 while the panel serves requests (no sign-in).");
        app.MapClusterApi();
        app.MapArtifactApi();
        app.MapJobApi();
        app.MapTokenApi();
        app.MapUpgradeApi();
        app.MapReconfigureApi();
        app.MapBackupApi();
    }
}
