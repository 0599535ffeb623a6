using System.Security.Cryptography;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Users;

public sealed record SessionView(
    string Id, string UserName, DateTimeOffset CreatedAt, DateTimeOffset LastSeenAt, DateTimeOffset? EndedAt, string? EndReason,
    string? RemoteIp, string? UserAgent)
{
    /// <summary>The first characters of the id: enough to tell sessions apart, never enough to use one.</summary>
    public string ShortId => Id[..8];

    public bool Active(DateTimeOffset now) => EndedAt is null && now - LastSeenAt < SessionService.Lifetime;
}

/// <summary>
/// Sign-in sessions kept on the server. The cookie names its session; a request or a live page whose session ended
/// (signed out, revoked from another browser) is signed out, so a copied or forgotten cookie stops working at once.
/// </summary>
public sealed class SessionService(IDbContextFactory<PanelDbContext> dbFactory, AuditLog audit, TimeProvider clock)
{
    /// <summary>Idle time after which a session no longer counts (the sign-in cookie's own sliding lifetime).</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(12);

    /// <summary>Ended and idle sessions are forgotten after this.</summary>
    public static readonly TimeSpan Kept = TimeSpan.FromDays(30);

    public const int MaxUserAgentLength = 200;

    /// <summary>How stale <see cref="SessionEntity.LastSeenAt"/> may get before a check writes it again.</summary>
    private static readonly TimeSpan SeenResolution = TimeSpan.FromMinutes(1);

    public async Task<string> StartAsync(int userId, string? remoteIp, string? userAgent, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var now = clock.GetUtcNow();
        var forgotten = now - Kept;
        await db.Sessions.Where(s => s.LastSeenAt < forgotten).ExecuteDeleteAsync(ct);
        var session = new SessionEntity
        {
            Id = Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(16)), UserId = userId, CreatedAt = now, LastSeenAt = now,
            RemoteIp = remoteIp, UserAgent = Clip(userAgent),
        };
        db.Sessions.Add(session);
        await db.SaveChangesAsync(ct);
        return session.Id;
    }

    /// <summary>True while the session is open and belongs to <paramref name="userId"/>; notes that it was seen.</summary>
    public async Task<bool> IsActiveAsync(string? sessionId, int? userId, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(sessionId) || sessionId.Length != 32 || userId is null) return false;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var session = await db.Sessions.FirstOrDefaultAsync(s => s.Id == sessionId, ct);
        var now = clock.GetUtcNow();
        if (session is null || session.UserId != userId || session.EndedAt is not null || now - session.LastSeenAt >= Lifetime) return false;
        if (now - session.LastSeenAt >= SeenResolution)
        {
            session.LastSeenAt = now;
            await db.SaveChangesAsync(ct);
        }
        return true;
    }

    /// <summary>Ends a session (sign-out, or revoked by someone); false when it was not open.</summary>
    public async Task<bool> EndAsync(string sessionId, string actor, string reason, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var session = await db.Sessions.Include(s => s.User).FirstOrDefaultAsync(s => s.Id == sessionId && s.EndedAt == null, ct);
        if (session is null) return false;
        session.EndedAt = clock.GetUtcNow();
        session.EndReason = reason;
        audit.Add(db, actor, reason == SignedOut ? "signout" : "session.revoked", session.User?.UserName, $"session {sessionId[..8]}");
        await db.SaveChangesAsync(ct);
        return true;
    }

    public const string SignedOut = "signed out";

    /// <summary>Sessions seen lately, newest first.</summary>
    public async Task<IReadOnlyList<SessionView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var since = clock.GetUtcNow() - Kept;
        var rows = await db.Sessions.AsNoTracking().Include(s => s.User).Where(s => s.LastSeenAt >= since).ToListAsync(ct);
        return rows.OrderByDescending(s => s.LastSeenAt)
            .Select(s => new SessionView(s.Id, s.User?.UserName ?? "", s.CreatedAt, s.LastSeenAt, s.EndedAt, s.EndReason, s.RemoteIp, s.UserAgent))
            .ToList();
    }

    private static string? Clip(string? userAgent)
    {
        if (string.IsNullOrEmpty(userAgent)) return null;
        var clean = new string(userAgent.Where(c => !char.IsControl(c)).ToArray());
        return clean.Length > MaxUserAgentLength ? clean[..MaxUserAgentLength] : clean;
    }
}
