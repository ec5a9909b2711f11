using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Coffer.Audit;

/// <summary>
/// The canonical bytes of an audit record, the input of its hash (docs/formats.md, "Audit record").
/// </summary>
/// <remarks>
/// A length-prefixed binary form rather than JSON: nothing to escape, no number formatting, no
/// property-order rules, and null stays apart from "" — so two implementations cannot disagree.
/// Layout:
/// <code>
/// 0x01 || u64be(seq) || i64be(unix ms) || str(node) || str(action) || str(outcome) || str(errorName)
///   || str(reason) || str(actorKind) || str(actorId) || str(keyStore) || str(keyId) || opt32(keyVersion)
///   || opt64(latency µs) || str(sourceIp) || str(kmsRequestId) || str(awsPrincipalArn) || str(kmsKeyArn)
///   || str(awsAccount) || str(awsRegion) || str(kmsOperation) || str(kmsViaService) || str(awsSourceVpc)
///   || str(awsSourceVpce) || str(details)
/// str(s)   = u32be(0xFFFFFFFF) for null, else u32be(len(UTF-8 bytes)) || UTF-8(s)
/// opt32(v) = 0x00 for null, else 0x01 || i32be(v);  opt64(v) = 0x00, else 0x01 || i64be(v)
/// </code>
/// Changing anything here changes every hash: add a new format byte instead.
/// </remarks>
public static class AuditCanonical
{
    public const byte FormatV1 = 0x01;

    /// <summary>Longest text field in UTF-16 code units; longer values are cut when the record is made
    /// (the XKS requestMetadata comes from the caller and must not bloat the log).</summary>
    public const int MaxFieldLength = 1024;

    private const uint NullLength = 0xFFFFFFFF;

    // Format byte, u64be(seq), i64be(unix ms): the only part of the canonical form the single writer
    // has to fill in; the body after it is made on the caller's thread (EncodeBody).
    private const int HeadSize = 17;

    /// <summary>The event as it will be stored: text cut to <see cref="MaxFieldLength"/> without
    /// splitting a surrogate pair, lone surrogates replaced by U+FFFD (so text round-trips through
    /// UTF-8 storage unchanged), latency rounded to the microsecond.</summary>
    public static AuditEvent Normalize(AuditEvent e)
    {
        ArgumentNullException.ThrowIfNull(e);
        if (!Enum.IsDefined(e.Outcome))
        {
            throw new ArgumentException($"Unknown audit outcome {(int)e.Outcome}.", nameof(e));
        }

        return e with
        {
            Action = NormalizeText(e.Action, MaxFieldLength) ?? string.Empty,
            ErrorName = NormalizeText(e.ErrorName, MaxFieldLength),
            Reason = NormalizeText(e.Reason, MaxFieldLength),
            ActorKind = NormalizeText(e.ActorKind, MaxFieldLength),
            ActorId = NormalizeText(e.ActorId, MaxFieldLength),
            KeyStore = NormalizeText(e.KeyStore, MaxFieldLength),
            KeyId = NormalizeText(e.KeyId, MaxFieldLength),
            LatencyMs = e.LatencyMs is { } ms ? LatencyFromMicroseconds(LatencyMicroseconds(ms)) : null,
            SourceIp = NormalizeText(e.SourceIp, MaxFieldLength),
            KmsRequestId = NormalizeText(e.KmsRequestId, MaxFieldLength),
            AwsPrincipalArn = NormalizeText(e.AwsPrincipalArn, MaxFieldLength),
            KmsKeyArn = NormalizeText(e.KmsKeyArn, MaxFieldLength),
            AwsAccount = NormalizeText(e.AwsAccount, MaxFieldLength),
            AwsRegion = NormalizeText(e.AwsRegion, MaxFieldLength),
            KmsOperation = NormalizeText(e.KmsOperation, MaxFieldLength),
            KmsViaService = NormalizeText(e.KmsViaService, MaxFieldLength),
            AwsSourceVpc = NormalizeText(e.AwsSourceVpc, MaxFieldLength),
            AwsSourceVpce = NormalizeText(e.AwsSourceVpce, MaxFieldLength),
            Details = NormalizeText(e.Details, MaxFieldLength),
        };
    }

    public static string? NormalizeText(string? text, int maxLength)
    {
        if (text is null)
        {
            return null;
        }

        if (text.Length > maxLength)
        {
            var cut = char.IsHighSurrogate(text[maxLength - 1]) ? maxLength - 1 : maxLength;
            text = text[..cut];
        }

        foreach (var c in text)
        {
            if (char.IsSurrogate(c))
            {
                // Valid pairs survive the round trip; lone surrogates become U+FFFD.
                return Encoding.UTF8.GetString(Encoding.UTF8.GetBytes(text));
            }
        }

        return text;
    }

    /// <summary>Latency in whole microseconds: NaN, infinities and negatives count as 0.</summary>
    public static long LatencyMicroseconds(double milliseconds) =>
        double.IsFinite(milliseconds) && milliseconds > 0 ? (long)Math.Min(Math.Round(milliseconds * 1000.0, MidpointRounding.AwayFromZero), long.MaxValue / 2) : 0;

    public static double LatencyFromMicroseconds(long microseconds) => microseconds / 1000.0;

    /// <summary>The canonical bytes of a record without its hashes.</summary>
    public static byte[] Encode(AuditEvent e, long sequence, DateTimeOffset time, string node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        Write(buffer, e, sequence, time, node);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary><c>SHA-256(prevHash || canonical)</c>.</summary>
    public static byte[] ComputeHash(ReadOnlySpan<byte> prevHash, AuditEvent e, long sequence, DateTimeOffset time, string node) =>
        ComputeHash(prevHash, sequence, time, EncodeBody(e, node));

    /// <summary><c>SHA-256(prevHash || canonical)</c>, the canonical form given as its
    /// <see cref="EncodeBody"/>: the single writer only adds sequence and time.</summary>
    public static byte[] ComputeHash(ReadOnlySpan<byte> prevHash, long sequence, DateTimeOffset time, ReadOnlySpan<byte> body)
    {
        var length = prevHash.Length + HeadSize + body.Length;
        var rented = ArrayPool<byte>.Shared.Rent(length);
        try
        {
            var input = rented.AsSpan(0, length);
            prevHash.CopyTo(input);
            WriteHead(input.Slice(prevHash.Length, HeadSize), sequence, time);
            body.CopyTo(input[(prevHash.Length + HeadSize)..]);
            return SHA256.HashData(input);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    /// <summary>The canonical bytes after sequence and time: the node and every field of the event.</summary>
    public static byte[] EncodeBody(AuditEvent e, string node)
    {
        var buffer = new ArrayBufferWriter<byte>(512);
        WriteBody(buffer, e, node);
        return buffer.WrittenSpan.ToArray();
    }

    /// <summary>One text field as the canonical form holds it, <c>str(s)</c>: what a search of stored
    /// bodies for that field's value looks for.</summary>
    public static byte[] EncodeText(string? s)
    {
        var buffer = new ArrayBufferWriter<byte>(64);
        Text(buffer, s);
        return buffer.WrittenSpan.ToArray();
    }

    public static void Write(IBufferWriter<byte> w, AuditEvent e, long sequence, DateTimeOffset time, string node)
    {
        ArgumentNullException.ThrowIfNull(w);
        WriteHead(w.GetSpan(HeadSize), sequence, time);
        w.Advance(HeadSize);
        WriteBody(w, e, node);
    }

    private static void WriteHead(Span<byte> head, long sequence, DateTimeOffset time)
    {
        head[0] = FormatV1;
        BinaryPrimitives.WriteUInt64BigEndian(head[1..], (ulong)sequence);
        BinaryPrimitives.WriteInt64BigEndian(head[9..], time.ToUnixTimeMilliseconds());
    }

    private static void WriteBody(IBufferWriter<byte> w, AuditEvent e, string node)
    {
        ArgumentNullException.ThrowIfNull(e);
        Text(w, node);
        Text(w, e.Action);
        Text(w, AuditOutcomes.ToText(e.Outcome));
        Text(w, e.ErrorName);
        Text(w, e.Reason);
        Text(w, e.ActorKind);
        Text(w, e.ActorId);
        Text(w, e.KeyStore);
        Text(w, e.KeyId);
        if (e.KeyVersion is { } version)
        {
            var span = w.GetSpan(5);
            span[0] = 1;
            BinaryPrimitives.WriteInt32BigEndian(span[1..], version);
            w.Advance(5);
        }
        else
        {
            Byte(w, 0);
        }

        if (e.LatencyMs is { } latency)
        {
            var span = w.GetSpan(9);
            span[0] = 1;
            BinaryPrimitives.WriteInt64BigEndian(span[1..], LatencyMicroseconds(latency));
            w.Advance(9);
        }
        else
        {
            Byte(w, 0);
        }

        Text(w, e.SourceIp);
        Text(w, e.KmsRequestId);
        Text(w, e.AwsPrincipalArn);
        Text(w, e.KmsKeyArn);
        Text(w, e.AwsAccount);
        Text(w, e.AwsRegion);
        Text(w, e.KmsOperation);
        Text(w, e.KmsViaService);
        Text(w, e.AwsSourceVpc);
        Text(w, e.AwsSourceVpce);
        Text(w, e.Details);
    }

    private static void Byte(IBufferWriter<byte> w, byte value)
    {
        w.GetSpan(1)[0] = value;
        w.Advance(1);
    }

    private static void Text(IBufferWriter<byte> w, string? s)
    {
        if (s is null)
        {
            BinaryPrimitives.WriteUInt32BigEndian(w.GetSpan(4), NullLength);
            w.Advance(4);
            return;
        }

        var length = Encoding.UTF8.GetByteCount(s);
        var span = w.GetSpan(4 + length);
        BinaryPrimitives.WriteUInt32BigEndian(span, (uint)length);
        Encoding.UTF8.GetBytes(s, span[4..]);
        w.Advance(4 + length);
    }
}
