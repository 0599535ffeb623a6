using MudBlazor;
using MudBlazor.Services;
using OpenViduHa.Core.Ssh;
using OpenViduHa.Web.Api;
using OpenViduHa.Web.Auth;
using OpenViduHa.Web.Components;
using OpenViduHa.Web.Hosting;
using OpenViduHa.Web.Jobs;
using OpenViduHa.Web.Status;
using Serilog;

// Before anything allocates on many threads: two malloc arenas, not 8 per core (see MallocArenas).
MallocArenas.Limit();
var builder = WebApplication.CreateBuilder(args);
// Package assets (MudBlazor's _content) from the build output's manifest in every environment, not only Development.
builder.WebHost.UseStaticWebAssets();
var paths = builder.AddPanelStorage();
builder.AddPanelLogging(paths);
builder.AddPanelAuth();
builder.AddPanelProxy();
builder.AddPanelApi();
builder.AddPanelJobs(paths);
builder.AddPanelStatus();
builder.Services.AddRazorComponents().AddInteractiveServerComponents();
// Notices at the bottom left (Material's desktop place): top right they cover the pages' action buttons.
builder.Services.AddMudServices(o => o.SnackbarConfiguration.PositionClass = Defaults.Classes.Position.BottomLeft);

var app = builder.Build();
await app.InitializeDatabaseAsync();

app.UsePanelProxyAndHeaders();
app.UseExceptionHandler();
app.UseSerilogRequestLogging();
app.UsePanelRequestSizeLimit();
// A page address nobody serves gets the panel's own "not found" page; the API keeps its problem details.
app.UseWhen(c => !c.Request.Path.StartsWithSegments("/api") && !c.Request.Path.StartsWithSegments("/hangfire"),
    b => b.UseStatusCodePagesWithReExecute("/not-found", createScopeForStatusCodePages: true));
// An API answer the framework ends without a body (415 for a body it does not take, 405) still says why, as problem details.
app.UseWhen(c => c.Request.Path.StartsWithSegments("/api"), b => b.UseStatusCodePages());
// The repository's wwwroot is served before routing, so no endpoint (not even a fallback) shadows it.
app.UseStaticFiles();
app.UseRouting();
app.UseRateLimiter();
app.UseSetupRedirect();
app.UseAuthentication();
app.UseApiWritesNeedToken();
app.UseAuthorization();
app.UseAntiforgery();

app.MapStaticAssets().AllowAnonymous();
// Blazor would add a second policy header of its own (frame-ancestors 'self', against framing while the live connection
// is compressed); the panel's single policy already forbids every framing on every document (ProxyAndHeaders).
app.MapRazorComponents<App>().AddInteractiveServerRenderMode(o => o.ContentSecurityFrameAncestorsPolicy = null);
app.MapPanelApi();
app.MapPanelHangfire();
app.MapPanelStatus();
app.Run();

public partial class Program;
