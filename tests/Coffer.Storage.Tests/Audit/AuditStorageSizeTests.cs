using Coffer.Storage.Postgres;
using Coffer.Storage.Sqlite;
using Coffer.Storage.Tests.Sqlite;
using Coffer.Testing;
using Microsoft.Data.Sqlite;
using Npgsql;

namespace Coffer.Storage.Tests.Audit;

/// <summary>
/// What the database grows by per audited call (docs/audit-storage.md), every audit table and index
/// counted — batches, their keys, checkpoints — for a realistic mix of records at the batch sizes the
/// writer commits under load. A size, not a time: it does not depend on the machine.
/// </summary>
public sealed class AuditStorageSizeTests
{
    private const int Records = 20_000;

    [Fact]
    public async Task On_SQLite_a_record_takes_at_most_200_bytes()
    {
        using var database = new TempDatabase();
        using var storage = await SqliteStorage.OpenAsync(database.FilePath, CancellationToken.None);
        var before = await PagesInUseAsync(database.FilePath);

        var count = await new AuditWorkload(42).AppendAsync(storage.Audit, Records);

        var perRecord = (double)(await PagesInUseAsync(database.FilePath) - before) / count;
        Assert.True(perRecord <= 200, $"{perRecord:F1} bytes per record");
    }

    [Fact]
    public async Task On_PostgreSQL_a_record_takes_at_most_200_bytes()
    {
        // Every row and TOAST chunk has a 24-byte header here, and audit_batch_keys is a heap and a separate
        // index, hence a key row named by a hash of the key id (0019_audit_batch_key_hashes.sql;
        // docs/audit-storage.md).
        var connectionString = await new PostgresFixture().CreateDatabaseAsync();
        using var storage = await PostgresStorage.OpenAsync(connectionString);
        var before = await AuditRelationsAsync(connectionString);

        var count = await new AuditWorkload(42).AppendAsync(storage.Audit, Records);

        var after = await AuditRelationsAsync(connectionString);
        var perRecord = (double)(after.Values.Sum() - before.Values.Sum()) / count;
        var parts = string.Join(", ", after.Select(relation => $"{relation.Key} {(double)(relation.Value - before[relation.Key]) / count:F1}"));
        Assert.True(perRecord <= 200, $"{perRecord:F1} bytes per record ({parts})");
    }

    // The pages in use; page_count counts those committed to the WAL too, so no checkpoint is needed.
    private static async Task<long> PagesInUseAsync(string path)
    {
        await using var connection = new SqliteConnection(new SqliteConnectionStringBuilder { DataSource = path, Pooling = false }.ToString());
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()";
        return (long)(await command.ExecuteScalarAsync())!;
    }

    // The audit tables with their indexes and TOAST, by table.
    private static async Task<Dictionary<string, long>> AuditRelationsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname IN ('audit_batches', 'audit_batch_keys', 'audit_checkpoints')";
        await using var reader = await command.ExecuteReaderAsync();
        var sizes = new Dictionary<string, long>(StringComparer.Ordinal);
        while (await reader.ReadAsync())
        {
            sizes[reader.GetString(0)] = reader.GetInt64(1);
        }

        return sizes;
    }
}
