using Coffer.Audit;
using Coffer.Storage.Postgres;
using Coffer.Storage.Tests.Audit;
using Coffer.Testing;
using Npgsql;

namespace Coffer.Storage.Tests.Postgres;

/// <summary>
/// PostgreSQL's 0019_audit_batch_key_hashes.sql on a database of the form before it: audit_batch_keys with
/// each key's id. After the migration a listing by key finds exactly the records it found before, in the
/// converted batches (hashed in SQL by the migration) and in batches written since (hashed by the writer).
/// </summary>
public sealed class AuditBatchKeyHashMigrationTests
{
    private const string OldKeysTable = """
        CREATE TABLE audit_batch_keys (
            key_id    TEXT COLLATE "C" NOT NULL,
            first_seq BIGINT NOT NULL,
            CONSTRAINT "audit_batch_keys.key_id, audit_batch_keys.first_seq" PRIMARY KEY (key_id, first_seq)
        )
        """;

    [Fact]
    public async Task Listing_by_key_finds_the_same_records_after_the_key_ids_become_hashes()
    {
        var connectionString = await new PostgresFixture().CreateDatabaseAsync();
        var workload = new AuditWorkload(7);
        using (var storage = await PostgresStorage.OpenAsync(connectionString))
        {
            await workload.AppendAsync(storage.Audit, 2_000);
        }

        await RewriteToFormBeforeAsync(connectionString);

        using var migrated = await PostgresStorage.OpenAsync(connectionString);
        Assert.Equal(["first_seq", "key_hash"], await ColumnsAsync(connectionString));

        // More batches after the migration, their key rows from the writer.
        var head = await migrated.Audit.GetHeadAsync();
        var time = new DateTimeOffset(2026, 12, 8, 9, 0, 0, TimeSpan.Zero);
        for (var i = 0; i < 20; i++)
        {
            var records = workload.Chain(head, 25, time.AddSeconds(i));
            await migrated.Audit.AppendAsync(records, AuditCheckpointMac.Create(new byte[32], records[^1].Sequence, records[^1].Hash, time));
            head = new AuditHead(records[^1].Sequence, records[^1].Hash);
        }

        var all = (await migrated.Audit.ReadChainAsync(1, 10_000)).Records;
        Assert.Equal(head.Sequence, all.Count);
        var keyIds = all.Select(r => r.Event.KeyId).OfType<string>().Distinct(StringComparer.Ordinal).ToList();
        Assert.True(keyIds.Count >= 10, $"{keyIds.Count} keys");
        foreach (var keyId in keyIds)
        {
            var expected = all.Where(r => r.Event.KeyId == keyId).Select(r => r.Sequence).OrderDescending().ToList();
            Assert.Equal(expected, await ListByKeyAsync(migrated.Audit, keyId));
        }

        // Both kinds of rows were asked: keys named before the migration and after it.
        Assert.Contains(keyIds, keyId => all.Any(r => r.Event.KeyId == keyId && r.Sequence <= 2_000) && all.Any(r => r.Event.KeyId == keyId && r.Sequence > 2_000));
    }

    // 0019's starting point: the same batches, audit_batch_keys with one row per key id per batch as
    // 0016_baseline.sql made it, and 0019 not applied.
    private static async Task RewriteToFormBeforeAsync(string connectionString)
    {
        List<AuditRecord> records;
        List<(long First, long Last)> batches = [];
        using (var storage = await PostgresStorage.OpenAsync(connectionString))
        {
            records = [.. (await storage.Audit.ReadChainAsync(1, 10_000)).Records];
        }

        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using (var command = new NpgsqlCommand("SELECT first_seq, last_seq FROM audit_batches ORDER BY first_seq", connection))
        await using (var reader = await command.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                batches.Add((reader.GetInt64(0), reader.GetInt64(1)));
            }
        }

        await using var transaction = await connection.BeginTransactionAsync();
        await ExecuteAsync(connection, "DROP TABLE audit_batch_keys");
        await ExecuteAsync(connection, OldKeysTable);
        await ExecuteAsync(connection, "DELETE FROM schema_migrations WHERE version = 19");
        foreach (var (first, last) in batches)
        {
            var keys = records.Where(r => r.Sequence >= first && r.Sequence <= last).Select(r => r.Event.KeyId).OfType<string>().Distinct(StringComparer.Ordinal);
            foreach (var keyId in keys)
            {
                await using var insert = new NpgsqlCommand("INSERT INTO audit_batch_keys (key_id, first_seq) VALUES (@key, @first)", connection);
                insert.Parameters.AddWithValue("key", keyId);
                insert.Parameters.AddWithValue("first", first);
                await insert.ExecuteNonQueryAsync();
            }
        }

        await transaction.CommitAsync();
    }

    private static async Task<List<long>> ListByKeyAsync(IAuditRepository audit, string keyId)
    {
        var sequences = new List<long>();
        long? before = null;
        do
        {
            var page = await audit.QueryAsync(new AuditQuery { KeyId = keyId, Limit = 100, Before = before });
            sequences.AddRange(page.Records.Select(r => r.Sequence));
            before = page.Next;
        }
        while (before is not null);

        return sequences;
    }

    private static async Task<List<string>> ColumnsAsync(string connectionString)
    {
        await using var connection = new NpgsqlConnection(connectionString);
        await connection.OpenAsync();
        await using var command = new NpgsqlCommand(
            "SELECT column_name FROM information_schema.columns WHERE table_name = 'audit_batch_keys' ORDER BY column_name", connection);
        await using var reader = await command.ExecuteReaderAsync();
        var columns = new List<string>();
        while (await reader.ReadAsync())
        {
            columns.Add(reader.GetString(0));
        }

        return columns;
    }

    private static async Task ExecuteAsync(NpgsqlConnection connection, string sql)
    {
        await using var command = new NpgsqlCommand(sql, connection);
        await command.ExecuteNonQueryAsync();
    }
}
