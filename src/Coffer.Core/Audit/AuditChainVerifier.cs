using System.Globalization;

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
/// </remarks>
public sealed class AuditChainVerifier
{
    private readonly byte[] _key;
    private readonly AuditHead[] _expected;
    private readonly SortedDictionary<long, AuditCheckpoint> _checkpoints = [];
    private readonly long _firstSequence;
    private long _next;
    private byte[] _prev;
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
        _key = checkpointKey.ToArray();
        _expected = [.. new[] { expectedHead, anchor }.Where(h => h is { Sequence: > 0 }).Select(h => h!.Value)];
        _firstSequence = firstSequence;
        _next = firstSequence;
        _prev = firstPrevHash ?? AuditRecord.GenesisHash.ToArray();
        _lastCheckpoint = firstSequence - 1;
    }

    /// <summary>The first problem found so far, or null.</summary>
    public AuditProblem? Problem => _problem;

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

        foreach (var checkpoint in checkpoints)
        {
            if (checkpoint.Sequence >= _next)
            {
                _checkpoints[checkpoint.Sequence] = checkpoint;
            }
        }

        for (var i = 0; i < records.Count; i++)
        {
            if (!Check(records, i))
            {
                return false;
            }
        }

        return true;
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

        return new AuditVerification(_count, last, _lastCheckpoint >= _firstSequence ? _lastCheckpoint : 0, _problem) { LastHash = _prev };
    }

    private bool Check(IReadOnlyList<AuditRecord> records, int index)
    {
        var record = records[index];
        var seq = record.Sequence;
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

        if (!record.PrevHash.AsSpan().SequenceEqual(_prev))
        {
            // A record whose PrevHash is the stored hash of a later record has swapped places with it.
            for (var j = index + 1; j < records.Count; j++)
            {
                if (records[j].Hash.AsSpan().SequenceEqual(record.PrevHash))
                {
                    return Fail(AuditProblemKind.Reordered, seq,
                        Invariant($"record {seq} is out of order: it holds the record that followed record {records[j].Sequence}"));
                }
            }

            return Fail(AuditProblemKind.Changed, seq, Invariant($"record {seq} does not link to record {seq - 1}: its previous hash differs"));
        }

        if (!record.ComputeHash().AsSpan().SequenceEqual(record.Hash))
        {
            return Fail(AuditProblemKind.Changed, seq, Invariant($"record {seq} was changed: its hash does not match its contents"));
        }

        if (Array.Exists(_expected, h => h.Sequence == seq && !h.Hash.AsSpan().SequenceEqual(record.Hash)))
        {
            return Fail(AuditProblemKind.Rewritten, _lastCheckpoint + 1,
                Invariant($"record {seq} is not the record this server wrote there: records {_lastCheckpoint + 1} to {seq} were rewritten"));
        }

        if (_checkpoints.Remove(seq, out var checkpoint))
        {
            if (!AuditCheckpointMac.IsValid(_key, checkpoint))
            {
                return Fail(AuditProblemKind.BadCheckpoint, seq, Invariant($"the checkpoint at record {seq} has an invalid MAC"));
            }

            if (!checkpoint.Hash.AsSpan().SequenceEqual(record.Hash))
            {
                return Fail(AuditProblemKind.Rewritten, _lastCheckpoint + 1, _lastCheckpoint + 1 == seq
                    ? Invariant($"record {seq} was rewritten: the checkpoint at record {seq} names another hash")
                    : Invariant($"records {_lastCheckpoint + 1} to {seq} were rewritten: the checkpoint at record {seq} names another hash"));
            }

            _lastCheckpoint = seq;
        }

        _prev = record.Hash;
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
    /// <summary>The hash of record <see cref="LastSequence"/>: with it, an anchor to keep outside the database.</summary>
    public byte[] LastHash { get; init; } = new byte[AuditRecord.HashSize];

    public bool Ok => Problem is null;
}
