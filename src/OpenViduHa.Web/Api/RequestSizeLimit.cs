using Microsoft.AspNetCore.Http.Features;

namespace OpenViduHa.Web.Api;

/// <summary>
/// No request body above 1 MiB. A cluster is the largest body: 500 nodes with an ed25519 key each (about 400 characters)
/// come to about 250 KB; with a 4096-bit RSA key on every node, a PUT leaves stored keys out (they are kept) and nodes can
/// be added one by one (<c>ssh.sameAs</c> reuses a stored key). Bigger bodies get 413 problem details, whether the size
/// is announced (Content-Length) or only found while reading (chunked). Blazor's live connection is a WebSocket:
/// its messages are not request bodies and SignalR bounds them itself.
/// </summary>
public static class RequestSizeLimit
{
    public const long MaxBytes = 1024 * 1024;

    public static void UsePanelRequestSizeLimit(this WebApplication app) => app.Use(async (context, next) =>
    {
        if (context.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit) limit.MaxRequestBodySize = MaxBytes;
        else context.Request.Body = new LimitedBody(context.Request.Body); // a server without the feature (tests' in-memory host)
        if (context.Request.ContentLength > MaxBytes)
        {
            await TooLargeAsync(context);
            return;
        }
        try
        {
            await next(context);
        }
        catch (BadHttpRequestException e) when (e.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted)
        {
            await TooLargeAsync(context);
            return;
        }
        // A minimal API endpoint that hit the limit while binding answers 413 with no body: say why.
        if (context.Response.StatusCode == StatusCodes.Status413PayloadTooLarge && !context.Response.HasStarted && context.Response.ContentLength is null or 0)
            await TooLargeAsync(context);
    });

    private static Task TooLargeAsync(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status413PayloadTooLarge;
        return context.Response.WriteAsJsonAsync(new
        {
            type = "https://tools.ietf.org/html/rfc9110#section-15.5.14",
            title = "The request is too large.",
            status = 413,
            detail = $"Request bodies are limited to {MaxBytes / 1024} KiB. Nothing was stored.",
        }, options: null, contentType: "application/problem+json");
    }

    /// <summary>A request body that fails like Kestrel's limit (413) once more than <see cref="MaxBytes"/> were read.</summary>
    private sealed class LimitedBody(Stream inner) : Stream
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
            return _read > MaxBytes ? throw new BadHttpRequestException("Request body too large.", StatusCodes.Status413PayloadTooLarge) : read;
        }
    }
}
