using Coffer.Audit;
using Coffer.Storage;

namespace Coffer.Server.Audit;

/// <summary>
/// Reads the durable audit chain in batches after a cursor: what every consumer that must not lose
/// records across restarts shares (the audit sinks' forwarders, the alert dispatcher). The consumer
/// keeps and saves its own cursor — a sink after delivering, the dispatcher in the same transaction
/// as its outbox rows.
/// </summary>
internal sealed class AuditChainReader(IAuditRepository audit, int batchSize)
{
    /// <summary>The records after <paramref name="cursor"/> (at most the batch size, ascending).</summary>
    /// <returns>
    /// Empty when caught up. <see cref="AuditBatch.RewoundTo"/> is set when the chain ends before the
    /// cursor: the database is older than the cursor (restored from a backup), the records after the
    /// chain's head are gone and new ones will reuse their numbers, so the consumer must continue from
    /// that head.
    /// </returns>
    public async Task<AuditBatch> ReadAfterAsync(long cursor, CancellationToken ct)
    {
        var head = await audit.GetHeadAsync(ct);
        if (head.Sequence < cursor)
        {
            return new AuditBatch([], head.Sequence);
        }

        if (head.Sequence == cursor)
        {
            return AuditBatch.Empty;
        }

        var page = await audit.ReadChainAsync(cursor + 1, batchSize, ct);
        return new AuditBatch(page.Records, null);
    }
}

/// <param name="RewoundTo">Set when the cursor is past the chain's head: continue from this sequence.</param>
internal sealed record AuditBatch(IReadOnlyList<AuditRecord> Records, long? RewoundTo)
{
    public static AuditBatch Empty { get; } = new([], null);
}
