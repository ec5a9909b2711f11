using System.Buffers;
using Coffer.Audit;
using Dapper;
using Microsoft.Data.Sqlite;
using SQLitePCL;

namespace Coffer.Storage.Sqlite;

public sealed partial class SqliteStorage
{
    private sealed partial class AuditRepository(SqliteStorage storage) : IAuditRepository, IDisposable
    {
        private const int MaxPageSize = 1000;

        // One writer connection with its statements prepared once, kept open between batches: opening a
        // pooled connection, setting its pragmas and preparing the statements cost more than the
        // commit's fsync itself, and every XKS call waits for a batch.
        private readonly SemaphoreSlim _writeGate = new(1, 1);
        private AuditWriter? _writer;

        private SqliteStorage Storage => storage;

        // A batch row (audit_batches, 0016_audit_batches.sql): read by ReadBatch.
        private const string SelectBatches = "SELECT first_seq, time, prev_hash, hashes, records FROM audit_batches";

        private const string SelectBatchAt = SelectBatches + " WHERE first_seq = @First";

        private const string InsertBatch =
            "INSERT INTO audit_batches (first_seq, last_seq, time, prev_hash, hashes, records) VALUES (?1, ?2, ?3, ?4, ?5, ?6)";

        private const string InsertBatchKey = "INSERT OR IGNORE INTO audit_batch_keys (key_id, first_seq) VALUES (?1, ?2)";

        private static readonly string[] CheckpointParameters = ["$seq", "$time", "$hash", "$mac"];

        private const string InsertCheckpointNamed = "INSERT INTO audit_checkpoints (seq, time, hash, mac) VALUES ($seq, $time, $hash, $mac)";

        private const string SelectLastCheckpoint = "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints";

        // A batch's last hash is the last 32 bytes of its hashes (substr counts bytes in a blob).
        private const string SelectHead = "SELECT last_seq, substr(hashes, -32) FROM audit_batches ORDER BY first_seq DESC LIMIT 1";

        // From the batch that holds record @From (or the first after it) on, oldest first.
        private const string SelectChainBatches = SelectBatches +
            " WHERE first_seq >= COALESCE((SELECT MAX(first_seq) FROM audit_batches WHERE first_seq <= @From), @From) ORDER BY first_seq";

        private const string SelectCheckpoints =
            "SELECT seq AS Seq, time AS Time, hash AS Hash, mac AS Mac FROM audit_checkpoints" +
            " WHERE seq >= @From AND (@To IS NULL OR seq <= @To) ORDER BY seq";


        public async Task AppendAsync(IReadOnlyList<AuditRecord> records, AuditCheckpoint? checkpoint, CancellationToken ct = default)
        {
            ArgumentNullException.ThrowIfNull(records);
            if (records.Count == 0)
            {
                throw new ArgumentException("An append needs at least one record.", nameof(records));
            }

            // Stored, a record keeps no sequence or previous hash of its own (both follow from its place),
            // so a batch that is not one stretch of the chain cannot be stored faithfully.
            for (var i = 1; i < records.Count; i++)
            {
                if (records[i].Sequence != records[0].Sequence + i || !records[i].PrevHash.AsSpan().SequenceEqual(records[i - 1].Hash))
                {
                    throw new ArgumentException("An audit batch must be contiguous: each record follows the one before it.", nameof(records));
                }
            }

            await _writeGate.WaitAsync(ct);
            try
            {
                _writer ??= await AuditWriter.OpenAsync(storage, ct);
                await _writer.AppendAsync(records, checkpoint, ct);
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
            command.CommandText = SelectHead;
            return await ReadHeadAsync(command, ct);
        }

        public async Task<AuditChainPage> ReadChainAsync(long fromSequence, int limit, CancellationToken ct = default)
        {
            var take = Math.Max(1, limit);
            await using var connection = await storage.OpenConnectionAsync(ct);
            await using var transaction = BeginRead(connection);
            var records = new List<AuditRecord>(Math.Min(take, MaxPageSize));
            await using (var command = connection.CreateCommand())
            {
                command.Transaction = transaction;
                command.CommandText = SelectChainBatches;
                command.Parameters.AddWithValue("@From", fromSequence);
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
            await using var transaction = BeginRead(connection);

            // The filter names batches; each is read whole only when the page still needs records. Were
            // the blobs in the filter's own result, a time range would sort every batch in it, blobs
            // and all, before the first row came back.
            await using var matching = connection.CreateCommand();
            matching.Transaction = transaction;
            matching.CommandText = AuditBatchFilter.Build(query, matching.Parameters);
            await using var batchAt = connection.CreateCommand();
            batchAt.Transaction = transaction;
            batchAt.CommandText = SelectBatchAt;
            var first = batchAt.Parameters.Add("@First", SqliteType.Integer);

            // One record more than the page: its presence says whether another page follows.
            var records = new List<AuditRecord>(limit + 1);
            await using (var ids = await matching.ExecuteReaderAsync(ct))
            {
                while (records.Count <= limit && await ids.ReadAsync(ct))
                {
                    first.Value = ids.GetInt64(0);
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

            var hasMore = records.Count > limit;
            var page = records.Take(limit).ToArray();
            return new AuditPage(page, hasMore ? page[^1].Sequence : null);
        }

        // One row of SelectBatches: first_seq, time, prev_hash, hashes, records.
        private static List<AuditRecord> ReadBatch(SqliteDataReader reader) =>
            AuditBatchBlob.Decode(reader.GetInt64(0), ParseTimeOrMin(reader.GetString(1)), Blob(reader, 2), Blob(reader, 3), Blob(reader, 4));

        // A blob column; anything else stored there (tampering) reads as its bytes or as nothing.
        private static byte[] Blob(SqliteDataReader reader, int column) => reader.GetValue(column) switch
        {
            byte[] bytes => bytes,
            string text => global::System.Text.Encoding.UTF8.GetBytes(text),
            _ => [],
        };

        private static async Task<AuditHead> ReadHeadAsync(SqliteCommand command, CancellationToken ct)
        {
            await using var reader = await command.ExecuteReaderAsync(ct);
            return await reader.ReadAsync(ct) ? new AuditHead(reader.GetInt64(0), Blob(reader, 1)) : AuditHead.Empty;
        }

        private sealed class AuditWriter : IDisposable
        {
            private readonly SqliteConnection _connection;
            private readonly SqliteCommand _head;
            private readonly sqlite3_stmt _insertBatch;
            private readonly sqlite3_stmt _insertKey;
            private readonly SqliteCommand _checkpoint;
            private readonly SqliteParameter[] _c;
            private readonly ArrayBufferWriter<byte> _bodies = new(16 * 1024);
            private readonly ArrayBufferWriter<byte> _hashes = new(1024);
            private readonly HashSet<string> _keys = new(StringComparer.Ordinal);

            private AuditWriter(SqliteConnection connection)
            {
                _connection = connection;
                _head = connection.CreateCommand();
                _head.CommandText = SelectHead;
                Check(raw.sqlite3_prepare_v2(connection.Handle, InsertBatch, out _insertBatch), connection);
                Check(raw.sqlite3_prepare_v2(connection.Handle, InsertBatchKey, out _insertKey), connection);
                _checkpoint = connection.CreateCommand();
                _checkpoint.CommandText = InsertCheckpointNamed;
                _c = [.. CheckpointParameters.Select(name => _checkpoint.Parameters.Add(new SqliteParameter { ParameterName = name }))];
            }

            public static async Task<AuditWriter> OpenAsync(SqliteStorage storage, CancellationToken ct)
            {
                var connection = await storage.OpenAuditConnectionAsync(ct);
                try
                {
                    return new AuditWriter(connection);
                }
                catch
                {
                    await connection.DisposeAsync();
                    throw;
                }
            }

            public async Task AppendAsync(IReadOnlyList<AuditRecord> records, AuditCheckpoint? checkpoint, CancellationToken ct)
            {
                await using var transaction = BeginWrite(_connection);
                _head.Transaction = transaction;
                _checkpoint.Transaction = transaction;

                // Under the write lock: the batch must continue the stored chain, or it would fork it
                // (a second writer) or paper over removed records.
                var head = await ReadHeadAsync(_head, ct);
                var first = records[0];
                if (first.Sequence != head.Sequence + 1 || !first.PrevHash.AsSpan().SequenceEqual(head.Hash))
                {
                    throw new ConflictException(string.Create(global::System.Globalization.CultureInfo.InvariantCulture,
                        $"the audit batch starting at record {first.Sequence} does not follow the stored head (record {head.Sequence})"));
                }

                // One row per run of records with the same time: the writer stamps a whole batch at once,
                // so that is one row per commit.
                var start = 0;
                for (var i = 1; i <= records.Count; i++)
                {
                    if (i == records.Count || records[i].Time != records[start].Time)
                    {
                        InsertRun(records, start, i - start);
                        start = i;
                    }
                }

                if (checkpoint is not null)
                {
                    _c[0].Value = checkpoint.Sequence;
                    _c[1].Value = DbValues.Time(checkpoint.Time);
                    _c[2].Value = checkpoint.Hash;
                    _c[3].Value = checkpoint.Mac;
                    await _checkpoint.ExecuteNonQueryAsync(ct);
                }

                await transaction.CommitAsync(ct);
            }

            public void Dispose()
            {
                _head.Dispose();
                _insertBatch.Dispose(); // sqlite3_finalize, before the connection closes
                _insertKey.Dispose();
                _checkpoint.Dispose();
                _connection.Dispose();
            }

            private void InsertRun(IReadOnlyList<AuditRecord> records, int start, int count)
            {
                _bodies.ResetWrittenCount();
                _hashes.ResetWrittenCount();
                _keys.Clear();
                for (var i = start; i < start + count; i++)
                {
                    AuditBatchBlob.Append(_bodies, _hashes, records[i]);
                    if (records[i].Event.KeyId is { } keyId)
                    {
                        _keys.Add(keyId);
                    }
                }

                var first = records[start];
                Check(raw.sqlite3_bind_int64(_insertBatch, 1, first.Sequence));
                Check(raw.sqlite3_bind_int64(_insertBatch, 2, first.Sequence + count - 1));
                Check(raw.sqlite3_bind_text(_insertBatch, 3, DbValues.Time(first.Time)));
                Check(raw.sqlite3_bind_blob(_insertBatch, 4, first.PrevHash));
                Check(raw.sqlite3_bind_blob(_insertBatch, 5, _hashes.WrittenSpan));
                Check(raw.sqlite3_bind_blob(_insertBatch, 6, _bodies.WrittenSpan));
                Step(_insertBatch);

                foreach (var keyId in _keys)
                {
                    Check(raw.sqlite3_bind_text16(_insertKey, 1, keyId.AsSpan()));
                    Check(raw.sqlite3_bind_int64(_insertKey, 2, first.Sequence));
                    Step(_insertKey);
                }
            }

            private void Step(sqlite3_stmt statement)
            {
                var rc = raw.sqlite3_step(statement);
                raw.sqlite3_reset(statement);
                Check(rc);
            }

            // Every bind and step is checked: a failed bind must not let a row go in with what the
            // previous batch left in that slot.
            private void Check(int rc) => Check(rc, _connection);

            private static void Check(int rc, SqliteConnection connection)
            {
                if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE))
                {
                    SqliteException.ThrowExceptionForRC(rc, connection.Handle);
                }
            }
        }
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

    private sealed class CheckpointRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public byte[] Hash { get; init; } = [];
        public byte[] Mac { get; init; } = [];
    }
}
