using Coffer.Audit;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed partial class AuditRepository
{
    private const string SelectCheckpointAtOrBefore =
        "SELECT seq AS Seq, time AS Time, hash AS Hash, mac AS Mac FROM audit_checkpoints WHERE seq <= @Sequence ORDER BY seq DESC LIMIT 1";

    private const string SelectArchives =
        "SELECT first_seq AS FirstSeq, through_seq AS ThroughSeq, through_hash AS ThroughHash, file_name AS FileName," +
        " file_sha256 AS FileSha256, created_at AS CreatedAt, mac AS Mac FROM audit_archives ORDER BY through_seq";

    private const string SelectLastArchiveEnd = "SELECT COALESCE(MAX(through_seq), 0) FROM audit_archives";

    private const string InsertArchive =
        "INSERT INTO audit_archives (through_seq, first_seq, through_hash, file_name, file_sha256, created_at, mac)" +
        " VALUES (@ThroughSequence, @FirstSequence, @ThroughHash, @FileName, @FileSha256, @CreatedAt, @Mac)";

    // Oldest first, a bounded number per transaction: the audit writer waits at most about a second
    // for the write lock (SqliteDialect.AuditConnectionPragmas, Postgres.PostgresDialect.AuditConnectionOptions), and must never have to.
    private const string SelectArchivedBatches =
        "SELECT first_seq AS FirstSeq, last_seq AS LastSeq, time AS Time, prev_hash AS PrevHash, hashes AS Hashes, records AS Records" +
        " FROM audit_batches WHERE first_seq <= @Through ORDER BY first_seq LIMIT @Limit";

    private const string DeleteBatch = "DELETE FROM audit_batches WHERE first_seq = @First";

    private const string DeleteBatchKeys = "DELETE FROM audit_batch_keys WHERE first_seq <= @LastDone";

    private const string InsertRemainder =
        "INSERT INTO audit_batches (first_seq, last_seq, time, prev_hash, hashes, records) VALUES (@First, @Last, @Time, @PrevHash, @Hashes, @Records)";

    // The checkpoint at the cut stays: it proves the hash the live chain continues from.
    private const string DeleteArchivedCheckpoints =
        "DELETE FROM audit_checkpoints WHERE seq IN (SELECT seq FROM audit_checkpoints WHERE seq < @Through ORDER BY seq LIMIT @Limit)";

    public async Task<AuditCheckpoint?> GetCheckpointAtOrBeforeAsync(long sequence, CancellationToken ct = default)
    {
        await using var connection = await Storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<CheckpointRow>(new CommandDefinition(SelectCheckpointAtOrBefore, new { Sequence = sequence }, cancellationToken: ct));
        return row is null ? null : new AuditCheckpoint(row.Seq, row.Hash, ParseTimeOrMin(row.Time), row.Mac);
    }

    public async Task<IReadOnlyList<AuditArchive>> ListArchivesAsync(CancellationToken ct = default)
    {
        await using var connection = await Storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<ArchiveRow>(new CommandDefinition(SelectArchives, cancellationToken: ct));
        return [.. rows.Select(r => new AuditArchive(r.FirstSeq, r.ThroughSeq, r.ThroughHash, r.FileName, r.FileSha256, ParseTimeOrMin(r.CreatedAt), r.Mac))];
    }

    public async Task AddArchiveAsync(AuditArchive archive, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(archive);
        await using var connection = await Storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await storage.Dialect.LockAsync(transaction, WriteLock.AuditArchives, ct);
        var lastEnd = await connection.ExecuteScalarAsync<long>(new CommandDefinition(SelectLastArchiveEnd, transaction: transaction, cancellationToken: ct));
        if (archive.FirstSequence != lastEnd + 1 || archive.ThroughSequence < archive.FirstSequence)
        {
            throw new ConflictException($"an archive must start at record {lastEnd + 1}, right after the last one");
        }

        await connection.ExecuteAsync(new CommandDefinition(InsertArchive, new
        {
            archive.ThroughSequence,
            archive.FirstSequence,
            archive.ThroughHash,
            archive.FileName,
            archive.FileSha256,
            CreatedAt = DbValues.Time(archive.CreatedAt),
            archive.Mac,
        }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
    }

    public async Task<int> PruneArchivedAsync(long throughSequence, int limit, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        await using var connection = await Storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await storage.Dialect.LockAsync(transaction, WriteLock.AuditArchives, ct);
        var batches = (await connection.QueryAsync<BatchRow>(new CommandDefinition(SelectArchivedBatches,
            new { Through = throughSequence, Limit = limit }, transaction, cancellationToken: ct))).AsList();
        var removed = 0;
        var lastDone = 0L;
        foreach (var batch in batches)
        {
            if (removed >= limit)
            {
                break;
            }

            lastDone = batch.FirstSeq;
            await connection.ExecuteAsync(new CommandDefinition(DeleteBatch, new { First = batch.FirstSeq }, transaction, cancellationToken: ct));
            if (batch.LastSeq <= throughSequence)
            {
                removed += (int)(batch.LastSeq - batch.FirstSeq + 1);
                continue;
            }

            // The cut falls inside this batch: the records after it stay, as a batch of their own.
            var cut = (int)(throughSequence - batch.FirstSeq + 1);
            var after = AuditBatchBlob.After(batch.Records, (int)(batch.LastSeq - batch.FirstSeq + 1), cut);
            if (after is null || batch.Hashes.Length < (cut + 1) * AuditRecord.HashSize)
            {
                throw new InvalidDataException($"The stored audit batch from record {batch.FirstSeq} is malformed; run 'coffer audit verify'.");
            }

            var remainder = new
            {
                First = throughSequence + 1,
                Last = batch.LastSeq,
                batch.Time,
                PrevHash = batch.Hashes[((cut - 1) * AuditRecord.HashSize)..(cut * AuditRecord.HashSize)],
                Hashes = batch.Hashes[(cut * AuditRecord.HashSize)..],
                Records = after,
            };
            await connection.ExecuteAsync(new CommandDefinition(InsertRemainder, remainder, transaction, cancellationToken: ct));
            var kept = AuditBatchBlob.Decode(remainder.First, DateTimeOffset.MinValue, remainder.PrevHash, remainder.Hashes, remainder.Records);
            foreach (var keyId in kept.Select(r => r.Event.KeyId).OfType<string>().Distinct(StringComparer.Ordinal))
            {
                await connection.ExecuteAsync(new CommandDefinition(AuditBatchWriter.InsertBatchKey(storage.Dialect),
                    new { key = storage.Dialect.BatchKey(keyId), first = remainder.First }, transaction, cancellationToken: ct));
            }

            removed += cut;
        }

        await connection.ExecuteAsync(new CommandDefinition(DeleteBatchKeys, new { LastDone = lastDone }, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition(DeleteArchivedCheckpoints,
            new { Through = throughSequence, Limit = limit }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return removed;
    }

    private sealed class BatchRow
    {
        public long FirstSeq { get; init; }
        public long LastSeq { get; init; }
        public string Time { get; init; } = "";
        public byte[] PrevHash { get; init; } = [];
        public byte[] Hashes { get; init; } = [];
        public byte[] Records { get; init; } = [];
    }

    private sealed class ArchiveRow
    {
        public long FirstSeq { get; init; }
        public long ThroughSeq { get; init; }
        public byte[] ThroughHash { get; init; } = [];
        public string FileName { get; init; } = "";
        public byte[] FileSha256 { get; init; } = [];
        public string CreatedAt { get; init; } = "";
        public byte[] Mac { get; init; } = [];
    }
}
