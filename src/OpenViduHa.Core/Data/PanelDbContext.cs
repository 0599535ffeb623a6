using Microsoft.AspNetCore.DataProtection.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using OpenViduHa.Core.Users;

namespace OpenViduHa.Core.Data;

/// <summary>
/// The panel's database: SQLite by default (migrations in this assembly), PostgreSQL for more than one instance
/// (migrations in OpenViduHa.Data.Postgres). One model for both; only how SQLite stores times differs.
/// </summary>
public sealed class PanelDbContext(DbContextOptions<PanelDbContext> options) : DbContext(options), IDataProtectionKeyContext
{
    public DbSet<ClusterEntity> Clusters => Set<ClusterEntity>();
    public DbSet<NodeEntity> Nodes => Set<NodeEntity>();
    public DbSet<UserEntity> Users => Set<UserEntity>();
    public DbSet<ApiTokenEntity> ApiTokens => Set<ApiTokenEntity>();
    public DbSet<SessionEntity> Sessions => Set<SessionEntity>();
    public DbSet<AuditEntry> AuditEntries => Set<AuditEntry>();
    public DbSet<JobEntity> Jobs => Set<JobEntity>();
    public DbSet<JobNodeEntity> JobNodes => Set<JobNodeEntity>();
    public DbSet<JobLogLine> JobLog => Set<JobLogLine>();
    public DbSet<StatusChangeEntity> StatusChanges => Set<StatusChangeEntity>();
    public DbSet<PortAnswersEntity> PortAnswers => Set<PortAnswersEntity>();

    public DbSet<PanelInstanceEntity> PanelInstances => Set<PanelInstanceEntity>();
    public DbSet<SweepLeaseEntity> SweepLeases => Set<SweepLeaseEntity>();
    public DbSet<StatusSnapshotEntity> StatusSnapshots => Set<StatusSnapshotEntity>();

    /// <summary>The Data Protection key ring when it is kept in the database (PostgreSQL: shared by every instance).</summary>
    public DbSet<DataProtectionKey> DataProtectionKeys => Set<DataProtectionKey>();

    protected override void ConfigureConventions(ModelConfigurationBuilder configurationBuilder)
    {
        // SQLite cannot order or compare DateTimeOffset; store UTC ticks. PostgreSQL keeps them as timestamptz.
        if (!Database.IsSqlite()) return;
        configurationBuilder.Properties<DateTimeOffset>().HaveConversion<DateTimeOffsetToBinaryConverter>();
        configurationBuilder.Properties<DateTimeOffset?>().HaveConversion<DateTimeOffsetToBinaryConverter>();
    }

    protected override void OnModelCreating(ModelBuilder modelBuilder)
    {
        modelBuilder.Entity<ClusterEntity>(e =>
        {
            e.ToTable("Clusters");
            e.Property(c => c.Revision).IsConcurrencyToken();
            e.HasIndex(c => c.Name).IsUnique();
            e.Property(c => c.RtcEngine).HasConversion<string>();
            e.HasMany(c => c.Nodes).WithOne(n => n.Cluster).HasForeignKey(n => n.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<NodeEntity>(e =>
        {
            e.ToTable("Nodes");
            e.Property(n => n.Role).HasConversion<string>();
            e.HasIndex(n => new { n.ClusterId, n.Ordinal });
        });
        modelBuilder.Entity<UserEntity>(e =>
        {
            e.ToTable("Users");
            e.HasIndex(u => u.UserName).IsUnique();
        });
        modelBuilder.Entity<ApiTokenEntity>(e =>
        {
            e.ToTable("ApiTokens");
            e.HasIndex(t => t.TokenHash).IsUnique();
            e.Property(t => t.Scope).HasConversion<string>().HasMaxLength(16);
            e.HasOne(t => t.User).WithMany().HasForeignKey(t => t.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<SessionEntity>(e =>
        {
            e.ToTable("Sessions");
            e.Property(x => x.Id).HasMaxLength(32);
            e.Property(x => x.EndReason).HasMaxLength(64);
            e.Property(x => x.RemoteIp).HasMaxLength(64);
            e.Property(x => x.UserAgent).HasMaxLength(SessionService.MaxUserAgentLength);
            e.HasIndex(x => x.LastSeenAt);
            e.HasOne(x => x.User).WithMany().HasForeignKey(x => x.UserId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobEntity>(e =>
        {
            e.ToTable("Jobs");
            e.Property(j => j.Kind).HasConversion<string>();
            e.Property(j => j.State).HasConversion<string>();
            e.Property(j => j.RunningOn).HasMaxLength(16);
            e.HasIndex(j => new { j.ClusterId, j.State });
            e.HasOne<ClusterEntity>().WithMany().HasForeignKey(j => j.ClusterId).OnDelete(DeleteBehavior.Cascade);
            e.HasMany(j => j.Nodes).WithOne().HasForeignKey(n => n.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<JobNodeEntity>(e =>
        {
            e.ToTable("JobNodes");
            e.Property(n => n.State).HasConversion<string>();
        });
        modelBuilder.Entity<JobLogLine>(e =>
        {
            e.ToTable("JobLog");
            e.HasIndex(l => new { l.JobId, l.Seq }).IsUnique();
            e.HasOne<JobEntity>().WithMany().HasForeignKey(l => l.JobId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<StatusChangeEntity>(e =>
        {
            e.ToTable("StatusChanges");
            e.HasIndex(c => new { c.ClusterId, c.NodeId, c.Id });
            e.HasOne<ClusterEntity>().WithMany().HasForeignKey(c => c.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<PortAnswersEntity>(e =>
        {
            e.ToTable("PortAnswers");
            e.HasKey(a => a.ClusterId);
            e.HasOne<ClusterEntity>().WithOne().HasForeignKey<PortAnswersEntity>(a => a.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<DataProtectionKey>(e => e.ToTable("DataProtectionKeys"));
        modelBuilder.Entity<PanelInstanceEntity>(e =>
        {
            e.ToTable("PanelInstances");
            e.Property(i => i.Id).HasMaxLength(16);
            e.Property(i => i.Host).HasMaxLength(256);
        });
        modelBuilder.Entity<SweepLeaseEntity>(e =>
        {
            e.ToTable("SweepLeases");
            e.HasKey(l => l.ClusterId);
            e.Property(l => l.Owner).HasMaxLength(16);
            e.HasOne<ClusterEntity>().WithOne().HasForeignKey<SweepLeaseEntity>(l => l.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<StatusSnapshotEntity>(e =>
        {
            e.ToTable("StatusSnapshots");
            e.HasKey(l => l.ClusterId);
            e.Property(l => l.Owner).HasMaxLength(16);
            e.HasOne<ClusterEntity>().WithOne().HasForeignKey<StatusSnapshotEntity>(l => l.ClusterId).OnDelete(DeleteBehavior.Cascade);
        });
        modelBuilder.Entity<AuditEntry>(e =>
        {
            e.ToTable("AuditLog");
            e.HasIndex(a => a.At);
        });
    }
}
