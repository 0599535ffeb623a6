using System.Security.Cryptography;
using System.Text;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Users;

/// <summary>What an API token may do; each scope includes the ones before it.</summary>
public enum TokenScope
{
    /// <summary>Reads: every GET of the API and <c>/metrics</c>.</summary>
    Read,

    /// <summary>Plus running the cluster: jobs (start, cancel, retry), status refreshes, host-key confirmations.</summary>
    Operate,

    /// <summary>Everything: cluster definitions (create, edit, delete, nodes, installer pins) and tokens.</summary>
    Admin,
}

public sealed record ApiTokenView(
    int Id, string Name, string Prefix, string Owner, TokenScope Scope, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt,
    DateTimeOffset? LastUsedAt, DateTimeOffset? RevokedAt)
{
    /// <summary>active, expired or revoked, at <paramref name="now"/>.</summary>
    public string State(DateTimeOffset now) => RevokedAt is not null ? "revoked" : ExpiresAt <= now ? "expired" : "active";
}

/// <summary>The token value, shown once at creation.</summary>
public sealed record NewApiToken(int Id, string Name, string Token, TokenScope Scope, DateTimeOffset? ExpiresAt);

public sealed record TokenPrincipal(int TokenId, int UserId, string UserName, string TokenName, TokenScope Scope);

/// <summary>A request for a new token, as the page and the API take it.</summary>
public sealed record TokenRequest(string? Name, string? Scope, int? ExpiresInDays);

/// <summary>
/// API tokens: random 24-byte values shown once, kept only as their SHA-256, each with a scope and an optional expiry.
/// A token acts as the user who created it, within its scope.
/// </summary>
public sealed class ApiTokenService(IDbContextFactory<PanelDbContext> dbFactory, AuditLog audit, TimeProvider clock)
{
    public const int MaxNameLength = 64;
    public const int MaxExpiresInDays = 3650;
    private const string TokenPrefix = "ovha_";

    /// <summary>Field errors of a request (keys <c>name</c>, <c>scope</c>, <c>expiresInDays</c>); empty when it is good.</summary>
    public static Dictionary<string, string[]> Validate(TokenRequest request)
    {
        var errors = new Dictionary<string, string[]>();
        var name = request.Name?.Trim();
        if (string.IsNullOrEmpty(name)) errors["name"] = ["Name the token after what uses it."];
        else if (name.Length > MaxNameLength) errors["name"] = [$"Use at most {MaxNameLength} characters."];
        else if (name.Any(char.IsControl)) errors["name"] = ["Use one line without control characters."];
        if (ParseScope(request.Scope) is null) errors["scope"] = ["Choose read, operate or admin."];
        if (request.ExpiresInDays is < 1 or > MaxExpiresInDays) errors["expiresInDays"] = [$"Give 1 to {MaxExpiresInDays} days, or leave it out for a token that does not expire."];
        return errors;
    }

    public static TokenScope? ParseScope(string? scope) => scope?.Trim().ToLowerInvariant() switch
    {
        "read" => TokenScope.Read,
        "operate" => TokenScope.Operate,
        "admin" => TokenScope.Admin,
        _ => null,
    };

    public static string Name(TokenScope scope) => scope.ToString().ToLowerInvariant();

    /// <summary>Creates a token for <paramref name="userId"/>; the request must have passed <see cref="Validate"/>.</summary>
    public async Task<NewApiToken> CreateAsync(int userId, TokenRequest request, string actor, CancellationToken ct = default)
    {
        if (Validate(request) is { Count: > 0 } errors) throw new ArgumentException(string.Join(" ", errors.Values.SelectMany(e => e)), nameof(request));
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await db.Users.FirstAsync(u => u.Id == userId, ct);
        var now = clock.GetUtcNow();
        var token = TokenPrefix + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(24));
        var entity = new ApiTokenEntity
        {
            Name = request.Name!.Trim(), TokenHash = Hash(token), Prefix = token[..(TokenPrefix.Length + 6)], UserId = userId,
            Scope = ParseScope(request.Scope)!.Value, CreatedAt = now, ExpiresAt = request.ExpiresInDays is { } days ? now.AddDays(days) : null,
        };
        db.ApiTokens.Add(entity);
        audit.Add(db, actor, "token.created", entity.Name, $"scope {Name(entity.Scope)}" + (entity.ExpiresAt is { } at ? $", expires {at:yyyy-MM-dd}" : ""));
        await db.SaveChangesAsync(ct);
        return new(entity.Id, entity.Name, token, entity.Scope, entity.ExpiresAt);
    }

    /// <summary>Stores a token given from configuration (headless install), scope admin. Ignored if the same token already exists.</summary>
    public async Task ImportAsync(int userId, string name, string token, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var hash = Hash(token);
        if (await db.ApiTokens.AnyAsync(t => t.TokenHash == hash, ct)) return;
        db.ApiTokens.Add(new ApiTokenEntity
        {
            Name = name, TokenHash = hash, Prefix = token.Length > 11 ? token[..11] : token[..Math.Min(4, token.Length)], UserId = userId,
            Scope = TokenScope.Admin, CreatedAt = clock.GetUtcNow(),
        });
        audit.Add(db, "bootstrap", "token.created", name, "scope admin");
        await db.SaveChangesAsync(ct);
    }

    public async Task<bool> RevokeAsync(int tokenId, string actor, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var token = await db.ApiTokens.FirstOrDefaultAsync(t => t.Id == tokenId && t.RevokedAt == null, ct);
        if (token is null) return false;
        token.RevokedAt = clock.GetUtcNow();
        audit.Add(db, actor, "token.revoked", token.Name);
        await db.SaveChangesAsync(ct);
        return true;
    }

    public async Task<IReadOnlyList<ApiTokenView>> ListAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var rows = await db.ApiTokens.AsNoTracking().Include(t => t.User).ToListAsync(ct);
        return rows.OrderByDescending(t => t.Id)
            .Select(t => new ApiTokenView(t.Id, t.Name, t.Prefix, t.User?.UserName ?? "", t.Scope, t.CreatedAt, t.ExpiresAt, t.LastUsedAt, t.RevokedAt))
            .ToList();
    }

    /// <summary>The principal behind a bearer token, or null when unknown, revoked or expired.</summary>
    public async Task<TokenPrincipal?> ValidateAsync(string token, CancellationToken ct = default)
    {
        if (string.IsNullOrEmpty(token) || token.Length > 256) return null;
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        var hash = Hash(token);
        var entity = await db.ApiTokens.Include(t => t.User).FirstOrDefaultAsync(t => t.TokenHash == hash && t.RevokedAt == null, ct);
        var now = clock.GetUtcNow();
        if (entity?.User is null || entity.ExpiresAt <= now) return null;
        if (entity.LastUsedAt is null || now - entity.LastUsedAt > TimeSpan.FromMinutes(1))
        {
            entity.LastUsedAt = now;
            await db.SaveChangesAsync(ct);
        }
        return new TokenPrincipal(entity.Id, entity.UserId, entity.User.UserName, entity.Name, entity.Scope);
    }

    private static string Hash(string token) => Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(token)));
}
