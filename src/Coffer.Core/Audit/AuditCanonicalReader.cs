using System.Buffers.Binary;
using System.Text;

namespace Coffer.Audit;

/// <summary>
/// Reads back what <see cref="AuditCanonical.EncodeBody"/> wrote: the audit store keeps each record as
/// its canonical body, so the bytes on disk are exactly the bytes hashed.
/// </summary>
public static class AuditCanonicalReader
{
    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// The event and node of a canonical body, or false when the bytes are not one (a cut or altered
    /// length, invalid UTF-8, an unknown outcome, bytes left over). Never throws on bad input: stored
    /// bytes may have been tampered with, and the verifier must report the record, not fail to read it.
    /// </summary>
    public static bool TryDecodeBody(ReadOnlySpan<byte> body, out AuditEvent auditEvent, out string node)
    {
        auditEvent = null!;
        node = null!;
        var r = new Reader(body);
        var readNode = r.Text();
        var action = r.Text();
        var outcomeText = r.Text();
        var errorName = r.Text();
        var reason = r.Text();
        var actorKind = r.Text();
        var actorId = r.Text();
        var keyStore = r.Text();
        var keyId = r.Text();
        var keyVersion = r.Optional(4);
        var latency = r.Optional(8);
        var e = new AuditEvent
        {
            Action = action!,
            ErrorName = errorName,
            Reason = reason,
            ActorKind = actorKind,
            ActorId = actorId,
            KeyStore = keyStore,
            KeyId = keyId,
            KeyVersion = keyVersion is { } v ? (int)v : null,
            LatencyMs = latency is { } us ? AuditCanonical.LatencyFromMicroseconds(us) : null,
            SourceIp = r.Text(),
            KmsRequestId = r.Text(),
            AwsPrincipalArn = r.Text(),
            KmsKeyArn = r.Text(),
            AwsAccount = r.Text(),
            AwsRegion = r.Text(),
            KmsOperation = r.Text(),
            KmsViaService = r.Text(),
            AwsSourceVpc = r.Text(),
            AwsSourceVpce = r.Text(),
            Details = r.Text(),
        };

        if (!r.Ok || !r.AtEnd || readNode is null || action is null || !AuditOutcomes.TryParse(outcomeText, out var outcome))
        {
            return false;
        }

        auditEvent = e with { Outcome = outcome };
        node = readNode;
        return true;
    }

    // Reads fields in order; the first malformed one clears Ok and every later read returns null.
    private ref struct Reader(ReadOnlySpan<byte> bytes)
    {
        private ReadOnlySpan<byte> _rest = bytes;

        public bool Ok { get; private set; } = true;

        public readonly bool AtEnd => _rest.IsEmpty;

        public string? Text()
        {
            if (!Ok || _rest.Length < 4)
            {
                return Fail();
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            _rest = _rest[4..];
            if (length == uint.MaxValue)
            {
                return null;
            }

            if (length > (uint)_rest.Length)
            {
                return Fail();
            }

            try
            {
                var text = StrictUtf8.GetString(_rest[..(int)length]);
                _rest = _rest[(int)length..];
                return text;
            }
            catch (DecoderFallbackException)
            {
                return Fail();
            }
        }

        // opt32 / opt64: 0x00 for null, else 0x01 and the big-endian value.
        public long? Optional(int size)
        {
            if (!Ok || _rest.IsEmpty || _rest[0] > 1 || (_rest[0] == 1 && _rest.Length < 1 + size))
            {
                Fail();
                return null;
            }

            if (_rest[0] == 0)
            {
                _rest = _rest[1..];
                return null;
            }

            long value = size == 4 ? BinaryPrimitives.ReadInt32BigEndian(_rest[1..]) : BinaryPrimitives.ReadInt64BigEndian(_rest[1..]);
            _rest = _rest[(1 + size)..];
            return value;
        }

        private string? Fail()
        {
            Ok = false;
            _rest = default;
            return null;
        }
    }
}
