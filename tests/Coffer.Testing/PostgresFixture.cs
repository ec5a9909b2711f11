using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Coffer.Storage.Postgres;
using Npgsql;

namespace Coffer.Testing;

/// <summary>
/// Fresh, empty PostgreSQL databases for tests, all on one real server per test process
/// (<see cref="LocalPostgres"/> in a temp directory, started at first use and removed when the
/// test process has ended). Safe to use from parallel test classes: each database has a random name of its own.
/// </summary>
public sealed class PostgresFixture
{
    private static readonly Lazy<Task<LocalPostgres>> Shared = new(StartSharedAsync);

    /// <summary>The process's server (started on first use). Every test shares it: a test that stops
    /// or kills a server makes a <see cref="LocalPostgres"/> of its own.</summary>
    public static Task<LocalPostgres> ServerAsync() => Shared.Value;

    /// <summary>Creates an empty database (from template0) and returns its Npgsql connection string.</summary>
    public async Task<string> CreateDatabaseAsync()
    {
        var server = await ServerAsync();
        var name = "coffer_test_" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(8));
        await using (var connection = new NpgsqlConnection(server.ConnectionString))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8'", connection);
            await create.ExecuteNonQueryAsync();
        }

        return server.ConnectionStringFor(name);
    }

    private static async Task<LocalPostgres> StartSharedAsync()
    {
        RemoveLeftovers();
        // A new directory (not made in advance: LocalPostgres creates it owner-only) straight under the
        // temp directory, whose mode lets the postgres user reach it when the tests run as root.
        var directory = Path.Combine(Path.GetTempPath(), $"{DirectoryPrefix}{Environment.ProcessId}-{Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4))}");
        var server = new LocalPostgres(directory);
        await server.StartAsync();
        StartWatchdog(directory);
        await SkipDiskFlushesAsync(server);
        return server;
    }

    // The shared server's data is thrown away with the test process, and no test stops or kills it, so
    // waiting for the disk buys nothing. It cost failures: on a machine with a slow disk flush and many
    // test classes writing at once, a commit's WAL flush took longer than the audit writer's one-second
    // bound (PostgresDialect.AuditTimeoutSeconds) and a batch failed as a real node's would. Tests that
    // bound real waits are about Coffer's waits, not this disk's. Servers a test starts for itself keep
    // PostgreSQL's defaults.
    private static async Task SkipDiskFlushesAsync(LocalPostgres server)
    {
        await using var connection = new NpgsqlConnection(server.ConnectionString);
        await connection.OpenAsync();
        foreach (var sql in (string[])["ALTER SYSTEM SET fsync = off", "ALTER SYSTEM SET synchronous_commit = off", "SELECT pg_reload_conf()"])
        {
            await using var command = new NpgsqlCommand(sql, connection);
            await command.ExecuteNonQueryAsync();
        }
    }

    private const string DirectoryPrefix = "coffer-pg-";

    // The test runner ends the test host before its exit handlers are done (seen: servers left
    // running), so a watchdog in a session of its own (it must outlive the host and not hold its
    // output open) kills the server and removes its directory within a second of the host's end.
    // No clean shutdown: the data is thrown away.
    private static void StartWatchdog(string directory)
    {
        // pg_ctl makes the postmaster a process group leader: killing the group kills its children too,
        // so nothing writes into the directory while it is removed. (dash, /bin/sh on Debian, takes no "--".)
        const string script = """
            exec </dev/null >/dev/null 2>&1
            while kill -0 "$1"; do sleep 1; done
            kill -KILL "-$(head -n 1 "$2/postmaster.pid")"
            for attempt in 1 2 3 4 5; do rm -rf "$2" && break; sleep 1; done
            """;
        using var watchdog = Process.Start("setsid", ["/bin/sh", "-c", script, "coffer-pg-watchdog", Environment.ProcessId.ToString(CultureInfo.InvariantCulture), directory]);
    }

    // A backstop for a watchdog that was killed too: servers of test processes that are gone are
    // removed by the next one, so they never pile up.
    private static void RemoveLeftovers()
    {
        foreach (var directory in Directory.GetDirectories(Path.GetTempPath(), DirectoryPrefix + "*"))
        {
            var owner = Path.GetFileName(directory)[DirectoryPrefix.Length..].Split('-')[0];
            if (int.TryParse(owner, out var pid) && !Directory.Exists($"/proc/{pid}"))
            {
                Remove(new LocalPostgres(directory));
            }
        }
    }

    private static void Remove(LocalPostgres server)
    {
        try
        {
            server.Kill();
            Directory.Delete(server.DataDirectory, recursive: true);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or UnauthorizedAccessException)
        {
            // Best effort: a leftover temp directory must not fail the run.
        }
    }
}
