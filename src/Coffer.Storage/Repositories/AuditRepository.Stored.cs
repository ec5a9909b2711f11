using System.Data.Common;
using System.Globalization;
using Coffer.Audit;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed partial class AuditRepository
{
    // The setting that holds the verified checkpoint: "seq:hash:unix ms:mac", hashes in hex.
    private const string VerifiedSetting = "audit.verified";

    // The batches that hold records @From to @Until - 1, oldest first: a range of the primary key, so
    // PostgreSQL sends no row past the page (a reader closed early there still drains what it was sent).
    private const string SelectStoredBatches = SelectBatches +
        " WHERE first_seq >= COALESCE((SELECT MAX(first_seq) FROM audit_batches WHERE first_seq <= @From), @From)" +
        " AND first_seq < @Until ORDER BY first_seq";

    private const string SelectBatchFrom = "SELECT 1 FROM audit_batches WHERE first_seq >= @Until LIMIT 1";

    public async Task<AuditStoredPage> ReadStoredBatchesAsync(long fromSequence, int records, CancellationToken ct = default)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(fromSequence, 1);
        var until = fromSequence + Math.Max(1, records);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var batches = new List<AuditStoredBatch>();
        var more = false;
        await using (var command = connection.CreateCommand())
        {
            command.Transaction = transaction;
            command.CommandText = SelectStoredBatches;
            CommandParameters.Add(command, "@From", fromSequence);
            CommandParameters.Add(command, "@Until", until);
            await using var reader = await command.ExecuteReaderAsync(ct);
            while (await reader.ReadAsync(ct))
            {
                if (Slice(StoredBatch(reader), fromSequence, until, ref more) is { } batch)
                {
                    batches.Add(batch);
                }
            }
        }

        more = more || await connection.ExecuteScalarAsync<int?>(new CommandDefinition(SelectBatchFrom, new { Until = until }, transaction, cancellationToken: ct)) is not null;
        var checkpoints = await connection.QueryAsync<CheckpointRow>(new CommandDefinition(SelectCheckpoints,
            new { From = fromSequence, To = more ? until - 1 : (long?)null }, transaction, cancellationToken: ct));
        return new AuditStoredPage(batches, [.. checkpoints.Select(Checkpoint)], until, !more);
    }

    public async Task<AuditCheckpoint?> GetVerifiedCheckpointAsync(CancellationToken ct = default) =>
        await storage.System.GetSettingAsync(VerifiedSetting, ct) is { } text ? ParseVerified(text) : null;

    public Task SaveVerifiedCheckpointAsync(AuditCheckpoint verified, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(verified);
        return storage.System.SetSettingAsync(VerifiedSetting, string.Create(CultureInfo.InvariantCulture,
            $"{verified.Sequence}:{Convert.ToHexStringLower(verified.Hash)}:{verified.Time.ToUnixTimeMilliseconds()}:{Convert.ToHexStringLower(verified.Mac)}"), ct);
    }

    // One row of SelectBatches as stored, its records blob in the plain form the writer encoded
    // (AuditBatchBlob). A packed blob that does not unpack stays as stored: its bytes are no records'
    // bodies, so verify reports the batch's first record.
    private static AuditStoredBatch StoredBatch(DbDataReader reader)
    {
        var hashes = Blob(reader, 3);
        var records = Blob(reader, 4);
        var plain = AuditBatchBlob.Unpack(records, hashes.Length / AuditRecord.HashSize) ?? records;
        return new(reader.GetInt64(0), ParseTimeOrMin(reader.GetString(1)), Blob(reader, 2), hashes, plain);
    }

    // The part of a batch that holds records `from` to `until` - 1 (the first one's PrevHash the stored
    // hash before it), or null when it holds none; `more` is set when it holds records from `until` on.
    // Each page is then exactly its range, so a batch across a page's end is neither read twice nor
    // left out, and one that overlaps it (a tampered copy) is still in the page that holds its start.
    private static AuditStoredBatch? Slice(AuditStoredBatch batch, long from, long until, ref bool more)
    {
        long count = batch.Bodies().CountRemaining();
        more |= batch.FirstSequence + count > until;
        var first = Math.Max(from, batch.FirstSequence) - batch.FirstSequence;
        var end = Math.Min(until, batch.FirstSequence + count) - batch.FirstSequence;
        if (first == 0 && end == count)
        {
            return batch;
        }

        if (end <= first)
        {
            return null;
        }

        // Both indexes are below the batch's record count, an int.
        var start = AuditBatchBlob.OffsetOf(batch.Records, (int)first);
        var stop = AuditBatchBlob.OffsetOf(batch.Records, (int)end);
        if (start < 0)
        {
            return null;
        }

        // A cut last record has no offset after it: the slice keeps it, and verify reports it.
        stop = stop < 0 ? batch.Records.Length : stop;
        var hashes = batch.Hashes.AsSpan();
        var hashFrom = (int)Math.Min(first * AuditRecord.HashSize, hashes.Length);
        var hashTo = (int)Math.Min(end * AuditRecord.HashSize, hashes.Length);
        return new AuditStoredBatch(batch.FirstSequence + first, batch.Time, first == 0 ? batch.PrevHash : batch.HashAt((int)first - 1).ToArray(),
            hashes[hashFrom..hashTo].ToArray(), batch.Records[start..stop]);
    }

    private static AuditCheckpoint Checkpoint(CheckpointRow row) => new(row.Seq, row.Hash, ParseTimeOrMin(row.Time), row.Mac);

    // Anything that does not parse is kept as a checkpoint whose MAC cannot hold: a forged or damaged
    // setting is reported by verify, never read as "nothing verified yet".
    private static AuditCheckpoint ParseVerified(string text)
    {
        var parts = text.Split(':');
        try
        {
            if (parts.Length == 4)
            {
                return new AuditCheckpoint(
                    long.Parse(parts[0], NumberStyles.None, CultureInfo.InvariantCulture),
                    Convert.FromHexString(parts[1]),
                    DateTimeOffset.FromUnixTimeMilliseconds(long.Parse(parts[2], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture)),
                    Convert.FromHexString(parts[3]));
            }
        }
        catch (Exception e) when (e is FormatException or OverflowException or ArgumentOutOfRangeException)
        {
        }

        return new AuditCheckpoint(0, [], DateTimeOffset.MinValue, []);
    }
}
