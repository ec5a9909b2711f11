using System.Buffers.Binary;

namespace Coffer.Audit;

/// <summary>
/// One stored audit batch as bytes, decoded no further than its blobs (docs/formats.md, "Audit batch"):
/// what verify hashes. <see cref="Records"/> is each record's canonical body behind its u32be length,
/// <see cref="Hashes"/> each record's 32-byte hash, in order; record i's sequence is
/// <see cref="FirstSequence"/> + i, its time <see cref="Time"/>, and its PrevHash the hash before it
/// (<see cref="PrevHash"/> for the first). Exactly as stored: nothing is checked or repaired here.
/// </summary>
public sealed record AuditStoredBatch(long FirstSequence, DateTimeOffset Time, byte[] PrevHash, byte[] Hashes, byte[] Records)
{
    /// <summary>The stored hash of record <paramref name="index"/>, or empty when the hashes blob is too short.</summary>
    public ReadOnlySpan<byte> HashAt(int index) =>
        index >= 0 && (long)(index + 1) * AuditRecord.HashSize <= Hashes.Length
            ? Hashes.AsSpan(index * AuditRecord.HashSize, AuditRecord.HashSize)
            : [];

    /// <summary>The records' bodies in order, as <see cref="Coffer.Storage"/>'s decoder reads them.</summary>
    public AuditBodyReader Bodies() => new(Records);
}

/// <summary>
/// Reads the length-prefixed bodies of a records blob, allocating nothing. A length that runs past the
/// end is the last item, <see cref="IsCut"/> and empty: that record cannot be read, and nothing after it.
/// </summary>
public ref struct AuditBodyReader(ReadOnlySpan<byte> records)
{
    private const int LengthSize = 4;

    private ReadOnlySpan<byte> _rest = records;

    public ReadOnlySpan<byte> Current { get; private set; }

    /// <summary>The current body's length was cut (or runs past the blob): it is no record.</summary>
    public bool IsCut { get; private set; }

    public bool MoveNext()
    {
        if (_rest.IsEmpty || IsCut)
        {
            return false;
        }

        if (_rest.Length < LengthSize || BinaryPrimitives.ReadUInt32BigEndian(_rest) > (uint)(_rest.Length - LengthSize))
        {
            IsCut = true;
            Current = default;
            _rest = default;
            return true;
        }

        var length = (int)BinaryPrimitives.ReadUInt32BigEndian(_rest);
        Current = _rest.Slice(LengthSize, length);
        _rest = _rest[(LengthSize + length)..];
        return true;
    }

    /// <summary>How many items are left, a cut one included (the reader itself does not move).</summary>
    public readonly int CountRemaining()
    {
        var copy = this;
        var count = 0;
        while (copy.MoveNext())
        {
            count++;
        }

        return count;
    }
}
