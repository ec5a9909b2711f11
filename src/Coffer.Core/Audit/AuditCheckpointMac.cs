using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Coffer.Audit;

/// <summary>
/// The MAC of an audit checkpoint (docs/formats.md, "Audit checkpoint"):
/// <c>HMAC-SHA256(auditKey, "coffer-audit-checkpoint-v1" || u64be(seq) || hash(32) || u64be(unix ms))</c>,
/// where auditKey is <c>MasterKey.DeriveMacKey("audit-checkpoint")</c>.
/// </summary>
public static class AuditCheckpointMac
{
    public const int MacSize = 32;

    private static ReadOnlySpan<byte> Label => "coffer-audit-checkpoint-v1"u8;

    public static byte[] Compute(ReadOnlySpan<byte> key, long sequence, ReadOnlySpan<byte> hash, DateTimeOffset time)
    {
        if (hash.Length != AuditRecord.HashSize)
        {
            throw new ArgumentException("A chain hash is 32 bytes.", nameof(hash));
        }

        Span<byte> message = stackalloc byte[26 + 8 + AuditRecord.HashSize + 8];
        Label.CopyTo(message);
        BinaryPrimitives.WriteUInt64BigEndian(message[26..], (ulong)sequence);
        hash.CopyTo(message[34..]);
        BinaryPrimitives.WriteUInt64BigEndian(message[66..], (ulong)time.ToUnixTimeMilliseconds());
        return HMACSHA256.HashData(key, message);
    }

    public static AuditCheckpoint Create(ReadOnlySpan<byte> key, long sequence, byte[] hash, DateTimeOffset time)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(time.ToUnixTimeMilliseconds());
        return new AuditCheckpoint(sequence, hash, at, Compute(key, sequence, hash, at));
    }

    /// <summary>Constant-time check of a checkpoint's MAC; false (never an exception) for malformed ones.</summary>
    public static bool IsValid(ReadOnlySpan<byte> key, AuditCheckpoint checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        if (checkpoint.Hash.Length != AuditRecord.HashSize || checkpoint.Mac.Length != MacSize)
        {
            return false;
        }

        var expected = Compute(key, checkpoint.Sequence, checkpoint.Hash, checkpoint.Time);
        return CryptographicOperations.FixedTimeEquals(expected, checkpoint.Mac);
    }
}
