using System.Collections.Concurrent;
using Microsoft.AspNetCore.Identity;
using Microsoft.EntityFrameworkCore;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Core.Users;

public enum SignInOutcome
{
    Succeeded,
    Failed,

    /// <summary>Too many failures for this user name from this address lately: not checked, try again after <see cref="SignInResult.RetryAfter"/>.</summary>
    Throttled,
}

public sealed record SignInResult(SignInOutcome Outcome, int? UserId = null, TimeSpan? RetryAfter = null);

/// <summary>Administrators, their passwords (hashed with ASP.NET Core Identity's PBKDF2 hasher) and sign-in throttling.</summary>
public sealed class UserService(IDbContextFactory<PanelDbContext> dbFactory, AuditLog audit, TimeProvider clock)
{
    /// <summary>Failed sign-ins of one user name from one address that cost nothing; each further one doubles the wait.</summary>
    public const int FreeFailures = 3;

    /// <summary>The longest wait between two attempts of one user name from one address.</summary>
    public static readonly TimeSpan MaxDelay = TimeSpan.FromMinutes(5);

    /// <summary>How many (user name, address) pairs are remembered; an attacker cycling names cannot grow it further.</summary>
    public const int MaxTracked = 10_000;

    /// <summary>User names as they go into the audit log and the panel's log: no control character, at most this long.</summary>
    public const int MaxLoggedNameLength = 64;

    private readonly ConcurrentDictionary<(string UserName, string Address), (int Failures, DateTimeOffset Last)> _failures = new();
    public const int MinPasswordLength = 12;

    private static readonly PasswordHasher<UserEntity> Hasher = new();

    public async Task<bool> AnyUserAsync(CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.AnyAsync(ct);
    }

    /// <summary>Why a password is not acceptable, or null.</summary>
    public static string? CheckPassword(string? password) =>
        string.IsNullOrEmpty(password) || password.Length < MinPasswordLength
            ? $"Use at least {MinPasswordLength} characters."
            : null;

    public static string? CheckUserName(string? userName) =>
        string.IsNullOrWhiteSpace(userName) || userName.Trim().Length > 64 || userName.Any(char.IsWhiteSpace)
            ? "Give a user name of 1 to 64 characters without spaces."
            : null;

    /// <summary>Creates the first administrator. Returns null when a user already exists (setup is one-time).</summary>
    public async Task<int?> CreateFirstAdminAsync(string userName, string password, string actor, CancellationToken ct = default)
    {
        // Two setup forms posted at once must not both see "no user yet" (SQLite's deferred transactions would let them).
        await FirstAdminLock.WaitAsync(ct);
        try
        {
            return await CreateFirstAdminLockedAsync(userName, password, actor, ct);
        }
        finally
        {
            FirstAdminLock.Release();
        }
    }

    private static readonly SemaphoreSlim FirstAdminLock = new(1, 1);

    private async Task<int?> CreateFirstAdminLockedAsync(string userName, string password, string actor, CancellationToken ct)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        await using var tx = await db.Database.BeginTransactionAsync(ct);
        if (await db.Users.AnyAsync(ct)) return null;
        var user = new UserEntity { UserName = userName.Trim(), PasswordHash = "", CreatedAt = clock.GetUtcNow() };
        user.PasswordHash = Hasher.HashPassword(user, password);
        db.Users.Add(user);
        audit.Add(db, actor, "user.created", user.UserName, "first administrator");
        await db.SaveChangesAsync(ct);
        await tx.CommitAsync(ct);
        return user.Id;
    }

    /// <summary>The wait after <paramref name="failures"/> failed sign-ins in a row: none for the first three, then 1 s, 2 s, 4 s … up to 5 minutes.</summary>
    public static TimeSpan DelayAfter(int failures) =>
        failures < FreeFailures ? TimeSpan.Zero
        : failures - FreeFailures >= 9 ? MaxDelay
        : TimeSpan.FromSeconds(Math.Min(MaxDelay.TotalSeconds, 1 << (failures - FreeFailures)));

    /// <summary>A user name as the logs may hold it: control characters out, at most <see cref="MaxLoggedNameLength"/> characters.</summary>
    public static string ForLog(string? userName)
    {
        var clean = new string((userName ?? "").Where(c => !char.IsControl(c)).ToArray()).Trim();
        return clean.Length <= MaxLoggedNameLength ? clean : clean[..MaxLoggedNameLength] + "…";
    }

    /// <summary>
    /// Checks a password. No account is ever locked (an attacker could lock the administrator out): failures of one user
    /// name from one address make that pair wait, longer with each failure, while the right password from any other
    /// address works at once. Unknown names and wrong passwords answer alike, in the same time (a hash is checked
    /// either way), and count alike. Checks run in parallel; ASP.NET Core's rate limiter bounds each address's attempts.
    /// </summary>
    public async Task<SignInResult> SignInAsync(string userName, string password, string? remoteIp, CancellationToken ct = default)
    {
        var name = (userName ?? "").Trim();
        var key = (name.ToLowerInvariant(), remoteIp ?? "unknown");
        var logged = ForLog(name);
        var now = clock.GetUtcNow();
        await using var db = await dbFactory.CreateDbContextAsync(ct);

        if (_failures.TryGetValue(key, out var past) && past.Last + DelayAfter(past.Failures) is var until && until > now)
        {
            audit.Add(db, logged, "signin.throttled", detail: $"{past.Failures} failed sign-ins from this address: the next try is allowed at {until:u}", remoteIp: remoteIp);
            await db.SaveChangesAsync(ct);
            return new(SignInOutcome.Throttled, RetryAfter: until - now);
        }

        var user = await db.Users.FirstOrDefaultAsync(u => u.UserName == name, ct);
        PasswordVerificationResult verdict;
        if (user is null)
        {
            // Same cost for an unknown name as for a real check, so timing does not tell which user names exist.
            Hasher.VerifyHashedPassword(new UserEntity { UserName = "", PasswordHash = "" }, DummyHash, password);
            verdict = PasswordVerificationResult.Failed;
        }
        else verdict = Hasher.VerifyHashedPassword(user, user.PasswordHash, password);
        if (user is null || verdict == PasswordVerificationResult.Failed)
        {
            var failures = _failures.AddOrUpdate(key, _ => (1, now), (_, old) => (old.Failures + 1, now)).Failures;
            Forget(now);
            audit.Add(db, logged, "signin.failed", detail: $"{(user is null ? "unknown user" : "wrong password")}, failure {failures} from this address", remoteIp: remoteIp);
            await db.SaveChangesAsync(ct);
            return new(SignInOutcome.Failed);
        }

        _failures.TryRemove(key, out _);
        if (verdict == PasswordVerificationResult.SuccessRehashNeeded) user.PasswordHash = Hasher.HashPassword(user, password);
        user.FailedSignIns = 0;
        user.LockedUntil = null;
        user.LastSignInAt = now;
        audit.Add(db, user.UserName, "signin", remoteIp: remoteIp);
        await db.SaveChangesAsync(ct);
        return new(SignInOutcome.Succeeded, user.Id);
    }

    /// <summary>Past <see cref="MaxTracked"/> pairs, those whose wait is long over go; if that is not enough, the oldest half.</summary>
    private void Forget(DateTimeOffset now)
    {
        if (_failures.Count <= MaxTracked) return;
        foreach (var (key, value) in _failures)
            if (value.Last + MaxDelay < now) _failures.TryRemove(key, out _);
        if (_failures.Count <= MaxTracked) return;
        foreach (var (key, _) in _failures.OrderBy(p => p.Value.Last).Take(_failures.Count / 2).ToList()) _failures.TryRemove(key, out _);
    }

    public async Task<string?> UserNameAsync(int userId, CancellationToken ct = default)
    {
        await using var db = await dbFactory.CreateDbContextAsync(ct);
        return await db.Users.Where(u => u.Id == userId).Select(u => u.UserName).FirstOrDefaultAsync(ct);
    }

    private static readonly string DummyHash = Hasher.HashPassword(new UserEntity { UserName = "", PasswordHash = "" }, "not-a-password");
}
