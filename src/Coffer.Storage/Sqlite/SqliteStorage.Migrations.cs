using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using Coffer.Storage.Migrations;
using Dapper;
using Microsoft.Data.Sqlite;

namespace Coffer.Storage.Sqlite;

public sealed partial class SqliteStorage
{
    private const string CreateMigrationsTable =
        "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER NOT NULL PRIMARY KEY, applied_at TEXT NOT NULL)";

    private const string SelectAppliedVersions = "SELECT version FROM schema_migrations";

    private const string SelectIsApplied = "SELECT COUNT(*) FROM schema_migrations WHERE version = @Version";

    private const string InsertApplied = "INSERT INTO schema_migrations (version, applied_at) VALUES (@Version, @AppliedAt)";

    /// <summary>
    /// Applies every embedded migration the database lacks, each in its own write transaction and
    /// at most once. Two processes starting together are safe: each script re-checks, under the
    /// write lock, that no one applied it meanwhile.
    /// </summary>
    private static async Task MigrateAsync(SqliteConnection connection, CancellationToken cancellationToken)
    {
        HashSet<long> applied;
        await using (var transaction = BeginWrite(connection))
        {
            await connection.ExecuteAsync(new CommandDefinition(CreateMigrationsTable, transaction: transaction, cancellationToken: cancellationToken));
            applied = [.. await connection.QueryAsync<long>(new CommandDefinition(SelectAppliedVersions, transaction: transaction, cancellationToken: cancellationToken))];
            await transaction.CommitAsync(cancellationToken);
        }

        var newest = applied.Count == 0 ? 0 : applied.Max();
        if (newest > Migration.Latest)
        {
            throw new SchemaVersionException((int)newest, Migration.Latest);
        }

        foreach (var migration in Migration.All)
        {
            if (applied.Contains(migration.Version))
            {
                continue;
            }

            await using var transaction = BeginWrite(connection);
            var parameters = new { migration.Version, AppliedAt = DbValues.Time(DateTimeOffset.UtcNow) };
            var already = await connection.ExecuteScalarAsync<long>(new CommandDefinition(SelectIsApplied, parameters, transaction, cancellationToken: cancellationToken));
            if (already == 0)
            {
                await RunScriptAsync(connection, transaction, migration, cancellationToken);
                await connection.ExecuteAsync(new CommandDefinition(InsertApplied, parameters, transaction, cancellationToken: cancellationToken));
            }

            await transaction.CommitAsync(cancellationToken);
        }
    }

    [SuppressMessage("Security", "CA2100:Review SQL queries for security vulnerabilities",
        Justification = "The text is a migration script embedded in this assembly, never input.")]
    private static async Task RunScriptAsync(SqliteConnection connection, SqliteTransaction transaction, Migration migration, CancellationToken cancellationToken)
    {
        using var command = connection.CreateCommand();
        command.Transaction = transaction;
        command.CommandText = migration.Script;
        try
        {
            await command.ExecuteNonQueryAsync(cancellationToken);
        }
        catch (SqliteException exception)
        {
            throw new InvalidOperationException(
                string.Create(CultureInfo.InvariantCulture, $"Schema migration {migration.Name} failed; nothing of it was applied."), exception);
        }
    }
}
