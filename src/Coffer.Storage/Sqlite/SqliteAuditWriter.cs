using System.Data.Common;
using Coffer.Storage.Repositories;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Coffer.Storage.Sqlite;

/// <summary>
/// SQLite's audit writer: batch rows go in through statements prepared once with SQLite's own API,
/// bound straight from the writer's buffers, since each XKS call waits for its batch's commit.
/// </summary>
internal sealed class SqliteAuditWriter : AuditBatchWriter
{
    private readonly sqlite3_stmt _insertBatch;
    private readonly sqlite3_stmt _insertKey;

    private SqliteAuditWriter(CofferStorage storage, SqliteConnection connection)
        : base(storage, connection, prepareInserts: false)
    {
        Check(raw.sqlite3_prepare_v2(connection.Handle, InsertBatch, out _insertBatch), connection);
        Check(raw.sqlite3_prepare_v2(connection.Handle, InsertBatchKey(storage.Dialect), out _insertKey), connection);
    }

    public static new async Task<AuditBatchWriter> OpenAsync(CofferStorage storage, CancellationToken ct)
    {
        var connection = await storage.OpenAuditConnectionAsync(ct);
        try
        {
            return new SqliteAuditWriter(storage, (SqliteConnection)connection);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    protected override Task InsertBatchAsync(
        DbTransaction transaction, long first, long last, string time, byte[] prevHash, ReadOnlyMemory<byte> hashes, ReadOnlyMemory<byte> bodies,
        int outcomes, IReadOnlySet<string> keys, CancellationToken ct)
    {
        // The statements run on the connection's open transaction: SQLite has one per connection.
        Check(raw.sqlite3_bind_int64(_insertBatch, 1, first));
        Check(raw.sqlite3_bind_int64(_insertBatch, 2, last));
        Check(raw.sqlite3_bind_text(_insertBatch, 3, time));
        Check(raw.sqlite3_bind_blob(_insertBatch, 4, prevHash));
        Check(raw.sqlite3_bind_blob(_insertBatch, 5, hashes.Span));
        Check(raw.sqlite3_bind_blob(_insertBatch, 6, bodies.Span));
        Check(raw.sqlite3_bind_int(_insertBatch, 7, outcomes));
        Step(_insertBatch);

        foreach (var keyId in keys)
        {
            Check(raw.sqlite3_bind_text16(_insertKey, 1, keyId.AsSpan()));
            Check(raw.sqlite3_bind_int64(_insertKey, 2, first));
            Step(_insertKey);
        }

        return Task.CompletedTask;
    }

    protected override void Dispose(bool disposing)
    {
        if (disposing)
        {
            _insertBatch.Dispose(); // sqlite3_finalize, before the connection closes
            _insertKey.Dispose();
        }

        base.Dispose(disposing);
    }

    private void Step(sqlite3_stmt statement)
    {
        var rc = raw.sqlite3_step(statement);
        raw.sqlite3_reset(statement);
        Check(rc);
    }

    // Every bind and step is checked: a failed bind must not let a row go in with what the
    // previous batch left in that slot.
    private void Check(int rc) => Check(rc, (SqliteConnection)Connection);

    private static void Check(int rc, SqliteConnection connection)
    {
        if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE))
        {
            SqliteException.ThrowExceptionForRC(rc, connection.Handle);
        }
    }
}
