using System.Buffers;
using System.Buffers.Binary;
using System.Globalization;
using System.IO.Compression;
using Coffer.Audit;

namespace Coffer.Storage.Repositories;

/// <summary>
/// The two blobs of one stored audit batch (0016_audit_batches.sql; docs/formats.md, "Audit batch";
/// docs/audit-storage.md): <c>hashes</c> is each record's 32-byte hash, in order; <c>records</c> holds each
/// record's canonical body behind its u32be length (the plain form), stored as it is or packed with Brotli.
/// A record's sequence number is the batch's first plus its index; its time is the batch's.
/// </summary>
/// <remarks>
/// The plain form always begins with 0x00, the high byte of a body's length (a body is far below
/// 16 MiB), so the packed form's first byte, <see cref="PackedFormat"/>, tells the two apart and batches
/// written before packing read as they always did. Packing changes no byte the hashes cover: reading
/// unpacks to exactly the plain form, which the chain's hashes then check.
/// </remarks>
public static class AuditBatchBlob
{
    /// <summary>The first byte of a packed records blob: <c>0x01 || u32be(plain length) || Brotli(plain)</c>.</summary>
    public const byte PackedFormat = 0x01;

    /// <summary>Benchmark only: set to 1, the audit writer stores batches plain, as before packing, so a
    /// bench can compare the two in one run (bench/README.md, "Audit storage"). Both are valid stored
    /// forms, so it changes their size and nothing else; never a configuration option.</summary>
    public const string UnpackedEnvironmentVariable = "COFFER_BENCHMARK_AUDIT_UNPACKED";

    private const int LengthSize = 4;

    private const int PackedHeaderSize = 1 + LengthSize;

    // Brotli's fastest setting: at the batch sizes the writer commits, higher qualities saved 10-15 %
    // more for three to five times the CPU on the writer's serial path (docs/audit-storage.md).
    private const int PackQuality = 1;

    private const int PackWindow = 22;

    // The longest canonical body: 22 text fields of at most 1024 UTF-16 units (3 UTF-8 bytes each) behind
    // their lengths, and the two optional numbers. It bounds what a packed blob may claim to unpack to.
    private const int MaxBodySize = 22 * (LengthSize + (3 * AuditCanonical.MaxFieldLength)) + 5 + 9;

    /// <summary>Appends one record in the plain form: its body to <paramref name="records"/>, its hash to <paramref name="hashes"/>.</summary>
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

    /// <summary>
    /// The records blob to store for a <paramref name="plain"/> one: packed into <paramref name="buffer"/>
    /// (cleared first) when that is smaller, else <paramref name="plain"/> itself.
    /// </summary>
    public static ReadOnlyMemory<byte> Pack(ReadOnlyMemory<byte> plain, ArrayBufferWriter<byte> buffer)
    {
        ArgumentNullException.ThrowIfNull(buffer);
        buffer.ResetWrittenCount();
        if (plain.Length <= PackedHeaderSize)
        {
            return plain;
        }

        // Room for less than the plain form only: a batch that does not shrink stays plain.
        var span = buffer.GetSpan(plain.Length)[..(plain.Length - 1)];
        span[0] = PackedFormat;
        BinaryPrimitives.WriteUInt32BigEndian(span[1..], (uint)plain.Length);
        if (!BrotliEncoder.TryCompress(plain.Span, span[PackedHeaderSize..], out var written, PackQuality, PackWindow))
        {
            return plain;
        }

        buffer.Advance(PackedHeaderSize + written);
        return buffer.WrittenMemory;
    }

    /// <summary>
    /// The plain form of a stored records blob: a plain one as it is, a packed one unpacked; null when a
    /// packed one does not unpack to the length it names (or to more than <paramref name="recordCount"/>
    /// records could be).
    /// </summary>
    public static byte[]? Unpack(byte[] stored, int recordCount)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (stored.Length == 0 || stored[0] != PackedFormat)
        {
            return stored;
        }

        if (stored.Length < PackedHeaderSize)
        {
            return null;
        }

        var length = BinaryPrimitives.ReadUInt32BigEndian(stored.AsSpan(1));
        if (length > (ulong)Math.Max(1, recordCount) * (LengthSize + MaxBodySize))
        {
            return null;
        }

        var plain = new byte[length];
        return BrotliDecoder.TryDecompress(stored.AsSpan(PackedHeaderSize), plain, out var written) && written == plain.Length ? plain : null;
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

        return (Pack(bodies.WrittenMemory, new ArrayBufferWriter<byte>()).ToArray(), hashes.WrittenSpan.ToArray());
    }

    /// <summary>
    /// The records of a stored batch exactly as stored: nothing is re-hashed or repaired. A body that
    /// does not decode becomes a record with an invalid outcome (its hash cannot match, so verify reports
    /// that record); a cut length ends the batch there; a missing hash reads as empty. A packed blob that
    /// does not unpack reads as one such record per stored hash, each saying so in its details.
    /// </summary>
    /// <param name="mustContain">Byte strings the unpacked records must all contain, else none of them is
    /// decoded and the batch reads as empty: a listing's search of packed batches (<see cref="AuditBatchFilter"/>).</param>
    public static List<AuditRecord> Decode(long firstSequence, DateTimeOffset time, byte[] prevHash, byte[] hashes, byte[] records,
        IReadOnlyList<byte[]>? mustContain = null)
    {
        ArgumentNullException.ThrowIfNull(prevHash);
        ArgumentNullException.ThrowIfNull(hashes);
        ArgumentNullException.ThrowIfNull(records);
        var count = hashes.Length / AuditRecord.HashSize;
        var plain = Unpack(records, count);
        var result = new List<AuditRecord>();
        var previous = prevHash;
        if (plain is null)
        {
            var unreadable = Unreadable with
            {
                Details = string.Create(CultureInfo.InvariantCulture,
                    $"unreadable: the stored batch of records {firstSequence} to {firstSequence + Math.Max(1, count) - 1} does not decompress"),
            };
            for (var i = 0; i < Math.Max(1, count); i++)
            {
                var hash = HashAt(hashes, i);
                result.Add(new AuditRecord(unreadable, firstSequence + i, time, string.Empty, previous, hash));
                previous = hash;
            }

            return result;
        }

        if (mustContain is not null && !mustContain.All(bytes => plain.AsSpan().IndexOf(bytes) >= 0))
        {
            return result;
        }

        foreach (var (offset, length) in Bodies(plain))
        {
            var i = result.Count;
            var hash = HashAt(hashes, i);
            var record = length >= 0 && AuditCanonicalReader.TryDecodeBody(plain.AsSpan(offset, length), out var auditEvent, out var node)
                ? new AuditRecord(auditEvent, firstSequence + i, time, node, previous, hash)
                : new AuditRecord(Unreadable, firstSequence + i, time, string.Empty, previous, hash);
            result.Add(record);
            previous = hash;
        }

        return result;
    }

    /// <summary>
    /// The stored records blob of what follows the first <paramref name="cut"/> records of a stored one of
    /// <paramref name="recordCount"/> records (an archive cut inside a batch), or null when it does not
    /// unpack or has fewer well-formed records before the cut.
    /// </summary>
    public static byte[]? After(byte[] stored, int recordCount, int cut)
    {
        ArgumentNullException.ThrowIfNull(stored);
        if (Unpack(stored, recordCount) is not { } plain || OffsetOf(plain, cut) is not (>= 0 and var offset))
        {
            return null;
        }

        return Pack(plain.AsMemory(offset), new ArrayBufferWriter<byte>()).ToArray();
    }

    // Stands for a stored body that is not a canonical body at all: tampering, reported by the verifier.
    private static readonly AuditEvent Unreadable = new() { Action = string.Empty, Outcome = (AuditOutcome)(-1) };

    private static byte[] HashAt(byte[] hashes, int index) =>
        (index + 1) * AuditRecord.HashSize <= hashes.Length ? hashes.AsSpan(index * AuditRecord.HashSize, AuditRecord.HashSize).ToArray() : [];

    // The byte offset of record `index` (0-based) in a plain blob, or -1 when the blob has fewer
    // well-formed records before it.
    /// <summary>Where record <paramref name="index"/> of a plain records blob starts, or -1 when it has fewer well-formed records.</summary>
    public static int OffsetOf(byte[] plain, int index)
    {
        var seen = 0;
        foreach (var (offset, length) in Bodies(plain))
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

        return seen == index ? plain.Length : -1;
    }

    // (offset of the body, its length), or length -1 once a length runs past the end (the last item).
    private static IEnumerable<(int Offset, int Length)> Bodies(byte[] plain)
    {
        var at = 0;
        while (at < plain.Length)
        {
            if (plain.Length - at < LengthSize)
            {
                yield return (at + LengthSize, -1);
                yield break;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(plain.AsSpan(at));
            if (length > (uint)(plain.Length - at - LengthSize))
            {
                yield return (at + LengthSize, -1);
                yield break;
            }

            yield return (at + LengthSize, (int)length);
            at += LengthSize + (int)length;
        }
    }
}
