using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Design;
using OpenViduHa.Core.Data;

namespace OpenViduHa.Data.Postgres;

/// <summary>How the panel opens its PostgreSQL database: Npgsql, with this assembly's migrations.</summary>
public static class PostgresStorage
{
    public static DbContextOptionsBuilder UsePanelPostgres(this DbContextOptionsBuilder options, string connectionString) =>
        options.UseNpgsql(connectionString, npgsql => npgsql.MigrationsAssembly(typeof(PostgresStorage).Assembly.GetName().Name));
}

/// <summary>Lets `dotnet ef migrations add` build the PostgreSQL model without a server (nothing connects).</summary>
internal sealed class DesignTimeFactory : IDesignTimeDbContextFactory<PanelDbContext>
{
    public PanelDbContext CreateDbContext(string[] args) =>
        new((DbContextOptions<PanelDbContext>)new DbContextOptionsBuilder<PanelDbContext>().UsePanelPostgres("Host=localhost;Database=design").Options);
}
