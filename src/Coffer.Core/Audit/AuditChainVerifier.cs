using System.Globalization;
using System.Security.Cryptography;

namespace Coffer.Audit;

/// <summary>
/// Walks an audit chain and finds its first problem: a changed record, a missing one, two swapped,
/// a checkpoint whose MAC fails, a chain rewritten under a valid checkpoint, a removed tail, or
/// records no checkpoint proves. Pure: no I/O, no clock; fed page by page in sequence order.
/// </summary>
/// <remarks>
/// What it proves: every record links to the one before (<c>PrevHash</c>) and hashes to its stored
/// <c>Hash</c>; every checkpoint's MAC holds under the audit key and names the hash of the record at
/// its sequence. An editor without the key can change or rebuild the chain, but not past a
/// checkpoint. What it cannot prove alone: that the newest records were not removed together with
/// their checkpoints — that needs a head from outside the database (the running server's, or one
/// anchored externally), passed as <c>expectedHead</c>.
/// <para>Stored batches (<see cref="Add(IReadOnlyList{AuditStoredBatch}, IEnumerable{AuditCheckpoint})"/>)
/// are checked as bytes: each body must be canonical and hash, as stored, to its hash. That is the
/// verdict decoding each record and encoding it again would give, without allocating per record; one
/// SHA-256 buffer and one keyed HMAC serve the whole walk.</para>
/// </remarks>
public sealed class AuditChainVerifier : IDisposable
{
    private const int HeadSize = 17; // AuditCanonical's format byte, u64be(seq), i64be(unix ms)

    private readonly IncrementalHash _mac;
    private readonly AuditHead[] _expected;
    private readonly SortedDictionary<long, AuditCheckpoint> _checkpoints = [];
    private readonly long _firstSequence;
    private readonly byte[] _prev = new byte[AuditRecord.HashSize];
    private byte[] _hashInput = new byte[1024];
    private long _next;
    private long _count;
    private long _lastCheckpoint;
    private AuditProblem? _problem;

    /// <param name="checkpointKey">The audit checkpoint key (32 bytes); copied.</param>
    /// <param name="expectedHead">The head the writer last committed, if known: a chain that ends
    /// before it was truncated.</param>
    /// <param name="anchor">A (sequence, hash) kept outside the database earlier (e.g. from a previous
    /// verify, in a SIEM): the chain must still hold that record with that hash. This is what finds a
    /// rollback after a restart, when the server's own head came from the database.</param>
    /// <param name="firstSequence">Where the walk starts (1 for a whole chain).</param>
    /// <param name="firstPrevHash">The PrevHash of the first record (32 zero bytes for record 1).</param>
    public AuditChainVerifier(ReadOnlySpan<byte> checkpointKey, AuditHead? expectedHead = null, long firstSequence = 1, byte[]? firstPrevHash = null, AuditHead? anchor = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(firstSequence, 1);
        _mac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, checkpointKey);
        _expected = [.. new[] { expectedHead, anchor }.Where(h => h is { Sequence: > 0 }).Select(h => h!.Value)];
        _firstSequence = firstSequence;
        _next = firstSequence;
        if (firstPrevHash is not null)
        {
            ArgumentOutOfRangeException.ThrowIfNotEqual(firstPrevHash.Length, AuditRecord.HashSize, nameof(firstPrevHash));
            firstPrevHash.CopyTo(_prev, 0);
        }

        _lastCheckpoint = firstSequence - 1;
    }

    /// <summary>The first problem found so far, or null.</summary>
    public AuditProblem? Problem => _problem;

    /// <summary>Records checked so far (for progress).</summary>
    public long Records => _count;

    /// <summary>The last record checked so far (for progress).</summary>
    public long LastSequence => _next - 1;

    /// <summary>
    /// Checks the next records (ascending, continuing where the last call ended) and the checkpoints
    /// stored for their range — or for any later sequence, on the last page. Returns false once a
    /// problem is found; further calls do nothing.
    /// </summary>
    public bool Add(IReadOnlyList<AuditRecord> records, IEnumerable<AuditCheckpoint> checkpoints)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(checkpoints);
        if (_problem is not null)
        {
            return false;
        }

        Register(checkpoints);
        for (var i = 0; i < records.Count; i++)
        {
            if (!Check(records, i))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="Add(IReadOnlyList{AuditRecord}, IEnumerable{AuditCheckpoint})"/> for stored batches
    /// (ascending, continuing where the last call ended), checked as the bytes they hold.
    /// </summary>
    public bool Add(IReadOnlyList<AuditStoredBatch> batches, IEnumerable<AuditCheckpoint> checkpoints)
    {
        ArgumentNullException.ThrowIfNull(batches);
        ArgumentNullException.ThrowIfNull(checkpoints);
        if (_problem is not null)
        {
            return false;
        }

        Register(checkpoints);
        for (var b = 0; b < batches.Count; b++)
        {
            if (!Check(batches, b))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Frees the keyed HMAC (the only copy of the key it keeps).</summary>
    public void Dispose() => _mac.Dispose();

    private void Register(IEnumerable<AuditCheckpoint> checkpoints)
    {
        foreach (var checkpoint in checkpoints)
        {
            if (checkpoint.Sequence >= _next)
            {
                _checkpoints[checkpoint.Sequence] = checkpoint;
            }
        }
    }

    /// <summary>The verdict once every record and checkpoint was added.</summary>
    public AuditVerification Complete()
    {
        var last = _next - 1;
        if (_problem is null)
        {
            var orphan = _checkpoints.Keys.FirstOrDefault(seq => seq > last);
            if (orphan > last)
            {
                Fail(AuditProblemKind.Truncated, last + 1, Invariant(
                    $"records {last + 1} to {orphan} were removed: the chain ends at record {last}, but a checkpoint names record {orphan}"));
            }
            else if (_expected.Length > 0 && _expected.Max(h => h.Sequence) is var expectedLast && expectedLast > last)
            {
                Fail(AuditProblemKind.Truncated, last + 1, Invariant(
                    $"records {last + 1} to {expectedLast} were removed: the chain ends at record {last}, but record {expectedLast} was written"));
            }
            else if (_lastCheckpoint < last)
            {
                Fail(AuditProblemKind.Unproven, _lastCheckpoint + 1,
                    _lastCheckpoint < _firstSequence
                        ? Invariant($"no valid checkpoint covers records {_lastCheckpoint + 1} to {last}; they cannot be proven unchanged")
                        : Invariant($"records {_lastCheckpoint + 1} to {last} come after the last valid checkpoint ({_lastCheckpoint}) and cannot be proven unchanged"));
            }
        }

        // A walk that starts after record 1 starts on a MAC-proven point (an archive's cut, a verified
        // checkpoint), so its last proven record is at least that one.
        return new AuditVerification(_count, last, _lastCheckpoint, _problem) { LastHash = _prev.ToArray(), FirstSequence = _firstSequence };
    }

    private bool Check(IReadOnlyList<AuditRecord> records, int index)
    {
        var record = records[index];
        var seq = record.Sequence;
        if (!CheckPlace(seq))
        {
            return false;
        }

        if (!record.PrevHash.AsSpan().SequenceEqual(_prev))
        {
            // A record whose PrevHash is the stored hash of a later record has swapped places with it.
            for (var j = index + 1; j < records.Count; j++)
            {
                if (records[j].Hash.AsSpan().SequenceEqual(record.PrevHash))
                {
                    return Swapped(seq, records[j].Sequence);
                }
            }

            return Unlinked(seq);
        }

        if (!record.ComputeHash().AsSpan().SequenceEqual(record.Hash))
        {
            return Changed(seq);
        }

        return Accept(seq, record.Hash);
    }

    // Batch `index` of the page, record by record, as Check(records, i) checks the records the storage
    // decodes from it: within a batch each record's PrevHash is the stored hash before it, so only the
    // batch's first record can fail to link.
    private bool Check(IReadOnlyList<AuditStoredBatch> batches, int index)
    {
        var batch = batches[index];
        var ms = batch.Time.ToUnixTimeMilliseconds();
        var bodies = batch.Bodies();
        for (var i = 0; bodies.MoveNext(); i++)
        {
            var seq = batch.FirstSequence + i;
            if (i == 0)
            {
                if (!CheckPlace(seq))
                {
                    return false;
                }

                if (!batch.PrevHash.AsSpan().SequenceEqual(_prev))
                {
                    return SwappedWithin(batches, index) is { } later ? Swapped(seq, later) : Unlinked(seq);
                }
            }

            var hash = batch.HashAt(i);
            if (bodies.IsCut || !AuditCanonicalReader.IsCanonicalBody(bodies.Current) || !HashIs(seq, ms, bodies.Current, hash))
            {
                return Changed(seq);
            }

            if (!Accept(seq, hash))
            {
                return false;
            }
        }

        return true;
    }

    // The sequence of a later record of the page whose stored hash is the PrevHash of batch `index`.
    private static long? SwappedWithin(IReadOnlyList<AuditStoredBatch> batches, int index)
    {
        var prev = batches[index].PrevHash;
        for (var b = index; b < batches.Count; b++)
        {
            var batch = batches[b];
            var count = batch.Bodies().CountRemaining();
            for (var i = b == index ? 1 : 0; i < count; i++)
            {
                if (batch.HashAt(i).SequenceEqual(prev))
                {
                    return batch.FirstSequence + i;
                }
            }
        }

        return null;
    }

    // SHA-256(prev || 0x01 || u64be(seq) || i64be(ms) || body) == hash: AuditCanonical.ComputeHash over
    // the stored body, in one buffer kept for the whole walk.
    private bool HashIs(long seq, long ms, ReadOnlySpan<byte> body, ReadOnlySpan<byte> hash)
    {
        if (hash.Length != AuditRecord.HashSize)
        {
            return false;
        }

        var length = AuditRecord.HashSize + HeadSize + body.Length;
        if (_hashInput.Length < length)
        {
            _hashInput = new byte[Math.Max(length, _hashInput.Length * 2)];
        }

        var input = _hashInput.AsSpan(0, length);
        _prev.CopyTo(input);
        input[AuditRecord.HashSize] = AuditCanonical.FormatV1;
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64BigEndian(input[(AuditRecord.HashSize + 1)..], (ulong)seq);
        System.Buffers.Binary.BinaryPrimitives.WriteInt64BigEndian(input[(AuditRecord.HashSize + 9)..], ms);
        body.CopyTo(input[(AuditRecord.HashSize + HeadSize)..]);
        Span<byte> computed = stackalloc byte[AuditRecord.HashSize];
        SHA256.HashData(input, computed);
        return computed.SequenceEqual(hash);
    }

    private bool CheckPlace(long seq)
    {
        if (seq > _next)
        {
            return Fail(AuditProblemKind.Missing, _next, seq == _next + 1
                ? Invariant($"record {_next} is missing (gap after record {_next - 1})")
                : Invariant($"records {_next} to {seq - 1} are missing (gap after record {_next - 1})"));
        }

        if (seq < _next)
        {
            return Fail(AuditProblemKind.Reordered, seq, Invariant($"record {seq} appears again after record {_next - 1}"));
        }

        return true;
    }

    private bool Swapped(long seq, long later) => Fail(AuditProblemKind.Reordered, seq,
        Invariant($"record {seq} is out of order: it holds the record that followed record {later}"));

    private bool Unlinked(long seq) =>
        Fail(AuditProblemKind.Changed, seq, Invariant($"record {seq} does not link to record {seq - 1}: its previous hash differs"));

    private bool Changed(long seq) =>
        Fail(AuditProblemKind.Changed, seq, Invariant($"record {seq} was changed: its hash does not match its contents"));

    // The record at `seq` hashes to `hash` and links to the one before: checks it against the heads
    // known from outside and the checkpoint at it, then moves on.
    private bool Accept(long seq, ReadOnlySpan<byte> hash)
    {
        foreach (var h in _expected)
        {
            if (h.Sequence == seq && !h.Hash.AsSpan().SequenceEqual(hash))
            {
                return Fail(AuditProblemKind.Rewritten, _lastCheckpoint + 1,
                    Invariant($"record {seq} is not the record this server wrote there: records {_lastCheckpoint + 1} to {seq} were rewritten"));
            }
        }

        if (_checkpoints.Count > 0 && _checkpoints.Remove(seq, out var checkpoint))
        {
            if (!AuditCheckpointMac.IsValid(_mac, checkpoint))
            {
                return Fail(AuditProblemKind.BadCheckpoint, seq, Invariant($"the checkpoint at record {seq} has an invalid MAC"));
            }

            if (!checkpoint.Hash.AsSpan().SequenceEqual(hash))
            {
                return Fail(AuditProblemKind.Rewritten, _lastCheckpoint + 1, _lastCheckpoint + 1 == seq
                    ? Invariant($"record {seq} was rewritten: the checkpoint at record {seq} names another hash")
                    : Invariant($"records {_lastCheckpoint + 1} to {seq} were rewritten: the checkpoint at record {seq} names another hash"));
            }

            _lastCheckpoint = seq;
        }

        hash.CopyTo(_prev);
        _next = seq + 1;
        _count++;
        return true;
    }

    private bool Fail(AuditProblemKind kind, long sequence, string message)
    {
        _problem ??= new AuditProblem(kind, sequence, message);
        return false;
    }

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}

public enum AuditProblemKind
{
    /// <summary>A record's contents or links do not match its hashes.</summary>
    Changed,

    /// <summary>One or more sequence numbers are absent.</summary>
    Missing,

    /// <summary>Records were swapped or repeated.</summary>
    Reordered,

    /// <summary>A checkpoint's MAC fails: it was not made with this installation's audit key.</summary>
    BadCheckpoint,

    /// <summary>A valid checkpoint (or the server's own head) names a different hash: the chain before it was rebuilt.</summary>
    Rewritten,

    /// <summary>Records at the end were removed.</summary>
    Truncated,

    /// <summary>Records after the last valid checkpoint: consistent, but not provably unchanged.</summary>
    Unproven,
}

/// <param name="Sequence">The first record the problem concerns.</param>
public sealed record AuditProblem(AuditProblemKind Kind, long Sequence, string Message);

/// <param name="Records">Records checked before the first problem (all of them when there is none).</param>
/// <param name="LastSequence">The last record that passed.</param>
/// <param name="LastCheckpoint">The last record covered by a valid checkpoint (0 for none).</param>
public sealed record AuditVerification(long Records, long LastSequence, long LastCheckpoint, AuditProblem? Problem)
{
    /// <summary>Where the walk started: 1, or the record after an archive's cut or a verified checkpoint.</summary>
    public long FirstSequence { get; init; } = 1;

    /// <summary>The hash of record <see cref="LastSequence"/>: with it, an anchor to keep outside the database.</summary>
    public byte[] LastHash { get; init; } = new byte[AuditRecord.HashSize];

    public bool Ok => Problem is null;
}
