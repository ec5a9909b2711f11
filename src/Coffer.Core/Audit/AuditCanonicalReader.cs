using System.Buffers.Binary;
using System.Text;
using System.Text.Unicode;

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

    /// <summary>
    /// Whether <paramref name="body"/> is a canonical body exactly as <see cref="AuditCanonical.EncodeBody"/>
    /// writes one: <see cref="TryDecodeBody"/> would read it, and encoding what it reads gives these very
    /// bytes back. Then the hash of the stored bytes is the hash of the record they decode to, so verify
    /// hashes the bytes as stored and decodes nothing: the same verdict as decoding and encoding again,
    /// without a string per field. Never throws; allocates nothing.
    /// </summary>
    public static bool IsCanonicalBody(ReadOnlySpan<byte> body)
    {
        var r = new Reader(body);
        if (!r.SkipText(required: true) || !r.SkipText(required: true) || !r.SkipOutcome())
        {
            return false;
        }

        // errorName, reason, actorKind, actorId, keyStore, keyId
        for (var i = 0; i < 6; i++)
        {
            if (!r.SkipText(required: false))
            {
                return false;
            }
        }

        if (r.Optional(4) is null && !r.Ok)
        {
            return false;
        }

        // A latency only reads back as the same bytes if its microseconds survive the trip through
        // milliseconds (a double) that decoding makes: not negative, not beyond a double's precision.
        if (r.Optional(8) is { } us
            ? AuditCanonical.LatencyMicroseconds(AuditCanonical.LatencyFromMicroseconds(us)) != us
            : !r.Ok)
        {
            return false;
        }

        // sourceIp ... details: eleven more texts.
        for (var i = 0; i < 11; i++)
        {
            if (!r.SkipText(required: false))
            {
                return false;
            }
        }

        return r.Ok && r.AtEnd;
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

        // A text field as Text() reads it, without making the string: null (the 0xFFFFFFFF length)
        // only where allowed, else strict UTF-8 — which re-encodes to the same bytes.
        public bool SkipText(bool required) => Skip(required, out _);

        // The outcome: one of the texts AuditOutcomes.TryParse takes, byte for byte.
        public bool SkipOutcome() => Skip(required: true, out var text)
            && (text.SequenceEqual("ok"u8) || text.SequenceEqual("denied"u8) || text.SequenceEqual("error"u8) || text.SequenceEqual("requested"u8));

        private bool Skip(bool required, out ReadOnlySpan<byte> text)
        {
            text = default;
            if (!Ok || _rest.Length < 4)
            {
                Fail();
                return false;
            }

            var length = BinaryPrimitives.ReadUInt32BigEndian(_rest);
            if (length == uint.MaxValue)
            {
                _rest = _rest[4..];
                return !required;
            }

            if (length > (uint)(_rest.Length - 4) || !Utf8.IsValid(_rest.Slice(4, (int)length)))
            {
                Fail();
                return false;
            }

            text = _rest.Slice(4, (int)length);
            _rest = _rest[(4 + (int)length)..];
            return true;
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
