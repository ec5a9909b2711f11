using System.Data.Common;
using System.Buffers;
using Coffer.Audit;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed partial class AuditRepository(CofferStorage storage) : IAuditRepository, IDisposable
{
    private const int MaxPageSize = 1000;

    // Batch names fetched at once by QueryAsync.
    private const int BatchIdPage = 256;

    // One writer connection, kept open between batches (AuditBatchWriter), used by one append at a time.
    private readonly SemaphoreSlim _writeGate = new(1, 1);
    private AuditBatchWriter? _writer;

    private CofferStorage Storage => storage;

    // A batch row (audit_batches, 0016_audit_batches.sql): read by ReadBatch.
    private const string SelectBatches = "SELECT first_seq, time, prev_hash, hashes, records FROM audit_batches";

    private const string SelectBatchAt = SelectBatches + " WHERE first_seq = @First";

    private const string SelectLastCheckpoint = "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints";

    // A batch's last hash is the last 32 bytes of its hashes.
    internal static string SelectHead(SqlDialect dialect) =>
        $"SELECT last_seq, {dialect.LastHashOfBatch} FROM audit_batches ORDER BY first_seq DESC LIMIT 1";

    // The head and the last checkpoint in one statement (one round trip for the audit writer); one row
    // even when there is no batch yet.
    internal static string SelectChainEnd(SqlDialect dialect) =>
        $"SELECT h.last_seq, h.last_hash, ({SelectLastCheckpoint}) FROM (SELECT 1 AS one) o" +
        $" LEFT JOIN (SELECT last_seq, {dialect.LastHashOfBatch} AS last_hash FROM audit_batches ORDER BY first_seq DESC LIMIT 1) h ON TRUE";

    // From the batch that holds record @From (or the first after it) on, oldest first.
    private const string SelectChainBatches = SelectBatches +
        " WHERE first_seq >= COALESCE((SELECT MAX(first_seq) FROM audit_batches WHERE first_seq <= @From), @From) ORDER BY first_seq";

    private const string SelectCheckpoints =
        "SELECT seq AS Seq, time AS Time, hash AS Hash, mac AS Mac FROM audit_checkpoints" +
        " WHERE seq >= @From AND (@To IS NULL OR seq <= @To) ORDER BY seq";


    public async Task AppendAsync(Func<AuditChainEnd, AuditChainedBatch> chain, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(chain);
        await _writeGate.WaitAsync(ct);
        try
        {
            _writer ??= await storage.Dialect.OpenAuditWriterAsync(storage, ct);
            await _writer.AppendAsync(chain, ct);
        }
        catch
        {
            // Whatever failed (a held lock, a full disk), the transaction rolled back; start the
            // next batch on a fresh connection rather than trust this one's state.
            _writer?.Dispose();
            _writer = null;
            throw;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public void Dispose()
    {
        _writeGate.Wait();
        try
        {
            _writer?.Dispose();
            _writer = null;
        }
        finally
        {
            _writeGate.Release();
        }
    }

    public async Task<long> GetLastCheckpointAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteScalarAsync<long>(new CommandDefinition(SelectLastCheckpoint, cancellationToken: ct));
    }

    public async Task<AuditHead> GetHeadAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var command = connection.CreateCommand();
        command.CommandText = SelectHead(storage.Dialect);
        return await ReadHeadAsync(command, ct);
    }

    public async Task<AuditChainPage> ReadChainAsync(long fromSequence, int limit, CancellationToken ct = default)
    {
        var take = Math.Max(1, limit);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var records = new List<AuditRecord>(Math.Min(take, MaxPageSize));
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = SelectChainBatches;
            CommandParameters.Add(command, "@From", fromSequence);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (records.Count < take && await reader.ReadAsync(ct))
            {
                foreach (var record in ReadBatch(reader))
                {
                    if (record.Sequence >= fromSequence && records.Count < take)
                    {
                        records.Add(record);
                    }
                }
            }
        }

        var isLast = records.Count < take;
        var checkpoints = await connection.QueryAsync<CheckpointRow>(new CommandDefinition(SelectCheckpoints,
            new { From = fromSequence, To = isLast ? (long?)null : records[^1].Sequence }, transaction, cancellationToken: ct));
        return new AuditChainPage(
            records,
            [.. checkpoints.Select(row => new AuditCheckpoint(row.Seq, row.Hash, ParseTimeOrMin(row.Time), row.Mac))],
            isLast);
    }

    public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(query);
        var limit = Math.Clamp(query.Limit, 1, MaxPageSize);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginReadAsync(connection, ct);

        // The filter names batches; each is read whole only when the page still needs records. Were
        // the blobs in the filter's own result, a time range would sort every batch in it, blobs
        // and all, before the first row came back. The names come a page at a time and each page's
        // reader is closed before its batches are read: PostgreSQL runs one command at a time on a
        // connection.
        await using var batchAt = connection.CreateCommand();
        batchAt.Transaction = transaction;
        batchAt.CommandText = SelectBatchAt;
        var first = CommandParameters.Add(batchAt, "@First", 0L);

        // One record more than the page: its presence says whether another page follows.
        var records = new List<AuditRecord>(limit + 1);
        long? below = null;
        var ids = new List<long>(BatchIdPage);
        do
        {
            ids.Clear();
            await using (var matching = connection.CreateCommand())
            {
                matching.Transaction = transaction;
                matching.CommandText = AuditBatchFilter.Build(query, below, BatchIdPage, matching, storage.Dialect);
                await using var reader = await matching.ExecuteReaderAsync(ct);
                while (await reader.ReadAsync(ct))
                {
                    ids.Add(reader.GetInt64(0));
                }
            }

            foreach (var id in ids)
            {
                below = id;
                if (records.Count > limit)
                {
                    break;
                }

                first.Value = id;
                await using var reader = await batchAt.ExecuteReaderAsync(ct);
                if (!await reader.ReadAsync(ct))
                {
                    continue;
                }

                var batch = ReadBatch(reader);
                for (var i = batch.Count - 1; i >= 0 && records.Count <= limit; i--)
                {
                    if (AuditBatchFilter.Matches(query, batch[i]))
                    {
                        records.Add(batch[i]);
                    }
                }
            }
        }
        while (ids.Count == BatchIdPage && records.Count <= limit);

        var hasMore = records.Count > limit;
        var page = records.Take(limit).ToArray();
        return new AuditPage(page, hasMore ? page[^1].Sequence : null);
    }

    // One row of SelectBatches (first_seq, time, prev_hash, hashes, records), decoded.
    private static List<AuditRecord> ReadBatch(DbDataReader reader)
    {
        var batch = StoredBatch(reader);
        return AuditBatchBlob.Decode(batch.FirstSequence, batch.Time, batch.PrevHash, batch.Hashes, batch.Records);
    }

    // A blob column; anything else stored there (tampering) reads as its bytes or as nothing.
    private static byte[] Blob(DbDataReader reader, int column) => reader.GetValue(column) switch
    {
        byte[] bytes => bytes,
        string text => global::System.Text.Encoding.UTF8.GetBytes(text),
        _ => [],
    };

    internal static async Task<AuditChainEnd> ReadChainEndAsync(DbCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        await reader.ReadAsync(ct);
        var head = reader.IsDBNull(0) ? AuditHead.Empty : new AuditHead(reader.GetInt64(0), Blob(reader, 1));
        return new AuditChainEnd(head, reader.GetInt64(2));
    }

    internal static async Task<AuditHead> ReadHeadAsync(DbCommand command, CancellationToken ct)
    {
        await using var reader = await command.ExecuteReaderAsync(ct);
        return await reader.ReadAsync(ct) ? new AuditHead(reader.GetInt64(0), Blob(reader, 1)) : AuditHead.Empty;
    }

    // A malformed time is tampering too: read it as a time that hashes differently, so verify reports
    // the record instead of failing to read it.
    private static DateTimeOffset ParseTimeOrMin(string text)
    {
        try
        {
            return DbValues.ParseTime(text);
        }
        catch (FormatException)
        {
            return DateTimeOffset.MinValue;
        }
    }

    internal sealed class CheckpointRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public byte[] Hash { get; init; } = [];
        public byte[] Mac { get; init; } = [];
    }
}
