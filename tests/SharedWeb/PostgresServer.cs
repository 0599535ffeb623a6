using System.Net;
using System.Net.Sockets;
using Npgsql;
using OpenViduHa.Tests.Support;

namespace OpenViduHa.Tests.Shared;

/// <summary>
/// A real PostgreSQL server of the tests' own: Debian's <c>postgresql</c> binaries, a new cluster made with
/// <c>initdb</c> in a temporary directory and started with <c>pg_ctl</c> on a free loopback port, run by a dedicated
/// OS user (PostgreSQL refuses to run as root), password authentication (scram-sha-256) over TCP only. Each test takes
/// a database of its own (<see cref="CreateDatabaseAsync"/>). Stopped and removed when disposed.
/// </summary>
public sealed class PostgresServer : IAsyncDisposable
{
    public const string OsUser = "ovha-pg";
    private const string Superuser = "postgres";

    private readonly string _bin;
    private readonly string _root;
    private readonly string _password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16));

    private PostgresServer(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
    }

    public int Port { get; }

    private string DataDirectory => Path.Combine(_root, "data");

    /// <summary>The superuser's connection string to a database of this server.</summary>
    public string ConnectionString(string database) =>
        new NpgsqlConnectionStringBuilder { Host = "127.0.0.1", Port = Port, Username = Superuser, Password = _password, Database = database, Pooling = true }.ToString();

    public static async Task<PostgresServer> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb"))).Order().LastOrDefault()
            : null;
        if (bin is null) throw new InvalidOperationException("PostgreSQL's server programs are missing (/usr/lib/postgresql/*/bin/initdb): apt-get install postgresql (test.sh does).");
        await EnsureOsUserAsync();

        var root = Directory.CreateTempSubdirectory("ovha-pg-").FullName;
        var server = new PostgresServer(bin, root, FreePort());
        await Run("chown", OsUser, root);
        var passwordFile = Path.Combine(root, "pw");
        await File.WriteAllTextAsync(passwordFile, server._password);
        await Run("chown", OsUser, passwordFile);
        await server.AsOsUser("initdb", "-D", server.DataDirectory, "-U", Superuser, "--pwfile", passwordFile, "--auth-host=scram-sha-256", "--auth-local=reject",
            "--encoding=UTF8", "--locale=C.UTF-8", "--no-sync");
        File.Delete(passwordFile);
        // Loopback TCP only (no Unix socket), fsync off: a test server's data is thrown away.
        await server.AsOsUser("pg_ctl", "-D", server.DataDirectory, "-l", Path.Combine(root, "server.log"), "-w", "-t", "60", "start",
            "-o", $"-p {server.Port} -c listen_addresses=127.0.0.1 -c unix_socket_directories='' -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300");
        return server;
    }

    /// <summary>A new empty database; its connection string.</summary>
    public async Task<string> CreateDatabaseAsync(string prefix = "panel")
    {
        var name = $"{prefix}_{Guid.NewGuid():N}"[..Math.Min(prefix.Length + 13, 63)];
        await using var connection = new NpgsqlConnection(ConnectionString("postgres"));
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
        await command.ExecuteNonQueryAsync();
        return ConnectionString(name);
    }

    /// <summary>Runs a query as the superuser on a database given by its connection string; the first column of the first row.</summary>
    public static async Task<object?> ScalarAsync(string connectionString, string sql)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(sql, connection);
        return await command.ExecuteScalarAsync();
    }

    public async ValueTask DisposeAsync()
    {
        NpgsqlConnection.ClearAllPools();
        try
        {
            await AsOsUser("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");
        }
        finally
        {
            Directory.Delete(_root, recursive: true);
        }
    }

    private Task AsOsUser(string program, params string[] arguments) => Run("runuser", ["-u", OsUser, "--", Path.Combine(_bin, program), .. arguments]);

    private static async Task EnsureOsUserAsync()
    {
        if ((await ProcessRunner.RunAsync("id", ["-u", OsUser])).ExitCode == 0) return;
        var added = await ProcessRunner.RunAsync("useradd", ["--system", "--no-create-home", "--shell", "/usr/sbin/nologin", OsUser]);
        // Two test assemblies may race to make it: fine if it now exists.
        if (added.ExitCode != 0 && (await ProcessRunner.RunAsync("id", ["-u", OsUser])).ExitCode != 0)
            throw new InvalidOperationException($"Could not create the OS user {OsUser} that runs the test PostgreSQL (the tests run as root): {added}");
    }

    private static async Task Run(string program, params string[] arguments)
    {
        var result = await ProcessRunner.RunAsync(program, arguments, timeout: TimeSpan.FromSeconds(120));
        if (result.ExitCode != 0) throw new InvalidOperationException($"{program} {string.Join(' ', arguments)} failed: {result}");
    }

    private static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
