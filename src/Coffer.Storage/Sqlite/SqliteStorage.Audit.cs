using Coffer.Audit;
using Dapper;
using Microsoft.Data.Sqlite;

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

        private const string InsertRecord =
            "INSERT INTO audit_records (seq, time, node, action, outcome, error_name, reason, actor_kind, actor_id, key_store, key_id, " +
            "key_version, latency_us, source_ip, kms_request_id, aws_principal_arn, kms_key_arn, aws_account, aws_region, kms_operation, " +
            "kms_via_service, aws_source_vpc, aws_source_vpce, details, prev_hash, hash) VALUES " +
            "($seq, $time, $node, $action, $outcome, $error_name, $reason, $actor_kind, $actor_id, $key_store, $key_id, " +
            "$key_version, $latency_us, $source_ip, $kms_request_id, $aws_principal_arn, $kms_key_arn, $aws_account, $aws_region, $kms_operation, " +
            "$kms_via_service, $aws_source_vpc, $aws_source_vpce, $details, $prev_hash, $hash)";

        private static readonly string[] InsertParameters =
        [
            "$seq", "$time", "$node", "$action", "$outcome", "$error_name", "$reason", "$actor_kind", "$actor_id", "$key_store", "$key_id",
            "$key_version", "$latency_us", "$source_ip", "$kms_request_id", "$aws_principal_arn", "$kms_key_arn", "$aws_account", "$aws_region",
            "$kms_operation", "$kms_via_service", "$aws_source_vpc", "$aws_source_vpce", "$details", "$prev_hash", "$hash",
        ];

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
            private readonly SqliteCommand _insert;
            private readonly SqliteCommand _checkpoint;
            private readonly SqliteParameter[] _p;
            private readonly SqliteParameter[] _c;

            private AuditWriter(SqliteConnection connection)
            {
                _connection = connection;
                _head = connection.CreateCommand();
                _head.CommandText = SelectHead;
                _insert = connection.CreateCommand();
                _insert.CommandText = InsertRecord;
                _p = [.. InsertParameters.Select(name => _insert.Parameters.Add(new SqliteParameter { ParameterName = name }))];
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
                _insert.Transaction = transaction;
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
                    Bind(_p, r);
                    await _insert.ExecuteNonQueryAsync(ct);
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
                _insert.Dispose();
                _checkpoint.Dispose();
                _connection.Dispose();
            }
        }

        private static async Task<AuditHead> ReadHeadAsync(SqliteConnection connection, SqliteTransaction? transaction, CancellationToken ct)
        {
            var row = await connection.QuerySingleOrDefaultAsync<HeadRow>(new CommandDefinition(SelectHead, transaction: transaction, cancellationToken: ct));
            return row is null ? AuditHead.Empty : new AuditHead(row.Seq, row.Hash);
        }

        private static void Bind(SqliteParameter[] p, AuditRecord r)
        {
            var e = r.Event;
            p[0].Value = r.Sequence;
            p[1].Value = DbValues.Time(r.Time);
            p[2].Value = r.Node;
            p[3].Value = e.Action;
            p[4].Value = AuditOutcomes.ToText(e.Outcome);
            p[5].Value = Db(e.ErrorName);
            p[6].Value = Db(e.Reason);
            p[7].Value = Db(e.ActorKind);
            p[8].Value = Db(e.ActorId);
            p[9].Value = Db(e.KeyStore);
            p[10].Value = Db(e.KeyId);
            p[11].Value = e.KeyVersion is { } version ? version : DBNull.Value;
            p[12].Value = e.LatencyMs is { } latency ? AuditCanonical.LatencyMicroseconds(latency) : DBNull.Value;
            p[13].Value = Db(e.SourceIp);
            p[14].Value = Db(e.KmsRequestId);
            p[15].Value = Db(e.AwsPrincipalArn);
            p[16].Value = Db(e.KmsKeyArn);
            p[17].Value = Db(e.AwsAccount);
            p[18].Value = Db(e.AwsRegion);
            p[19].Value = Db(e.KmsOperation);
            p[20].Value = Db(e.KmsViaService);
            p[21].Value = Db(e.AwsSourceVpc);
            p[22].Value = Db(e.AwsSourceVpce);
            p[23].Value = Db(e.Details);
            p[24].Value = r.PrevHash;
            p[25].Value = r.Hash;
        }

        private static object Db(string? value) => value is null ? DBNull.Value : value;
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
