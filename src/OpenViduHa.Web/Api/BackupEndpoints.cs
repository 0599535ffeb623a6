using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Backup;
using OpenViduHa.Core.Users;
using OpenViduHa.Web.Auth;

namespace OpenViduHa.Web.Api;

/// <summary>
/// <c>POST /api/backup</c> and <c>POST /api/restore</c>: the panel's data as one passphrase-encrypted file, and back into
/// an empty panel. The passphrase travels in the body only, never in a URL.
/// </summary>
public static class BackupEndpoints
{
    public const string RestorePath = "/api/restore";

    public sealed record BackupRequest(string? Passphrase);

    public sealed record RestoredDto(
        int Clusters, int Nodes, int Users, int Tokens, int Jobs, int AuditEntries,
        DateTimeOffset BackupCreatedAt, string BackupCreatedBy, int UsersReplaced, int TokensSkipped, int JobsInterrupted);

    private static readonly ProblemTitles Titles = new(NotFound: "Not found.", Conflict: "The panel is not empty.",
        Invalid: "The backup cannot be used that way.", InvalidDetail: "Nothing was stored. See errors for each field.", Refused: "The backup cannot be restored.");

    public static void MapBackupApi(this IEndpointRouteBuilder app)
    {
        app.MapPost("/api/backup", async Task<IResult> (BackupRequest request, BackupService backups, HttpContext http, CancellationToken ct) =>
            {
                var (outcome, made) = await backups.CreateAsync(request.Passphrase, http.User.Actor(), http.Connection.RemoteIpAddress?.ToString(), ct);
                if (!outcome.Succeeded) return outcome.ToProblem(Titles with { InvalidDetail = "No backup was made. See errors for each field." });
                http.Response.Headers.CacheControl = "no-store";
                return TypedResults.File(made!.File, "application/octet-stream", made.FileName);
            })
            .Accepts<BackupRequest>("application/json")
            .Produces(StatusCodes.Status200OK, contentType: "application/octet-stream")
            .ProducesValidationProblem()
            .RequireScope(TokenScope.Admin)
            .WithTags("Panel")
            .WithName("Backup").WithSummary("Download every cluster, node, secret, pinned host key, user, token hash, audit entry and job as one encrypted file.")
            .WithDescription("Body: {\"passphrase\": \"at least 12 characters\"}. The file (.ovhabak) is AES-256-GCM encrypted with a key derived " +
                             "from the passphrase (PBKDF2-HMAC-SHA256, 600,000 iterations): it opens on any machine with the passphrase, and " +
                             "without it on none. The README documents the format.");

        app.MapPost(RestorePath, async Task<IResult> (HttpRequest request, BackupService backups, IOptions<BackupOptions> options, CancellationToken ct) =>
            {
                if (!request.HasFormContentType)
                    return TypedResults.ValidationProblem(new Dictionary<string, string[]>
                    {
                        ["file"] = ["Send multipart/form-data: the backup file in 'file' and its passphrase in 'passphrase'."],
                    }, title: Titles.Invalid, detail: Titles.InvalidDetail);
                var form = await request.ReadFormAsync(new FormOptions { MultipartBodyLengthLimit = options.Value.MaxFileBytes }, ct);
                byte[]? file = null;
                if (form.Files.GetFile("file") is { Length: > 0 } upload)
                {
                    using var buffer = new MemoryStream((int)upload.Length);
                    await upload.CopyToAsync(buffer, ct);
                    file = buffer.ToArray();
                }
                var result = await backups.RestoreAsync(file, form["passphrase"].FirstOrDefault(), request.HttpContext.User.Actor(),
                    request.HttpContext.Connection.RemoteIpAddress?.ToString(), ct);
                if (!result.Outcome.Succeeded) return result.Outcome.ToProblem(Titles);
                var (restored, createdAt, createdBy, replaced, skipped, interrupted) = result.Summary!;
                return TypedResults.Ok(new RestoredDto(restored.Clusters, restored.Nodes, restored.Users, restored.Tokens, restored.Jobs, restored.AuditEntries,
                    createdAt, createdBy, replaced, skipped, interrupted));
            })
            .DisableAntiforgery() // bearer tokens only: the API takes no write from a cookie (ApiWritesNeedToken)
            .Accepts<IFormFile>("multipart/form-data")
            .Produces<RestoredDto>()
            .ProducesValidationProblem()
            .ProducesProblem(StatusCodes.Status409Conflict)
            .ProducesProblem(StatusCodes.Status413PayloadTooLarge)
            .RequireScope(TokenScope.Admin)
            .WithTags("Panel")
            .WithName("Restore").WithSummary("Restore a backup into a panel without clusters: everything or nothing.")
            .WithDescription("multipart/form-data with 'file' (the .ovhabak file) and 'passphrase'. A wrong passphrase is a 400 at 'passphrase' " +
                             "and stores nothing; a panel that has clusters answers 409. Users of the same name take the backup's password; " +
                             "sign-in sessions are not restored.");
    }
}
