using Microsoft.AspNetCore.DataProtection;
using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Diagnostics;
using Microsoft.Extensions.Logging.Abstractions;
using OpenViduHa.Core.Audit;
using OpenViduHa.Core.Clusters;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Security;
using OpenViduHa.Tests.Shared;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests.Support;

/// <summary>
/// The panel's real database for one test: a SQLite file with every migration applied (copied from one migrated
/// template per run, so a test pays a file copy, not the migrations), the panel's own connection settings, and Data
/// Protection with an in-memory key ring for the encrypted columns.
/// </summary>
internal sealed class PanelDatabase : IDisposable
{
    private static readonly Lazy<string> Template = new(CreateTemplate);
    private readonly TempDirectory _directory = new("ovha-db-");

    /// <param name="interceptors">More EF Core interceptors for this test's contexts (a hook between a check and its write).</param>
    public PanelDatabase(params IInterceptor[] interceptors)
    {
        var file = _directory.File("panel.db");
        File.Copy(Template.Value, file);
        Factory = new ContextFactory(Options(file, interceptors));
        Clusters = new ClusterService(Factory, Protector, Audit, TimeProvider.System, NullLogger<ClusterService>.Instance);
    }

    public IDbContextFactory<PanelDbContext> Factory { get; }

    public SecretProtector Protector { get; } = new(new EphemeralDataProtectionProvider());

    public AuditLog Audit => new(Factory, TimeProvider.System, NullLogger<AuditLog>.Instance);

    public ClusterService Clusters { get; }

    public PanelDbContext Open() => Factory.CreateDbContext();

    /// <summary>A valid cluster stored through <see cref="ClusterService"/>; every host key pinned unless told otherwise.</summary>
    public async Task<int> CreateClusterAsync(string name = "prod", string version = "3.0.0", int media = 2, bool pinned = true)
    {
        var spec = Specs.Valid(name, version, media);
        if (pinned)
        {
            foreach (var node in spec.Nodes!) node.Ssh!.HostKeyFingerprint = Fingerprint(node.PrivateIp!);
        }
        var result = await Clusters.CreateAsync(spec, "tester");
        Assert.True(result.Succeeded, result.Errors.ToString());
        return result.Id!.Value;
    }

    /// <summary>A well-formed SHA256 fingerprint, different per seed.</summary>
    public static string Fingerprint(string seed) =>
        "SHA256:" + Convert.ToBase64String(System.Security.Cryptography.SHA256.HashData(System.Text.Encoding.UTF8.GetBytes(seed))).TrimEnd('=');

    /// <summary>Points every node's SSH access at its <see cref="LocalNode"/>: 127.0.0.1, its sshd's port, its real host key pinned.</summary>
    public async Task PointAtAsync(int clusterId, IReadOnlyList<LocalNode> nodes)
    {
        await using var db = Open();
        foreach (var row in await db.Nodes.Where(n => n.ClusterId == clusterId).ToListAsync())
        {
            var node = nodes.Single(n => n.Name == row.Name);
            row.SshHost = "127.0.0.1";
            row.SshPort = node.Port;
            row.HostKeyFingerprint = node.HostKeyFingerprint;
        }
        await db.SaveChangesAsync();
    }

    /// <summary>Marks nodes installed (or not), as an install job would.</summary>
    public async Task SetInstalledAsync(int clusterId, Func<NodeEntity, bool> which, bool installed = true)
    {
        await using var db = Open();
        foreach (var node in await db.Nodes.Where(n => n.ClusterId == clusterId).ToListAsync())
        {
            if (which(node)) node.InstalledAt = installed ? DateTimeOffset.UtcNow : null;
        }
        await db.SaveChangesAsync();
    }

    public async Task<List<NodeEntity>> NodesAsync(int clusterId)
    {
        await using var db = Open();
        return await db.Nodes.AsNoTracking().Where(n => n.ClusterId == clusterId).OrderBy(n => n.Ordinal).ToListAsync();
    }

    public void Dispose()
    {
        // Pooled connections keep the file open: close them, as the panel's own pool would at exit.
        SqliteConnection.ClearPool(new SqliteConnection(ConnectionString(_directory.File("panel.db"))));
        _directory.Dispose();
    }

    private static string ConnectionString(string file) => $"Data Source={file};Foreign Keys=True";

    private static DbContextOptions<PanelDbContext> Options(string file, params IInterceptor[] interceptors) =>
        new DbContextOptionsBuilder<PanelDbContext>()
            .UseSqlite(ConnectionString(file))
            .AddInterceptors([new SqlitePragmas(), .. interceptors])
            .Options;

    private static string CreateTemplate()
    {
        var directory = Directory.CreateTempSubdirectory("ovha-db-template-").FullName;
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Directory.Delete(directory, recursive: true);
        var file = Path.Combine(directory, "panel.db");
        using (var db = new PanelDbContext(Options(file))) db.Database.Migrate();
        SqliteConnection.ClearPool(new SqliteConnection(ConnectionString(file)));
        return file;
    }

    private sealed class ContextFactory(DbContextOptions<PanelDbContext> options) : IDbContextFactory<PanelDbContext>
    {
        public PanelDbContext CreateDbContext() => new(options);
    }
}
