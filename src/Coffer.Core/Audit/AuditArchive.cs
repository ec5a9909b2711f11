using System.Buffers.Binary;
using System.Security.Cryptography;

namespace Coffer.Audit;

/// <summary>
/// A range of the audit chain moved out of the database into an archive file (docs/audit.md;
/// docs/formats.md, "Audit archive"). The database keeps this row and the checkpoint at
/// <see cref="ThroughSequence"/>; the live chain continues from record ThroughSequence + 1, whose
/// PrevHash is <see cref="ThroughHash"/>.
/// </summary>
/// <param name="FirstSequence">The first record in the file (the previous archive's ThroughSequence + 1, or 1).</param>
/// <param name="ThroughSequence">The last record in the file; a checkpoint covers it.</param>
/// <param name="ThroughHash">That record's hash: where the live chain continues.</param>
/// <param name="FileName">The file's name in the server's archive directory.</param>
/// <param name="FileSha256">SHA-256 of the whole file, as written.</param>
/// <param name="Mac">See <see cref="AuditArchiveMac"/>: an editor of the database can neither forge a cut
/// (and so hide removed records) nor swap the file.</param>
public sealed record AuditArchive(
    long FirstSequence, long ThroughSequence, byte[] ThroughHash, string FileName, byte[] FileSha256, DateTimeOffset CreatedAt, byte[] Mac);

/// <summary>
/// The MAC of an <see cref="AuditArchive"/>, under the audit checkpoint key:
/// <c>HMAC-SHA256(auditKey, "coffer-audit-archive-v1" || u64be(first) || u64be(through) || throughHash(32)
/// || fileSha256(32) || u64be(created unix ms))</c>. Its label keeps it apart from checkpoint MACs, which
/// start with a label of their own.
/// </summary>
public static class AuditArchiveMac
{
    private static ReadOnlySpan<byte> Label => "coffer-audit-archive-v1"u8;

    public static byte[] Compute(ReadOnlySpan<byte> key, long first, long through, ReadOnlySpan<byte> throughHash, ReadOnlySpan<byte> fileSha256, DateTimeOffset createdAt)
    {
        if (throughHash.Length != AuditRecord.HashSize || fileSha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("An archive's chain hash and file hash are 32 bytes each.");
        }

        Span<byte> message = stackalloc byte[23 + 8 + 8 + 32 + 32 + 8];
        Label.CopyTo(message);
        BinaryPrimitives.WriteUInt64BigEndian(message[23..], (ulong)first);
        BinaryPrimitives.WriteUInt64BigEndian(message[31..], (ulong)through);
        throughHash.CopyTo(message[39..]);
        fileSha256.CopyTo(message[71..]);
        BinaryPrimitives.WriteUInt64BigEndian(message[103..], (ulong)createdAt.ToUnixTimeMilliseconds());
        return HMACSHA256.HashData(key, message);
    }

    public static AuditArchive Create(ReadOnlySpan<byte> key, long first, long through, byte[] throughHash, string fileName, byte[] fileSha256, DateTimeOffset createdAt)
    {
        var at = DateTimeOffset.FromUnixTimeMilliseconds(createdAt.ToUnixTimeMilliseconds());
        return new AuditArchive(first, through, throughHash, fileName, fileSha256, at, Compute(key, first, through, throughHash, fileSha256, at));
    }

    /// <summary>Constant-time check; false (never an exception) for malformed rows.</summary>
    public static bool IsValid(ReadOnlySpan<byte> key, AuditArchive archive)
    {
        ArgumentNullException.ThrowIfNull(archive);
        if (archive.ThroughHash.Length != AuditRecord.HashSize || archive.FileSha256.Length != SHA256.HashSizeInBytes || archive.Mac.Length != AuditCheckpointMac.MacSize)
        {
            return false;
        }

        var expected = Compute(key, archive.FirstSequence, archive.ThroughSequence, archive.ThroughHash, archive.FileSha256, archive.CreatedAt);
        return CryptographicOperations.FixedTimeEquals(expected, archive.Mac);
    }
}
