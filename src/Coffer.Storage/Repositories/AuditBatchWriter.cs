using System.Buffers;
using System.Data.Common;
using System.Globalization;
using Coffer.Audit;

namespace Coffer.Storage.Repositories;

/// <summary>
/// The audit writer's connection, kept open between batches with its statements prepared: opening a
/// pooled connection and preparing the statements cost more than the commit itself, and every XKS
/// call waits for a batch. Used by one caller at a time (<see cref="AuditRepository"/>'s gate).
/// </summary>
/// <remarks>
/// An append reads the stored end of the chain and extends it in one write transaction that holds
/// <see cref="WriteLock.AuditHead"/> (on SQLite the write lock itself), and the batch is chained from
/// that end only then: writers on one node or several take turns and each continues the other's
/// records, so the cluster keeps one chain. On SQLite the end was read in that transaction anyway,
/// so this costs no extra round trip.
/// </remarks>
internal class AuditBatchWriter : IDisposable
{
    /// <summary>Named parameters in binding order, so SQLite's raw statements bind them by index.</summary>
    protected const string InsertBatch =
        "INSERT INTO audit_batches (first_seq, last_seq, time, prev_hash, hashes, records, outcomes) VALUES (@first, @last, @time, @prev, @hashes, @records, @outcomes)";

    /// <summary>One key row of a batch; the column is the dialect's (<see cref="SqlDialect.BatchKey"/>).</summary>
    internal static string InsertBatchKey(SqlDialect dialect) =>
        $"INSERT INTO audit_batch_keys ({dialect.BatchKeyColumn}, first_seq) VALUES (@key, @first) ON CONFLICT DO NOTHING";

    private const string InsertCheckpoint = "INSERT INTO audit_checkpoints (seq, time, hash, mac) VALUES (@seq, @time, @hash, @mac)";

    // Benchmark only (AuditBatchBlob.UnpackedEnvironmentVariable): batches stored plain.
    private static readonly bool Unpacked = Environment.GetEnvironmentVariable(AuditBatchBlob.UnpackedEnvironmentVariable) == "1";

    private readonly CofferStorage _storage;
    private readonly DbCommand _end;
    private readonly DbCommand _checkpoint;
    private readonly DbCommand? _batch;
    private readonly DbCommand? _key;
    private readonly ArrayBufferWriter<byte> _bodies = new(16 * 1024);
    private readonly ArrayBufferWriter<byte> _packed = new(16 * 1024);
    private readonly ArrayBufferWriter<byte> _hashes = new(1024);
    private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

    /// <param name="prepareInserts">False when a subclass inserts batches its own way.</param>
    protected AuditBatchWriter(CofferStorage storage, DbConnection connection, bool prepareInserts)
    {
        _storage = storage;
        Connection = connection;
        _end = Command(AuditRepository.SelectChainEnd(storage.Dialect));
        _checkpoint = Command(InsertCheckpoint, "@seq", "@time", "@hash", "@mac");
        if (prepareInserts)
        {
            _batch = Command(InsertBatch, "@first", "@last", "@time", "@prev", "@hashes", "@records", "@outcomes");
            _key = Command(InsertBatchKey(storage.Dialect), "@key", "@first");
        }
    }

    protected DbConnection Connection { get; }

    /// <summary>The writer over plain commands (PostgreSQL's).</summary>
    public static async Task<AuditBatchWriter> OpenAsync(CofferStorage storage, CancellationToken ct)
    {
        var connection = await storage.OpenAuditConnectionAsync(ct);
        try
        {
            return new AuditBatchWriter(storage, connection, prepareInserts: true);
        }
        catch
        {
            await connection.DisposeAsync();
            throw;
        }
    }

    public async Task AppendAsync(Func<AuditChainEnd, AuditChainedBatch> chain, CancellationToken ct)
    {
        await using var transaction = await _storage.BeginWriteAsync(Connection, ct);
        await _storage.Dialect.LockAsync(transaction, WriteLock.AuditHead, ct);
        _end.Transaction = transaction;
        _checkpoint.Transaction = transaction;

        // Under the lock: nobody can extend this end before the commit.
        var end = await AuditRepository.ReadChainEndAsync(_end, ct);
        var (records, checkpoint) = chain(end);
        CheckContinues(records, end.Head);

        // One row per run of records with the same time: the writer stamps a whole batch at once,
        // so that is one row per commit.
        var start = 0;
        for (var i = 1; i <= records.Count; i++)
        {
            if (i == records.Count || records[i].Time != records[start].Time)
            {
                await InsertRunAsync(transaction, records, start, i - start, ct);
                start = i;
            }
        }

        if (checkpoint is not null)
        {
            Bind(_checkpoint, checkpoint.Sequence, DbValues.Time(checkpoint.Time), checkpoint.Hash, checkpoint.Mac);
            await _checkpoint.ExecuteNonQueryAsync(ct);
        }

        await transaction.CommitAsync(ct);
    }

    public void Dispose()
    {
        Dispose(disposing: true);
        GC.SuppressFinalize(this);
    }

    /// <summary>Stores one run: its row in audit_batches (with the mask of its records' outcomes,
    /// <see cref="AuditBatchOutcomes"/>) and one audit_batch_keys row per key it names.</summary>
    protected virtual async Task InsertBatchAsync(
        DbTransaction transaction, long first, long last, string time, byte[] prevHash, ReadOnlyMemory<byte> hashes, ReadOnlyMemory<byte> bodies,
        int outcomes, IReadOnlySet<string> keys, CancellationToken ct)
    {
        _batch!.Transaction = transaction;
        _key!.Transaction = transaction;
        Bind(_batch, first, last, time, prevHash, hashes.ToArray(), bodies.ToArray(), outcomes);
        await _batch.ExecuteNonQueryAsync(ct);
        foreach (var keyId in keys)
        {
            Bind(_key, _storage.Dialect.BatchKey(keyId), first);
            await _key.ExecuteNonQueryAsync(ct);
        }
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            _end.Dispose();
            _checkpoint.Dispose();
            _batch?.Dispose();
            _key?.Dispose();
            Connection.Dispose();
        }
    }

    private Task InsertRunAsync(DbTransaction transaction, IReadOnlyList<AuditRecord> records, int start, int count, CancellationToken ct)
    {
        _bodies.ResetWrittenCount();
        _hashes.ResetWrittenCount();
        _keys.Clear();
        var outcomes = 0;
        for (var i = start; i < start + count; i++)
        {
            AuditBatchBlob.Append(_bodies, _hashes, records[i]);
            outcomes |= AuditBatchOutcomes.Bit(records[i].Event.Outcome);
            if (records[i].Event.KeyId is { } keyId)
            {
                _keys.Add(keyId);
            }
        }

        var first = records[start];
        var stored = Unpacked ? _bodies.WrittenMemory : AuditBatchBlob.Pack(_bodies.WrittenMemory, _packed);
        return InsertBatchAsync(transaction, first.Sequence, first.Sequence + count - 1, DbValues.Time(first.Time), first.PrevHash,
            _hashes.WrittenMemory, stored, outcomes, _keys, ct);
    }

    // Stored, a record keeps no sequence or previous hash of its own (both follow from its place), so a
    // batch that is not one stretch of the chain right after the end cannot be stored faithfully.
    private static void CheckContinues(IReadOnlyList<AuditRecord> records, AuditHead end)
    {
        if (records.Count == 0)
        {
            throw new ArgumentException("An audit append needs at least one record.", nameof(records));
        }

        var previous = end;
        foreach (var record in records)
        {
            if (!record.Follows(previous))
            {
                throw new ArgumentException(string.Create(CultureInfo.InvariantCulture,
                    $"An audit batch must continue the chain: record {record.Sequence} does not follow record {previous.Sequence}."), nameof(records));
            }

            previous = new AuditHead(record.Sequence, record.Hash);
        }
    }

    private DbCommand Command(string text, params string[] parameters)
    {
        var command = Connection.CreateCommand();
        command.CommandText = text;
        foreach (var name in parameters)
        {
            var parameter = command.CreateParameter();
            parameter.ParameterName = name;
            command.Parameters.Add(parameter);
        }

        return command;
    }

    private static void Bind(DbCommand command, params object[] values)
    {
        for (var i = 0; i < values.Length; i++)
        {
            command.Parameters[i].Value = values[i];
        }
    }
}
