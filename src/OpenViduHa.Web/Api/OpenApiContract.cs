using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace OpenViduHa.Web.Api;

/// <summary>
/// What the OpenAPI document says beyond the endpoints themselves: the bearer scheme every operation needs (an API token
/// from the Tokens page; a signed-in browser's cookie works too), a 401 on each of them, the tags' descriptions and a
/// server URL relative to wherever the panel is served. Redocly's recommended lint finds no error in it
/// (<c>OpenApiLintTests</c>).
/// </summary>
internal static class OpenApiContract
{
    public const string BearerScheme = "bearer";

    private static readonly Dictionary<string, string> Tags = new()
    {
        ["Clusters"] = "Clusters as stored: create, read, change, delete, pin the installer's SHA-256.",
        ["Artifacts"] = "Files generated from a cluster: install commands, firewall rules, load balancer configs, credentials.",
        ["Jobs"] = "Work on a cluster's nodes over SSH: preflight, install, node changes, credentials; their state and log.",
        ["Nodes"] = "A node's host key: confirm what a preflight recorded, or re-pin a rebuilt machine.",
        ["Status"] = "Live status: the latest sweep, or a sweep now.",
        ["Panel"] = "The panel itself: liveness and Prometheus metrics.",
    };

    public static void Configure(OpenApiOptions options)
    {
        options.AddDocumentTransformer((document, _, _) =>
        {
            document.Info.Title = "OpenVidu HA panel";
            document.Info.Description = "Deploys and operates OpenVidu High Availability clusters over SSH. Send an API token as `Authorization: Bearer <token>`.";
            document.Info.License = new OpenApiLicense { Name = "Proprietary", Identifier = "LicenseRef-Proprietary" };
            document.Servers = [new OpenApiServer { Url = "/", Description = "This panel" }];
            document.Components ??= new OpenApiComponents();
            document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
            document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
            {
                Type = SecuritySchemeType.Http,
                Scheme = "bearer",
                Description = "An API token made on the panel's Tokens page (ovha_…).",
            };
            document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
            document.Tags = new HashSet<OpenApiTag>(Tags.Select(t => new OpenApiTag { Name = t.Key, Description = t.Value }));
            return Task.CompletedTask;
        });
        options.AddOperationTransformer((operation, context, _) =>
        {
            operation.Responses ??= [];
            if (context.Description.ActionDescriptor.EndpointMetadata.OfType<IAllowAnonymous>().Any())
            {
                operation.Security = []; // open to anyone: /healthz
                return Task.CompletedTask;
            }
            operation.Responses.TryAdd("401", new OpenApiResponse { Description = "No valid API token (or sign-in) was sent." });
            return Task.CompletedTask;
        });
    }
}
