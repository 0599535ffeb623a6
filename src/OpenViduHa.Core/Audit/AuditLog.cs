using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Audit;

/// <summary>Who did what and when. Entries never hold secret values.</summary>
public sealed class AuditLog(IDbContextFactory<PanelDbContext> dbFactory, TimeProvider clock, ILogger<AuditLog> logger)
{
    public async Task WriteAsync(string actor, string action, string? target = null, string? detail = null, string? remoteIp = null, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        db.AuditEntries.Add(Entry(actor, action, target, detail, remoteIp));
        await db.SaveChangesAsync(ct);
    }

    /// <summary>Adds an entry to a context the caller saves, so the change and its record commit together.</summary>
    public void Add(PanelDbContext db, string actor, string action, string? target = null, string? detail = null, string? remoteIp = null) =>
        db.AuditEntries.Add(Entry(actor, action, target, detail, remoteIp));

    public async Task<IReadOnlyList<AuditEntry>> RecentAsync(int take = 200, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.AuditEntries.AsNoTracking().OrderByDescending(a => a.Id).Take(take).ToListAsync(ct);
    }

    private AuditEntry Entry(string actor, string action, string? target, string? detail, string? remoteIp)
    {
        logger.LogInformation("Audit: {Actor} {Action} {Target}", actor, action, target);
        return new AuditEntry { At = clock.GetUtcNow(), Actor = actor, Action = action, Target = target, Detail = detail, RemoteIp = remoteIp };
    }
}
