using System.Reflection;
using System.Text.Json;
using System.Text.Json.Serialization;
using System.Text.Json.Serialization.Metadata;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Logging;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Jobs;
using OpenViduHa.Core.Nodes;
using OpenViduHa.Core.Security;

namespace OpenViduHa.Core.Backup;

/// <summary>What a backup holds, or what a restore stored.</summary>
public sealed record BackupCounts(int Clusters, int Nodes, int Users, int Tokens, int Jobs, int AuditEntries);

public sealed record BackupMade(byte[] File, string FileName, BackupCounts Counts);

/// <summary>What a restore did beyond storing the backup's rows.</summary>
public sealed record RestoreSummary(BackupCounts Restored, DateTimeOffset BackupCreatedAt, string BackupCreatedBy, int UsersReplaced, int TokensSkipped, int JobsInterrupted);

public sealed record RestoreResult(Outcome Outcome, RestoreSummary? Summary);

/// <summary>
/// Takes the panel's data away and brings it back: every cluster with its nodes, secrets and pinned host keys, the users
/// (password hashes), API tokens (hashes), audit log, job history and status history, as one file encrypted with a
/// passphrase (<see cref="BackupFile"/>). Secrets leave the Data Protection key ring inside the encrypted file only, and
/// are protected again by the restoring panel's own keys. Sign-in sessions and the port matrix's saved answers are not
/// kept: a restored panel signs everyone in again and checks every port on its first sweep.
/// </summary>
public sealed class BackupService(IDbContextFactory<PanelDbContext> dbFactory, SecretProtector protector, AuditLog audit, TimeProvider clock, ILogger<BackupService> logger)
{
    public const string Format = "openvidu-ha-panel-backup";
    public const int PayloadVersion = 1;
    public const int MinPassphraseLength = 12;
    public const int MaxPassphraseLength = 1024;
    public const string FileExtension = ".ovhabak";

    /// <summary>The payload's JSON: the entities as stored, minus their Data Protection ciphertexts and back references.</summary>
    internal static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
        TypeInfoResolver = new DefaultJsonTypeInfoResolver { Modifiers = { LeaveOutStoredCiphertextsAndBackReferences } },
    };

    /// <summary>1 while a restore runs: a second one is refused, not queued behind it.</summary>
    private int _restoring;

    /// <summary>Why a passphrase cannot protect a backup; null when it can.</summary>
    public static string? CheckNewPassphrase(string? passphrase) => passphrase switch
    {
        null or "" => "Give a passphrase: the backup is encrypted with it, and only it opens the file again.",
        { Length: < MinPassphraseLength } => $"Use at least {MinPassphraseLength} characters: the passphrase is all that protects every secret in the file.",
        { Length: > MaxPassphraseLength } => $"Use at most {MaxPassphraseLength} characters.",
        _ => null,
    };

    public async Task<(Outcome Outcome, BackupMade? Made)> CreateAsync(string? passphrase, string actor, string? remoteIp = null, CancellationToken ct = default)
    {
        if (CheckNewPassphrase(passphrase) is { } problem) return (Outcome.Invalid("passphrase", problem), null);
        var now = clock.GetUtcNow();
        Payload payload;
        await using (var db = await dbFactory.CreateDbContextAsync(ct))
        {
            // One read transaction: a consistent picture even while jobs write.
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var clusters = await db.Clusters.AsNoTracking().Include(c => c.Nodes.OrderBy(n => n.Ordinal)).OrderBy(c => c.Id).ToListAsync(ct);
            var jobs = await db.Jobs.AsNoTracking().Include(j => j.Nodes.OrderBy(n => n.Id)).OrderBy(j => j.Id).ToListAsync(ct);
            var log = (await db.JobLog.AsNoTracking().OrderBy(l => l.JobId).ThenBy(l => l.Seq).ToListAsync(ct)).ToLookup(l => l.JobId);
            payload = new Payload(Format, PayloadVersion, now, actor, PanelVersion(),
                clusters.Select(c => new ClusterRecord(c,
                    protector.Unprotect<ClusterSecretsPayload>(c.ProtectedSecrets),
                    c.ProtectedPendingSecrets is { } pending ? protector.Unprotect<ClusterSecretsPayload>(pending) : null,
                    c.Nodes.ToDictionary(n => n.Id, n => protector.Unprotect<SshCredentials>(n.ProtectedCredentials)))).ToList(),
                await db.Users.AsNoTracking().OrderBy(u => u.Id).ToListAsync(ct),
                await db.ApiTokens.AsNoTracking().OrderBy(t => t.Id).ToListAsync(ct),
                await db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).ToListAsync(ct),
                jobs.Select(j => new JobRecord(j, log[j.Id].ToList())).ToList(),
                await db.StatusChanges.AsNoTracking().OrderBy(s => s.Id).ToListAsync(ct));
        }

        var file = BackupFile.Seal(JsonSerializer.SerializeToUtf8Bytes(payload, Json), passphrase!);
        var counts = payload.Counts();
        await audit.WriteAsync(actor, "panel.backup", null, Describe(counts), remoteIp, ct);
        logger.LogInformation("Backup made by {Actor}: {Counts}, {Bytes} bytes", actor, Describe(counts), file.Length);
        return (Outcome.Ok(), new BackupMade(file, $"openvidu-ha-panel-{now.UtcDateTime:yyyyMMdd-HHmmss}Z{FileExtension}", counts));
    }

    /// <summary>
    /// Restores a backup into a panel without clusters, in one transaction: everything or nothing. The backup's users
    /// join the panel's (a user of the same name takes the backup's password), its tokens join unless the panel already
    /// has the same token, and its audit entries go before the panel's own in one chronological log. A job that was
    /// queued or running when the backup was made is marked interrupted (retry takes it up).
    /// </summary>
    public async Task<RestoreResult> RestoreAsync(byte[]? file, string? passphrase, string actor, string? remoteIp = null, CancellationToken ct = default)
    {
        if (file is null || file.Length == 0) return Refusal(Outcome.Invalid("file", "Choose the backup file (.ovhabak) to restore."));
        if (string.IsNullOrEmpty(passphrase)) return Refusal(Outcome.Invalid("passphrase", "Give the passphrase the backup was made with."));

        Payload payload;
        try
        {
            payload = Read(BackupFile.Open(file, passphrase));
        }
        catch (BackupFileException e)
        {
            return Refusal(Outcome.Invalid(e.Problem == BackupFileProblem.WrongPassphrase ? "passphrase" : "file", e.Message + " Nothing was restored."));
        }

        if (Interlocked.Exchange(ref _restoring, 1) == 1) return Refusal(Outcome.Conflict("Another restore is under way. Nothing was restored."));
        try
        {
            await using var db = await dbFactory.CreateDbContextAsync(ct);
            await using var tx = await db.Database.BeginTransactionAsync(ct);
            var existing = await db.Clusters.CountAsync(ct);
            if (existing > 0)
                return Refusal(Outcome.Conflict($"This panel has {existing} cluster{(existing == 1 ? "" : "s")}: a backup is restored only into a panel without clusters " +
                                                "(a fresh data directory, or delete them first). Nothing was restored."));

            var now = clock.GetUtcNow();
            foreach (var record in payload.Clusters) db.Clusters.Add(Protect(record));
            var (usersReplaced, users) = await MergeUsersAsync(db, payload.Users, ct);
            var tokensSkipped = await AddTokensAsync(db, payload.Tokens, users, ct);
            var interrupted = 0;
            var lastLogLine = payload.Jobs.SelectMany(j => j.Log).Select(l => l.Id).DefaultIfEmpty().Max();
            foreach (var record in payload.Jobs)
            {
                db.Jobs.Add(record.Job);
                db.JobLog.AddRange(record.Log);
                if (record.Job.State is JobState.Queued or JobState.Running)
                {
                    interrupted++;
                    Interrupt(db, record, ++lastLogLine, now);
                }
            }
            db.StatusChanges.AddRange(payload.StatusChanges);
            await ReplaceAuditAsync(db, payload.Audit, ct);
            // Rows with their own ids first: an entry numbered by the database among them could take one of theirs.
            await db.SaveChangesAsync(ct);
            await MoveIdSequencesPastAsync(db, ct);
            var counts = payload.Counts();
            audit.Add(db, actor, "panel.restored", null,
                $"{Describe(counts)} from a backup made {payload.CreatedAt:u} by {payload.CreatedBy}; {usersReplaced} users took the backup's password, {tokensSkipped} tokens were already here",
                remoteIp);
            await db.SaveChangesAsync(ct);
            await tx.CommitAsync(ct);
            logger.LogWarning("Backup restored by {Actor}: {Counts} (made {CreatedAt:u} by {CreatedBy})", actor, Describe(counts), payload.CreatedAt, payload.CreatedBy);
            return new RestoreResult(Outcome.Ok(), new RestoreSummary(counts, payload.CreatedAt, payload.CreatedBy, usersReplaced, tokensSkipped, interrupted));
        }
        catch (DbUpdateException e)
        {
            // Said without the values: a constraint's name and the table are all SQLite puts in its message.
            logger.LogWarning("Restore refused, nothing stored: {Reason}", e.InnerException?.Message ?? e.Message);
            return Refusal(Outcome.Refused($"The backup's data could not be stored ({e.InnerException?.Message ?? e.Message}). Nothing was restored."));
        }
        finally
        {
            Volatile.Write(ref _restoring, 0);
        }
    }

    private static RestoreResult Refusal(Outcome outcome) => new(outcome, null);

    private static Payload Read(byte[] json)
    {
        Payload? payload;
        try
        {
            payload = JsonSerializer.Deserialize<Payload>(json, Json);
        }
        catch (JsonException e)
        {
            throw new BackupFileException(BackupFileProblem.NotABackup, $"The backup opened but its content could not be read ({e.Path}).");
        }
        if (payload is null || payload.Format != Format)
            throw new BackupFileException(BackupFileProblem.NotABackup, "The backup opened but it is not a panel backup's content.");
        if (payload.Version > PayloadVersion)
            throw new BackupFileException(BackupFileProblem.UnsupportedVersion,
                $"This backup's content has version {payload.Version}, made by a newer panel; this panel reads version {PayloadVersion}.");
        foreach (var record in payload.Clusters)
        {
            if (record.Cluster is null || record.Secrets?.LicenseKey is null || record.Secrets.Secrets is null)
                throw new BackupFileException(BackupFileProblem.NotABackup, "The backup holds a cluster without its secrets.");
            if (record.Cluster.Nodes.FirstOrDefault(n => !record.NodeCredentials.ContainsKey(n.Id)) is { } bare)
                throw new BackupFileException(BackupFileProblem.NotABackup, $"The backup holds node {bare.Name} of {record.Cluster.Name} without its SSH credentials.");
        }
        return payload;
    }

    private ClusterEntity Protect(ClusterRecord record)
    {
        var cluster = record.Cluster;
        cluster.ProtectedSecrets = protector.Protect(record.Secrets);
        cluster.ProtectedPendingSecrets = record.PendingSecrets is null ? null : protector.Protect(record.PendingSecrets);
        foreach (var node in cluster.Nodes) node.ProtectedCredentials = protector.Protect(record.NodeCredentials[node.Id]);
        return cluster;
    }

    /// <summary>The backup's users by their id in the backup: new ones added, ones this panel has by name take the backup's password.</summary>
    private static async Task<(int Replaced, Dictionary<int, UserEntity> ByBackupId)> MergeUsersAsync(PanelDbContext db, IReadOnlyList<UserEntity> users, CancellationToken ct)
    {
        var here = await db.Users.ToDictionaryAsync(u => u.UserName, StringComparer.Ordinal, ct);
        var byBackupId = new Dictionary<int, UserEntity>();
        var replaced = 0;
        foreach (var user in users)
        {
            var backupId = user.Id;
            if (here.TryGetValue(user.UserName, out var same))
            {
                same.PasswordHash = user.PasswordHash;
                same.FailedSignIns = 0;
                same.LockedUntil = null;
                replaced++;
                byBackupId[backupId] = same;
                continue;
            }
            user.Id = 0;
            user.FailedSignIns = 0;
            user.LockedUntil = null;
            db.Users.Add(user);
            byBackupId[backupId] = user;
        }
        return (replaced, byBackupId);
    }

    private static async Task<int> AddTokensAsync(PanelDbContext db, IReadOnlyList<ApiTokenEntity> tokens, Dictionary<int, UserEntity> users, CancellationToken ct)
    {
        var here = (await db.ApiTokens.Select(t => t.TokenHash).ToListAsync(ct)).ToHashSet(StringComparer.Ordinal);
        var skipped = 0;
        foreach (var token in tokens)
        {
            if (!here.Add(token.TokenHash))
            {
                skipped++;
                continue;
            }
            if (!users.TryGetValue(token.UserId, out var owner))
                throw new DbUpdateException($"token {token.Prefix}… belongs to a user the backup does not hold");
            token.Id = 0;
            token.UserId = 0;
            token.User = owner;
            db.ApiTokens.Add(token);
        }
        return skipped;
    }

    private static void Interrupt(PanelDbContext db, JobRecord record, long logLineId, DateTimeOffset now)
    {
        var job = record.Job;
        var was = job.State;
        job.State = JobState.Interrupted;
        job.FinishedAt = now;
        job.Message = $"The backup was made while this job was {(was == JobState.Queued ? "queued" : "running")}. Node states are as they were then; retry runs the nodes that did not finish.";
        JobService.InterruptNodes(job, now);
        db.JobLog.Add(new JobLogLine
        {
            Id = logLineId, JobId = job.Id, Seq = record.Log.Select(l => l.Seq).DefaultIfEmpty().Max() + 1, At = now,
            Text = "Interrupted: restored from a backup made while this job ran.",
        });
    }

    /// <summary>
    /// PostgreSQL numbers rows from a sequence per table that rows stored with their own ids do not move: after them, the
    /// next number the database hands out must come after the largest id (SQLite finds it by itself).
    /// </summary>
    private static async Task MoveIdSequencesPastAsync(PanelDbContext db, CancellationToken ct)
    {
        if (db.Database.ProviderName?.Contains("Npgsql", StringComparison.Ordinal) != true) return;
        foreach (var type in new[] { typeof(ClusterEntity), typeof(NodeEntity), typeof(JobEntity), typeof(JobNodeEntity), typeof(JobLogLine), typeof(StatusChangeEntity), typeof(AuditEntry) })
        {
            var table = db.Model.FindEntityType(type)!.GetTableName()!;
            // Table names come from the model, never from the backup.
#pragma warning disable EF1002
            await db.Database.ExecuteSqlRawAsync(
                $"SELECT setval(pg_get_serial_sequence('\"{table}\"', 'Id'), GREATEST((SELECT MAX(\"Id\") FROM \"{table}\"), 1))", ct);
#pragma warning restore EF1002
        }
    }

    /// <summary>One log in time order: the backup's entries keep their numbers, the panel's own (its setup, this sign-in) follow them.</summary>
    private static async Task ReplaceAuditAsync(PanelDbContext db, IReadOnlyList<AuditEntry> entries, CancellationToken ct)
    {
        var own = await db.AuditEntries.AsNoTracking().OrderBy(a => a.Id).ToListAsync(ct);
        await db.AuditEntries.ExecuteDeleteAsync(ct);
        var next = entries.Select(e => e.Id).DefaultIfEmpty().Max();
        db.AuditEntries.AddRange(entries);
        foreach (var entry in own)
        {
            entry.Id = ++next;
            db.AuditEntries.Add(entry);
        }
    }

    private static string Describe(BackupCounts c) =>
        $"{c.Clusters} clusters, {c.Nodes} nodes, {c.Users} users, {c.Tokens} tokens, {c.Jobs} jobs, {c.AuditEntries} audit entries";

    private static string PanelVersion() =>
        typeof(BackupService).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "unknown";

    /// <summary>
    /// Entities go into the payload as stored, so a column added later is kept without touching this class; what they
    /// hold encrypted under this panel's keys (<c>protected…</c>) is left out and carried decrypted beside them, and
    /// back references (a node's cluster, a token's user) are left out so each row is written once.
    /// </summary>
    private static void LeaveOutStoredCiphertextsAndBackReferences(JsonTypeInfo info)
    {
        if (info.Kind != JsonTypeInfoKind.Object || info.Type.Namespace != typeof(ClusterEntity).Namespace) return;
        for (var i = info.Properties.Count - 1; i >= 0; i--)
        {
            var property = info.Properties[i];
            if (property.Name.StartsWith("protected", StringComparison.Ordinal) || property.PropertyType == typeof(ClusterEntity) || property.PropertyType == typeof(UserEntity))
                info.Properties.RemoveAt(i);
        }
    }

    private sealed record ClusterRecord(ClusterEntity Cluster, ClusterSecretsPayload Secrets, ClusterSecretsPayload? PendingSecrets, Dictionary<int, SshCredentials> NodeCredentials);

    private sealed record JobRecord(JobEntity Job, List<JobLogLine> Log);

    private sealed record Payload(
        string Format,
        int Version,
        DateTimeOffset CreatedAt,
        string CreatedBy,
        string PanelVersion,
        List<ClusterRecord> Clusters,
        List<UserEntity> Users,
        List<ApiTokenEntity> Tokens,
        List<AuditEntry> Audit,
        List<JobRecord> Jobs,
        List<StatusChangeEntity> StatusChanges)
    {
        public BackupCounts Counts() => new(Clusters.Count, Clusters.Sum(c => c.Cluster.Nodes.Count), Users.Count, Tokens.Count, Jobs.Count, Audit.Count);
    }
}
