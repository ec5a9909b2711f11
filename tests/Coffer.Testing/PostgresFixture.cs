using System.Security.Cryptography;
using Coffer.Storage.Postgres;
using Npgsql;

namespace Coffer.Testing;

/// <summary>
/// Fresh, empty PostgreSQL databases for tests, all on one real server per test process
/// (<see cref="LocalPostgres"/> in a temp directory, started at first use and stopped at process
/// exit). Safe to use from parallel test classes: each database has a random name of its own.
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
        AppDomain.CurrentDomain.ProcessExit += (_, _) => Remove(server);
        return server;
    }

    private const string DirectoryPrefix = "coffer-pg-";

    // The test host is often ended before its exit handlers are done: servers of test processes that
    // are gone are removed by the next one, so they never pile up.
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

    // No clean shutdown (its checkpoint takes seconds): the data is thrown away.
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
