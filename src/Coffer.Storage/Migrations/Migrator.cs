using System.Data.Common;
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Dapper;

namespace Coffer.Storage.Migrations;

/// <summary>Applies the engine's embedded migrations a database lacks, each at most once.</summary>
internal static class Migrator
{
    private const string CreateMigrationsTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)";

    private const string SelectAppliedVersions = "SELECT CAST(version AS BIGINT) FROM schema_migrations";

    private const string SelectIsApplied = "SELECT COUNT(*) FROM schema_migrations WHERE version = @Version";

    private const string InsertApplied = "INSERT INTO schema_migrations (version, applied_at) VALUES (@Version, @AppliedAt)";

    /// <summary>
    /// Each script runs in its own write transaction. Several nodes (or processes) starting together
    /// are safe: each transaction holds the migration lock (SQLite's write lock; PostgreSQL's advisory
    /// lock <see cref="WriteLock.Migrations"/>) and re-checks that no one applied the script meanwhile.
    /// </summary>
    /// <exception cref="SchemaVersionException">The database was written by a newer Coffer.</exception>
    public static async Task MigrateAsync(CofferStorage storage, DbConnection connection, CancellationToken ct)
    {
        var migrations = Migration.For(storage.Dialect);
        HashSet<long> applied;
        await using (var transaction = await BeginAsync(storage, connection, ct))
        {
            await connection.ExecuteAsync(new CommandDefinition(CreateMigrationsTable, transaction: transaction, cancellationToken: ct));
            applied = [.. await connection.QueryAsync<long>(new CommandDefinition(SelectAppliedVersions, transaction: transaction, cancellationToken: ct))];
            await transaction.CommitAsync(ct);
        }

        var newest = applied.Count == 0 ? 0 : applied.Max();
        if (newest > Migration.Latest)
        {
            throw new SchemaVersionException((int)newest, Migration.Latest);
        }

        foreach (var migration in migrations)
        {
            if (applied.Contains(migration.Version))
            {
                continue;
            }

            await using var transaction = await BeginAsync(storage, connection, ct);
            var parameters = new { migration.Version, AppliedAt = DbValues.Time(DateTimeOffset.UtcNow) };
            var already = await connection.ExecuteScalarAsync<long>(new CommandDefinition(SelectIsApplied, parameters, transaction, cancellationToken: ct));
            if (already == 0)
            {
                await RunScriptAsync(connection, transaction, migration, ct);
                await connection.ExecuteAsync(new CommandDefinition(InsertApplied, parameters, transaction, cancellationToken: ct));
            }

            await transaction.CommitAsync(ct);
        }
    }

    private static async Task<DbTransaction> BeginAsync(CofferStorage storage, DbConnection connection, CancellationToken ct)
    {
        var transaction = await storage.BeginWriteAsync(connection, ct);
        try
        {
            await storage.Dialect.LockAsync(transaction, WriteLock.Migrations, ct);
            return transaction;
        }
        catch
        {
            await transaction.DisposeAsync();
            throw;
        }
    }

    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities",
        Justification = "The text is a migration script embedded in this assembly, never input.")]
    private static async Task RunScriptAsync(DbConnection connection, DbTransaction transaction, Migration migration, CancellationToken ct)
    {
        await using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = migration.Script;
        try
        {
            await command.ExecuteNonQueryAsync(ct);
        }
        catch (DbException exception)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"Schema migration {migration.Name} failed; nothing of it was applied."), exception);
        }
    }
}
