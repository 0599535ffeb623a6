using Microsoft.Data.Sqlite;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Infrastructure;
using Microsoft.EntityFrameworkCore.Migrations;
using OpenViduHa.Core.Data;
using OpenViduHa.Core.Users;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Core.Tests;

/// <summary>The migrations as an upgrade meets them: from an older database with rows in it, not only from empty.</summary>
public sealed class MigrationTests : IDisposable
{
    private readonly TempDirectory _directory = new("ovha-migrate-");

    public void Dispose()
    {
        SqliteConnection.ClearAllPools();
        _directory.Dispose();
    }

    private PanelDbContext Open() =>
        new(new DbContextOptionsBuilder<PanelDbContext>().UseSqlite($"Data Source={_directory.File("panel.db")};Foreign Keys=True").Options);

    [Fact]
    public void Model_HasNoChangeWithoutAMigration()
    {
        using var db = Open();
        Assert.False(db.Database.HasPendingModelChanges(), "The model changed without a migration: run dotnet ef migrations add.");
    }

    /// <summary>A token made before scopes could do everything: after the upgrade it is admin, so no script breaks; clusters start at revision 0.</summary>
    [Fact]
    public async Task Upgrade_TokensOfBefore_BecomeAdmin_ClustersKeepWorking()
    {
        await using (var db = Open())
        {
            await db.GetService<IMigrator>().MigrateAsync("20261129064037_PortAnswers");
            await db.Database.ExecuteSqlRawAsync(
                "INSERT INTO Users (UserName, PasswordHash, FailedSignIns, CreatedAt) VALUES ('admin', 'x', 0, 0);" +
                "INSERT INTO ApiTokens (Name, TokenHash, Prefix, UserId, CreatedAt) VALUES ('old-script', 'hash', 'ovha_abcdef', 1, 0);");
        }

        await using (var db = Open())
        {
            await db.Database.MigrateAsync();
            var token = await db.ApiTokens.SingleAsync();
            Assert.Equal(TokenScope.Admin, token.Scope);
            Assert.Null(token.ExpiresAt);
            Assert.Empty(await db.Sessions.ToListAsync());
        }
    }
}
