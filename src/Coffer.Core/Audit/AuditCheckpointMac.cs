using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Coffer.Audit;

/// <summary>
/// The MAC of an audit checkpoint (docs/formats.md, "Audit checkpoint"):
/// <c>HMAC-SHA256(auditKey, "coffer-audit-checkpoint-v1" || u64be(seq) || hash(32) || u64be(unix ms))</c>,
/// where auditKey is <c>MasterKey.DeriveMacKey("audit-checkpoint")</c>. The writer makes one per batch:
/// it says "the writer wrote this hash at this sequence".
/// </summary>
public static class AuditCheckpointMac
{
    public const int MacSize = 32;

    private const int MaxLabelSize = 32;

    private static ReadOnlySpan<byte> Label => "coffer-audit-checkpoint-v1"u8;

    public static byte[] Compute(ReadOnlySpan<byte> key, long sequence, ReadOnlySpan<byte> hash, DateTimeOffset time) =>
        Compute(Label, key, sequence, hash, time);

    public static AuditCheckpoint Create(ReadOnlySpan<byte> key, long sequence, byte[] hash, DateTimeOffset time) =>
        Create(Label, key, sequence, hash, time);

    /// <summary>Constant-time check of a checkpoint's MAC; false (never an exception) for malformed ones.</summary>
    public static bool IsValid(ReadOnlySpan<byte> key, AuditCheckpoint checkpoint) => IsValid(Label, key, checkpoint);

    /// <summary><see cref="IsValid(ReadOnlySpan{byte}, AuditCheckpoint)"/> with an HMAC-SHA256 instance
    /// already keyed with the audit key, reused across checkpoints: a verify checks one per batch, and
    /// keying a new HMAC for each is most of its cost.</summary>
    public static bool IsValid(IncrementalHash hmac, AuditCheckpoint checkpoint) => IsValid(Label, hmac, checkpoint);

    // The same MAC layout under another label, so a MAC of one kind never passes for the other
    // (AuditVerifiedCheckpoint).
    internal static byte[] Compute(ReadOnlySpan<byte> label, ReadOnlySpan<byte> key, long sequence, ReadOnlySpan<byte> hash, DateTimeOffset time)
    {
        Span<byte> message = stackalloc byte[MaxLabelSize + 8 + AuditRecord.HashSize + 8];
        return HMACSHA256.HashData(key, Message(message, label, sequence, hash, time));
    }

    internal static AuditCheckpoint Create(ReadOnlySpan<byte> label, ReadOnlySpan<byte> key, long sequence, byte[] hash, DateTimeOffset time)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
        return new AuditCheckpoint(sequence, hash, at, Compute(label, key, sequence, hash, at));
    }

    internal static bool IsValid(ReadOnlySpan<byte> label, ReadOnlySpan<byte> key, AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!IsWellFormed(checkpoint))
        {
            return false;
        }

        var expected = Compute(label, key, checkpoint.Sequence, checkpoint.Hash, checkpoint.Time);
        return CryptographicOperations.FixedTimeEquals(expected, checkpoint.Mac);
    }

    internal static bool IsValid(ReadOnlySpan<byte> label, IncrementalHash hmac, AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(hmac);
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (!IsWellFormed(checkpoint))
        {
            return false;
        }

        Span<byte> message = stackalloc byte[MaxLabelSize + 8 + AuditRecord.HashSize + 8];
        Span<byte> expected = stackalloc byte[MacSize];
        hmac.AppendData(Message(message, label, checkpoint.Sequence, checkpoint.Hash, checkpoint.Time));
        return hmac.TryGetHashAndReset(expected, out var written) && written == MacSize
            && CryptographicOperations.FixedTimeEquals(expected, checkpoint.Mac);
    }

    private static bool IsWellFormed(AuditCheckpoint checkpoint) =>
        checkpoint.Hash.Length == AuditRecord.HashSize && checkpoint.Mac.Length == MacSize;

    // label || u64be(seq) || hash(32) || u64be(unix ms), in `buffer`.
    private static ReadOnlySpan<byte> Message(Span<byte> buffer, ReadOnlySpan<byte> label, long sequence, ReadOnlySpan<byte> hash, DateTimeOffset time)
    {
        if (hash.Length != AuditRecord.HashSize)
        {
            throw new ArgumentException("A chain hash is 32 bytes.", nameof(hash));
        }

        label.CopyTo(buffer);
        var at = label.Length;
        BinaryPrimitives.WriteUInt64BigEndian(buffer[at..], (ulong)sequence);
        hash.CopyTo(buffer[(at + 8)..]);
        BinaryPrimitives.WriteUInt64BigEndian(buffer[(at + 8 + AuditRecord.HashSize)..], (ulong)time.ToUnixTimeMilliseconds());
        return buffer[..(at + 8 + AuditRecord.HashSize + 8)];
    }
}
