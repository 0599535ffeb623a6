using System.Data.Common;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace OpenViduHa.Core.Data;

/// <summary>
/// Per connection: <c>synchronous=NORMAL</c>, the setting SQLite recommends with WAL (no fsync per commit; a commit
/// can be lost only on power loss, never corrupted), and a busy timeout so short writer overlaps wait instead of failing.
/// </summary>
public sealed class SqlitePragmas : DbConnectionInterceptor
{
    private const string Pragmas = "PRAGMA synchronous=NORMAL; PRAGMA busy_timeout=5000;";

    public override void ConnectionOpened(DbConnection connection, ConnectionEndEventData eventData)
    {
        using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        command.ExecuteNonQuery();
    }

    public override async Task ConnectionOpenedAsync(DbConnection connection, ConnectionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        await using var command = connection.CreateCommand();
        command.CommandText = Pragmas;
        await command.ExecuteNonQueryAsync(cancellationToken);
    }
}
