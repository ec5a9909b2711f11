using Coffer.Audit;

namespace Coffer.Storage;

/// <summary>
/// The audit chain's records and checkpoints (docs/design.md, "Audit"). Append-only: nothing here
/// updates or deletes a record. Storage is untrusted (docs/style.md, practice 3): what it returns is
/// checked by <see cref="AuditChainVerifier"/>, never believed. Thread-safe.
/// </summary>
public interface IAuditRepository
{
    /// <summary>
    /// Appends the batch <paramref name="chain"/> makes from the stored end of the chain, in one
    /// transaction that holds the chain's lock from reading that end to the commit and is durable
    /// (fsync'd) when the task completes: writers on several nodes interleave into one chain. Nothing
    /// is written unless everything is.
    /// </summary>
    /// <param name="chain">Called once, under the lock, with the stored end; returns records that
    /// continue it (ascending, contiguous, the first linked to the end) and, when given, the checkpoint
    /// over the last of them. It must be quick and do no I/O: every writer of the cluster waits for it.
    /// Whatever it throws fails the append (nothing is written) and is thrown again.</param>
    /// <exception cref="ArgumentException">The batch is empty, not contiguous, or does not continue the
    /// end it was given.</exception>
    Task AppendAsync(Func<AuditChainEnd, AuditChainedBatch> chain, CancellationToken ct = default);

    /// <summary>
    /// Appends <paramref name="records"/> (ascending, contiguous) and, when given, the checkpoint over
    /// the last of them, as <see cref="AppendAsync(Func{AuditChainEnd, AuditChainedBatch}, CancellationToken)"/>
    /// does, only if they continue the stored chain as they are.
    /// </summary>
    /// <exception cref="ConflictException">The first record does not follow the stored head (its sequence is
    /// not head + 1 or its PrevHash is not the head's hash): another writer appended, or records were removed.</exception>
    Task AppendAsync(IReadOnlyList<AuditRecord> records, AuditCheckpoint? checkpoint, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(records);
        if (records.Count == 0)
        {
            throw new ArgumentException("An append needs at least one record.", nameof(records));
        }

        return AppendAsync(end => records[0].Follows(end.Head)
            ? new AuditChainedBatch(records, checkpoint)
            : throw new ConflictException(string.Create(System.Globalization.CultureInfo.InvariantCulture,
                $"the audit batch starting at record {records[0].Sequence} does not follow the stored head (record {end.Head.Sequence})")), ct);
    }

    /// <summary>The sequence of the last stored checkpoint; 0 when there is none.</summary>
    Task<long> GetLastCheckpointAsync(CancellationToken ct = default);

    /// <summary>The last stored record's sequence and hash; <see cref="AuditHead.Empty"/> when there is none.</summary>
    Task<AuditHead> GetHeadAsync(CancellationToken ct = default);

    /// <summary>
    /// Up to <paramref name="limit"/> records with sequence &gt;= <paramref name="fromSequence"/>, ascending,
    /// with the checkpoints of the same range — and, when fewer than <paramref name="limit"/> records are
    /// left (the end of the chain), every checkpoint from <paramref name="fromSequence"/> on. Both are read
    /// from one consistent snapshot, so a batch committed meanwhile is either wholly in it or not at all.
    /// </summary>
    Task<AuditChainPage> ReadChainAsync(long fromSequence, int limit, CancellationToken ct = default);

    /// <summary>
    /// Records <paramref name="fromSequence"/> to <paramref name="fromSequence"/> + <paramref name="records"/> - 1
    /// as stored, undecoded (<see cref="AuditStoredBatch"/>: what verify hashes), with the checkpoints of
    /// that range — and every checkpoint from <paramref name="fromSequence"/> on when it is the last
    /// page. One consistent snapshot, as <see cref="ReadChainAsync"/>; reads only the batches of that
    /// range, so walking a chain page by page (from each page's <c>Next</c>) reads each batch once.
    /// </summary>
    Task<AuditStoredPage> ReadStoredBatchesAsync(long fromSequence, int records, CancellationToken ct = default);

    /// <summary>Where the last successful verify ended (<see cref="AuditVerifiedCheckpoint"/>), or null.
    /// Stored, so untrusted: a value that does not parse comes back with a MAC that cannot hold.</summary>
    Task<AuditCheckpoint?> GetVerifiedCheckpointAsync(CancellationToken ct = default);

    /// <summary>Replaces the verified checkpoint.</summary>
    Task SaveVerifiedCheckpointAsync(AuditCheckpoint verified, CancellationToken ct = default);

    /// <summary>Records matching every given filter, newest first, one page at a time (keyset paging on the sequence).</summary>
    Task<AuditPage> QueryAsync(AuditQuery query, CancellationToken ct = default);

    /// <summary>The latest checkpoint at or before <paramref name="sequence"/>, or null.</summary>
    Task<AuditCheckpoint?> GetCheckpointAtOrBeforeAsync(long sequence, CancellationToken ct = default);

    /// <summary>Every archive cut, oldest first.</summary>
    Task<IReadOnlyList<AuditArchive>> ListArchivesAsync(CancellationToken ct = default);

    /// <summary>Stores an archive cut. From then on the chain starts after its ThroughSequence; the
    /// records it covers are removed afterwards by <see cref="PruneArchivedAsync"/>.</summary>
    /// <exception cref="ConflictException">It does not start right after the last cut.</exception>
    Task AddArchiveAsync(AuditArchive archive, CancellationToken ct = default);

    /// <summary>
    /// Removes up to <paramref name="limit"/> of the oldest records with sequence &lt;=
    /// <paramref name="throughSequence"/> (and the checkpoints before it), in a short transaction of its
    /// own so that the audit writer never waits long; returns how many records went (0: done).
    /// </summary>
    Task<int> PruneArchivedAsync(long throughSequence, int limit, CancellationToken ct = default);
}

/// <summary>A filter and page over audit records; null filters are off. <see cref="Before"/> is the
/// <c>Next</c> of the previous page (a sequence number): the page holds only older records.</summary>
public sealed record AuditQuery
{
    public DateTimeOffset? From { get; init; }

    /// <summary>Exclusive upper bound on the record time.</summary>
    public DateTimeOffset? To { get; init; }

    public string? KeyId { get; init; }

    public string? KeyStore { get; init; }

    /// <summary>Who made the records, as a listing shows them: the actor's id (an access key id, a
    /// token, user or app id), or for an actor that has none its kind (<c>system</c> for scheduled
    /// work and start-up, <c>anonymous</c>), so every actor a listing shows can be filtered on.</summary>
    public string? Actor { get; init; }

    public string? Action { get; init; }

    public AuditOutcome? Outcome { get; init; }

    public string? KmsRequestId { get; init; }

    public string? AwsRegion { get; init; }

    public string? AwsAccount { get; init; }

    public long? Before { get; init; }

    public int Limit { get; init; } = 100;

    /// <summary>Whether <paramref name="record"/> passes every filter and lies before <see cref="Before"/>:
    /// the exact test, wherever the record was read from (a stored batch, an archive file).</summary>
    public bool Matches(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        var e = record.Event;
        return (Before is not { } before || record.Sequence < before)
            && (From is not { } from || record.Time >= from)
            && (To is not { } to || record.Time < to)
            && (KeyId is null || e.KeyId == KeyId)
            && (KeyStore is null || e.KeyStore == KeyStore)
            && (Actor is null || (e.ActorId ?? e.ActorKind) == Actor)
            && (Action is null || e.Action == Action)
            && (Outcome is null || e.Outcome == Outcome)
            && (KmsRequestId is null || e.KmsRequestId == KmsRequestId)
            && (AwsRegion is null || e.AwsRegion == AwsRegion)
            && (AwsAccount is null || e.AwsAccount == AwsAccount);
    }
}

/// <summary>The stored end of the audit chain, as an append holding the chain's lock reads it.</summary>
/// <param name="Head">The last stored record (<see cref="AuditHead.Empty"/> for none).</param>
/// <param name="LastCheckpoint">The sequence of the last stored checkpoint; 0 when there is none.</param>
public readonly record struct AuditChainEnd(AuditHead Head, long LastCheckpoint);

/// <summary>What one append stores: records continuing the chain's end, and the checkpoint over the
/// last of them or null.</summary>
public sealed record AuditChainedBatch(IReadOnlyList<AuditRecord> Records, AuditCheckpoint? Checkpoint);

/// <param name="IsLast">Fewer records than asked for were left: this page ends the stored chain.</param>
public sealed record AuditChainPage(IReadOnlyList<AuditRecord> Records, IReadOnlyList<AuditCheckpoint> Checkpoints, bool IsLast);

/// <param name="Next">The cursor of the next (older) page, or null on the last page.</param>
public sealed record AuditPage(IReadOnlyList<AuditRecord> Records, long? Next);

/// <summary>Records <c>From</c> to <see cref="Next"/> - 1 of the chain as stored, in whole or cut batches.</summary>
/// <param name="Checkpoints">The checkpoints of that range, or every one from its start on when <paramref name="IsLast"/>.</param>
/// <param name="Next">Where the next page starts.</param>
/// <param name="IsLast">No record is stored from <paramref name="Next"/> on.</param>
public sealed record AuditStoredPage(IReadOnlyList<AuditStoredBatch> Batches, IReadOnlyList<AuditCheckpoint> Checkpoints, long Next, bool IsLast);
