using System.Buffers;
using System.Buffers.Binary;
using Coffer.Audit;

namespace Coffer.Storage.Repositories;

/// <summary>
/// The two blobs of one stored audit batch (0016_audit_batches.sql; docs/formats.md, "Audit batch"):
/// <c>records</c> is each record's canonical body behind its u32be length, <c>hashes</c> each record's
/// 32-byte hash, in order. A record's sequence number is the batch's first plus its index; its time is
/// the batch's.
/// </summary>
public static class AuditBatchBlob
{
    private const int LengthSize = 4;

    /// <summary>Appends one record: its body to <paramref name="records"/>, its hash to <paramref name="hashes"/>.</summary>
    public static void Append(IBufferWriter<byte> records, IBufferWriter<byte> hashes, AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(records);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(record);
        var body = record.Body.Span;
        var span = records.GetSpan(LengthSize + body.Length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)body.Length);
        body.CopyTo(span[LengthSize..]);
        records.Advance(LengthSize + body.Length);
        hashes.Write(record.Hash);
    }

    /// <summary>The blobs of <paramref name="records"/>, as the writer stores them.</summary>
    public static (byte[] Records, byte[] Hashes) Encode(IEnumerable<AuditRecord> records)
    {
        ArgumentNullException.ThrowIfNull(records);
        var bodies = new ArrayBufferWriter<byte>();
        var hashes = new ArrayBufferWriter<byte>();
        foreach (var record in records)
        {
            Append(bodies, hashes, record);
        }

        return (bodies.WrittenSpan.ToArray(), hashes.WrittenSpan.ToArray());
    }

    /// <summary>
    /// The records of a stored batch exactly as stored: nothing is re-hashed or repaired. A body that
    /// does not decode becomes a record with an invalid outcome (its hash cannot match, so verify reports
    /// that record); a cut length ends the batch there; a missing hash reads as empty.
    /// </summary>
    public static List<AuditRecord> Decode(long firstSequence, DateTimeOffset time, byte[] prevHash, byte[] hashes, byte[] records)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(records);
        var result = new List<AuditRecord>();
        var previous = prevHash;
        foreach (var (offset, length) in Bodies(records))
        {
            var i = result.Count;
            var hash = (i + 1) * AuditRecord.HashSize <= hashes.Length
                ? hashes.AsSpan(i * AuditRecord.HashSize, AuditRecord.HashSize).ToArray()
                : [];
            var record = length >= 0 && AuditCanonicalReader.TryDecodeBody(records.AsSpan(offset, length), out var auditEvent, out var node)
                ? new AuditRecord(auditEvent, firstSequence + i, time, node, previous, hash)
                : new AuditRecord(Unreadable, firstSequence + i, time, string.Empty, previous, hash);
            result.Add(record);
            previous = hash;
        }

        return result;
    }

    /// <summary>The byte offset of record <paramref name="index"/> (0-based) in a records blob, or -1 when
    /// the blob has fewer well-formed records before it.</summary>
    public static int OffsetOf(byte[] records, int index)
    {
        ArgumentNullException.ThrowIfNull(records);
        var seen = 0;
        foreach (var (offset, length) in Bodies(records))
        {
            if (seen++ == index)
            {
                return offset - LengthSize;
            }

            if (length < 0)
            {
                return -1;
            }
        }

        return seen == index ? records.Length : -1;
    }

    // Stands for a stored body that is not a canonical body at all: tampering, reported by the verifier.
    private static readonly AuditEvent Unreadable = new() { Action = string.Empty, Outcome = (AuditOutcome)(-1) };

    // (offset of the body, its length), or length -1 once a length runs past the end (the last item).
    private static IEnumerable<(int Offset, int Length)> Bodies(byte[] records)
    {
        var at = 0;
        while (at < records.Length)
        {
            if (records.Length - at < LengthSize)
            {
                yield return (at + LengthSize, -1);
                yield break;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(records.AsSpan(at));
            if (length > (uint)(records.Length - at - LengthSize))
            {
                yield return (at + LengthSize, -1);
                yield break;
            }

            yield return (at + LengthSize, (int)length);
            at += LengthSize + (int)length;
        }
    }
}
