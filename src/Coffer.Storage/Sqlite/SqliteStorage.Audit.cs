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

        private const string RecordColumns =
            "seq AS Seq, time AS Time, node AS Node, action AS Action, outcome AS Outcome, error_name AS ErrorName, reason AS Reason, " +
            "actor_kind AS ActorKind, actor_id AS ActorId, key_store AS KeyStore, key_id AS KeyId, key_version AS KeyVersion, " +
            "latency_us AS LatencyUs, source_ip AS SourceIp, kms_request_id AS KmsRequestId, aws_principal_arn AS AwsPrincipalArn, " +
            "kms_key_arn AS KmsKeyArn, aws_account AS AwsAccount, aws_region AS AwsRegion, kms_operation AS KmsOperation, " +
            "kms_via_service AS KmsViaService, aws_source_vpc AS AwsSourceVpc, aws_source_vpce AS AwsSourceVpce, details AS Details, " +
            "prev_hash AS PrevHash, hash AS Hash";

        // Positional (?NNN in column order) and bound through SQLitePCL directly: Microsoft.Data.Sqlite
        // binds by name, which looks each of the 26 names up per row (a profile of the writer showed
        // that name search among its top costs).
        private const string InsertRecord =
            "INSERT INTO audit_records (seq, time, node, action, outcome, error_name, reason, actor_kind, actor_id, key_store, key_id, " +
            "key_version, latency_us, source_ip, kms_request_id, aws_principal_arn, kms_key_arn, aws_account, aws_region, kms_operation, " +
            "kms_via_service, aws_source_vpc, aws_source_vpce, details, prev_hash, hash) VALUES " +
            "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21, ?22, ?23, ?24, ?25, ?26)";

        private static readonly string[] CheckpointParameters = ["$seq", "$time", "$hash", "$mac"];

        private const string InsertCheckpointNamed = "INSERT INTO audit_checkpoints (seq, time, hash, mac) VALUES ($seq, $time, $hash, $mac)";

        private const string SelectLastCheckpoint = "SELECT COALESCE(MAX(seq), 0) FROM audit_checkpoints";

        private const string SelectHead = "SELECT seq AS Seq, hash AS Hash FROM audit_records ORDER BY seq DESC LIMIT 1";

        private const string SelectRecords = "SELECT " + RecordColumns + " FROM audit_records WHERE seq >= @From ORDER BY seq LIMIT @Take";

        private const string SelectCheckpoints =
            "SELECT seq AS Seq, time AS Time, hash AS Hash, mac AS Mac FROM audit_checkpoints" +
            " WHERE seq >= @From AND (@To IS NULL OR seq <= @To) ORDER BY seq";

        // One constant statement for every filter combination (as the key list): a null parameter
        // switches its predicate off. Keyset paging on seq, newest first.
        private const string SelectPage =
            "SELECT " + RecordColumns + " FROM audit_records" +
            " WHERE (@Before IS NULL OR seq < @Before)" +
            " AND (@From IS NULL OR time >= @From) AND (@To IS NULL OR time < @To)" +
            " AND (@KeyId IS NULL OR key_id = @KeyId) AND (@KeyStore IS NULL OR key_store = @KeyStore)" +
            " AND (@ActorId IS NULL OR actor_id = @ActorId) AND (@Action IS NULL OR action = @Action)" +
            " AND (@Outcome IS NULL OR outcome = @Outcome) AND (@KmsRequestId IS NULL OR kms_request_id = @KmsRequestId)" +
            " AND (@AwsRegion IS NULL OR aws_region = @AwsRegion) AND (@AwsAccount IS NULL OR aws_account = @AwsAccount)" +
            " ORDER BY seq DESC LIMIT @Take";

        public async Task AppendAsync(IReadOnlyList<AuditRecord> records, AuditCheckpoint? checkpoint, CancellationToken ct = default)
        {
            ArgumentNullException.ThrowIfNull(records);
            if (records.Count == 0)
            {
                throw new ArgumentException("An append needs at least one record.", nameof(records));
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
            return await ReadHeadAsync(connection, null, ct);
        }

        public async Task<AuditChainPage> ReadChainAsync(long fromSequence, int limit, CancellationToken ct = default)
        {
            var take = Math.Max(1, limit);
            await using var connection = await storage.OpenConnectionAsync(ct);
            await using var transaction = BeginRead(connection);
            var rows = (await connection.QueryAsync<RecordRow>(new CommandDefinition(SelectRecords,
                new { From = fromSequence, Take = take }, transaction, cancellationToken: ct))).AsList();
            var isLast = rows.Count < take;
            var checkpoints = await connection.QueryAsync<CheckpointRow>(new CommandDefinition(SelectCheckpoints,
                new { From = fromSequence, To = isLast ? (long?)null : rows[^1].Seq }, transaction, cancellationToken: ct));
            return new AuditChainPage(
                [.. rows.Select(row => row.ToRecord())],
                [.. checkpoints.Select(row => new AuditCheckpoint(row.Seq, row.Hash, ParseTimeOrMin(row.Time), row.Mac))],
                isLast);
        }

        public async Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct = default)
        {
            ArgumentNullException.ThrowIfNull(query);
            var limit = Math.Clamp(query.Limit, 1, MaxPageSize);
            await using var connection = await storage.OpenConnectionAsync(ct);
            // One row more than the page: its presence says whether another page follows.
            var rows = (await connection.QueryAsync<RecordRow>(new CommandDefinition(SelectPage, new
            {
                query.Before,
                From = DbValues.Time(query.From),
                To = DbValues.Time(query.To),
                query.KeyId,
                query.KeyStore,
                query.ActorId,
                query.Action,
                Outcome = query.Outcome is { } outcome ? AuditOutcomes.ToText(outcome) : null,
                query.KmsRequestId,
                query.AwsRegion,
                query.AwsAccount,
                Take = limit + 1,
            }, cancellationToken: ct))).AsList();

            var hasMore = rows.Count > limit;
            var records = rows.Take(limit).Select(row => row.ToRecord()).ToArray();
            return new AuditPage(records, hasMore ? records[^1].Sequence : null);
        }

        private sealed class AuditWriter : IDisposable
        {
            private readonly SqliteConnection _connection;
            private readonly SqliteCommand _head;
            private readonly sqlite3_stmt _insert;
            private readonly SqliteCommand _checkpoint;
            private readonly SqliteParameter[] _c;

            private AuditWriter(SqliteConnection connection)
            {
                _connection = connection;
                _head = connection.CreateCommand();
                _head.CommandText = SelectHead;
                Check(raw.sqlite3_prepare_v2(connection.Handle, InsertRecord, out _insert), connection);
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
                var head = AuditHead.Empty;
                await using (var reader = await _head.ExecuteReaderAsync(ct))
                {
                    if (await reader.ReadAsync(ct))
                    {
                        head = new AuditHead(reader.GetInt64(0), (byte[])reader.GetValue(1));
                    }
                }

                var first = records[0];
                if (first.Sequence != head.Sequence + 1 || !first.PrevHash.AsSpan().SequenceEqual(head.Hash))
                {
                    throw new ConflictException(string.Create(global::System.Globalization.CultureInfo.InvariantCulture,
                        $"the audit batch starting at record {first.Sequence} does not follow the stored head (record {head.Sequence})"));
                }

                foreach (var r in records)
                {
                    Insert(r);
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
                _insert.Dispose(); // sqlite3_finalize, before the connection closes
                _checkpoint.Dispose();
                _connection.Dispose();
            }

            private void Insert(AuditRecord r)
            {
                var e = r.Event;
                Integer(1, r.Sequence);
                Text(2, DbValues.Time(r.Time));
                Text(3, r.Node);
                Text(4, e.Action);
                Text(5, AuditOutcomes.ToText(e.Outcome));
                Text(6, e.ErrorName);
                Text(7, e.Reason);
                Text(8, e.ActorKind);
                Text(9, e.ActorId);
                Text(10, e.KeyStore);
                Text(11, e.KeyId);
                Integer(12, e.KeyVersion);
                Integer(13, e.LatencyMs is { } latency ? AuditCanonical.LatencyMicroseconds(latency) : null);
                Text(14, e.SourceIp);
                Text(15, e.KmsRequestId);
                Text(16, e.AwsPrincipalArn);
                Text(17, e.KmsKeyArn);
                Text(18, e.AwsAccount);
                Text(19, e.AwsRegion);
                Text(20, e.KmsOperation);
                Text(21, e.KmsViaService);
                Text(22, e.AwsSourceVpc);
                Text(23, e.AwsSourceVpce);
                Text(24, e.Details);
                Check(raw.sqlite3_bind_blob(_insert, 25, r.PrevHash));
                Check(raw.sqlite3_bind_blob(_insert, 26, r.Hash));
                var rc = raw.sqlite3_step(_insert);
                raw.sqlite3_reset(_insert);
                Check(rc);
            }

            // UTF-16 as it is: SQLite converts it to the file's UTF-8 itself, without the managed copy that
            // binding a string costs (about a quarter of an insert, measured on a batch of 36). A record's
            // fields are normalised (AuditCanonical.Normalize), so no lone surrogate is left to come out
            // differently from the UTF-8 the hash covers.
            private void Text(int index, string? value) =>
                Check(value is null ? raw.sqlite3_bind_null(_insert, index) : raw.sqlite3_bind_text16(_insert, index, value.AsSpan()));

            private void Integer(int index, long? value) =>
                Check(value is { } v ? raw.sqlite3_bind_int64(_insert, index, v) : raw.sqlite3_bind_null(_insert, index));

            // Every bind and the step are checked: a failed bind must not let a row go in with what the
            // previous record left in that slot.
            private void Check(int rc) => Check(rc, _connection);

            private static void Check(int rc, SqliteConnection connection)
            {
                if (rc is not (raw.SQLITE_OK or raw.SQLITE_DONE))
                {
                    SqliteException.ThrowExceptionForRC(rc, connection.Handle);
                }
            }
        }

        private static async Task<AuditHead> ReadHeadAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken ct)
        {
            var row = await connection.QuerySingleOrDefaultAsync<HeadRow>(new CommandDefinition(SelectHead, transaction: transaction, cancellationToken: ct));
            return row is null ? AuditHead.Empty : new AuditHead(row.Seq, row.Hash);
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

    private sealed class HeadRow
    {
        public long Seq { get; init; }
        public byte[] Hash { get; init; } = [];
    }

    private sealed class CheckpointRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public byte[] Hash { get; init; } = [];
        public byte[] Mac { get; init; } = [];
    }

    private sealed class RecordRow
    {
        public long Seq { get; init; }
        public string Time { get; init; } = "";
        public string Node { get; init; } = "";
        public string Action { get; init; } = "";
        public string Outcome { get; init; } = "";
        public string? ErrorName { get; init; }
        public string? Reason { get; init; }
        public string? ActorKind { get; init; }
        public string? ActorId { get; init; }
        public string? KeyStore { get; init; }
        public string? KeyId { get; init; }
        public long? KeyVersion { get; init; }
        public long? LatencyUs { get; init; }
        public string? SourceIp { get; init; }
        public string? KmsRequestId { get; init; }
        public string? AwsPrincipalArn { get; init; }
        public string? KmsKeyArn { get; init; }
        public string? AwsAccount { get; init; }
        public string? AwsRegion { get; init; }
        public string? KmsOperation { get; init; }
        public string? KmsViaService { get; init; }
        public string? AwsSourceVpc { get; init; }
        public string? AwsSourceVpce { get; init; }
        public string? Details { get; init; }
        public byte[] PrevHash { get; init; } = [];
        public byte[] Hash { get; init; } = [];

        // Read as stored, never normalised or re-hashed: the verifier must see exactly what is on disk.
        // An unknown outcome text is kept recognisable as tampering: it maps to a value whose canonical
        // text differs, so the hash check fails instead of this read throwing.
        public AuditRecord ToRecord() => new(
            new AuditEvent
            {
                Action = Action,
                Outcome = AuditOutcomes.TryParse(Outcome, out var outcome) ? outcome : (AuditOutcome)(-1),
                ErrorName = ErrorName,
                Reason = Reason,
                ActorKind = ActorKind,
                ActorId = ActorId,
                KeyStore = KeyStore,
                KeyId = KeyId,
                KeyVersion = KeyVersion is { } v ? unchecked((int)v) : null,
                LatencyMs = LatencyUs is { } us ? AuditCanonical.LatencyFromMicroseconds(us) : null,
                SourceIp = SourceIp,
                KmsRequestId = KmsRequestId,
                AwsPrincipalArn = AwsPrincipalArn,
                KmsKeyArn = KmsKeyArn,
                AwsAccount = AwsAccount,
                AwsRegion = AwsRegion,
                KmsOperation = KmsOperation,
                KmsViaService = KmsViaService,
                AwsSourceVpc = AwsSourceVpc,
                AwsSourceVpce = AwsSourceVpce,
                Details = Details,
            },
            Seq, ParseTimeOrMin(Time), Node, PrevHash, Hash);
    }
}
