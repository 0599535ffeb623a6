using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Options;
using OpenViduHa.Core.Backup;

namespace OpenViduHa.Web.Api;

/// <summary>
/// No request body above 1 MiB. A cluster is the largest body: 500 nodes with an ed25519 key each (about 400 characters)
/// come to about 250 KB; with a 4096-bit RSA key on every node, a PUT leaves stored keys out (they are kept) and nodes can
/// be added one by one (<c>ssh.sameAs</c> reuses a stored key). Bigger bodies get 413 problem details, whether the size
/// is announced (Content-Length) or only found while reading (chunked). Blazor's live connection is a WebSocket:
/// its messages are not request bodies and SignalR bounds them itself. A restore (<c>POST /api/restore</c>) is the one
/// exception: its body is a backup file, up to <c>Backup:MaxFileBytes</c> and a little for the form around it.
/// </summary>
public static class RequestSizeLimit
{
    public const long MaxBytes = 1024 * 1024;

    /// <summary>What the form around a restore's file may add to it (boundaries, headers, the passphrase).</summary>
    private const long FormAllowance = 64 * 1024;

    public static void UsePanelRequestSizeLimit(this WebApplication app)
    {
        var restoreMax = app.Services.GetRequiredService<IOptions<BackupOptions>>().Value.MaxFileBytes + FormAllowance;
        app.Use(async (context, next) =>
        {
            var max = HttpMethods.IsPost(context.Request.Method) && context.Request.Path.Equals(BackupEndpoints.RestorePath, StringComparison.OrdinalIgnoreCase)
                ? restoreMax
                : MaxBytes;
            await LimitAsync(context, next, max);
        });
    }

    private static async Task LimitAsync(HttpContext context, RequestDelegate next, long max)
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = max;
        else context.Request.Body = new LimitedBody(context.Request.Body, max); // a server without the feature (tests' in-memory host)
        if (context.Request.ContentLength > max)
        {
            await TooLargeAsync(context, max);
            return;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await TooLargeAsync(context, max);
            return;
        }
        catch (InvalidDataException) when (max != MaxBytes && !context.Response.HasStarted)
        {
            // The form reader's own limit (a restore's file above Backup:MaxFileBytes).
            await TooLargeAsync(context, max);
            return;
        }
        // A minimal API endpoint that hit the limit while binding answers 413 with no body: say why.
        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted && context.Response.ContentLength is null or 0)
            await TooLargeAsync(context, max);
    }

    private static Task TooLargeAsync(HttpContext context, long max)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return context.Response.WriteAsJsonAsync(new
        {
            type = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
            title = "The request is too large.",
            status = 413,
            detail = $"Request bodies are limited to {max / 1024} KiB{(max == MaxBytes ? "" : " here")}. Nothing was stored.",
        }, options: null, contentType: "application/problem+json");
    }

    /// <summary>A request body that fails like Kestrel's limit (413) once more than <paramref name="max"/> bytes were read.</summary>
    private sealed class LimitedBody(Stream inner, long max) : Stream
    {
        private long _read;

        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => _read; set => throw new NotSupportedException(); }
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, count));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer, cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        private int Count(int read)
        {
            _read += read;
            return _read > max ? throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge) : read;
        }
    }
}
