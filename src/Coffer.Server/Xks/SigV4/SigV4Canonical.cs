using System.Buffers;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Primitives;

namespace Coffer.Server.Xks.SigV4;

/// <summary>Supplies the values of a signed header; implemented by structs so calls are not virtual.</summary>
internal interface ICanonicalHeaderSource
{
    /// <summary>All values of the header <paramref name="lowercaseName"/> in arrival order; false if absent.</summary>
    bool TryGetValues(ReadOnlySpan<char> lowercaseName, out StringValues values);
}

/// <summary>
/// The ASP.NET-free core of SigV4 (AWS General Reference, "Create a canonical request for Signature
/// Version 4", "Create a string to sign", "Calculate the signature"): canonical request, string to
/// sign, signing-key derivation and signature. <see cref="SigV4Verifier"/> drives the span-based
/// members on the hot path; the string-returning members exist for the AWS test suite and diagnostics.
/// </summary>
internal static class SigV4Canonical
{
    /// <summary>Size of the stack buffer for a canonical request; an XKS request needs about 300 bytes.</summary>
    internal const int StackBufferSize = 1024;

    // RFC 3986 unreserved characters: the only ones SigV4 leaves unencoded.
    private static readonly SearchValues<char> Unreserved =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~");

    /// <summary>
    /// Writes the canonical request. Returns false, having written garbage, if a header that
    /// <paramref name="signedHeaders"/> lists is absent.
    /// </summary>
    /// <param name="path">The path as the client put it on the wire (percent-encoded form).</param>
    /// <param name="query">The raw query, with or without its leading '?'.</param>
    internal static bool TryWriteCanonicalRequest<THeaders>(ref CanonicalWriter writer, ReadOnlySpan<char> method,
        ReadOnlySpan<char> path, ReadOnlySpan<char> query, THeaders headers, ReadOnlySpan<char> signedHeaders,
        ReadOnlySpan<byte> payloadSha256)
        where THeaders : ICanonicalHeaderSource
    {
        writer.Append(method);
        writer.Append('\n');
        WriteCanonicalUri(ref writer, path);
        writer.Append('\n');
        WriteCanonicalQuery(ref writer, query);
        writer.Append('\n');
        foreach (var range in signedHeaders.Split(';'))
        {
            var name = signedHeaders[range];
            if (!headers.TryGetValues(name, out var values))
            {
                return false;
            }

            writer.Append(name);
            writer.Append(':');
            for (var i = 0; i < values.Count; i++)
            {
                // Several values of one header are joined with ',' in arrival order
                // (suite: get-header-key-duplicate, get-header-value-order).
                if (i > 0)
                {
                    writer.Append(',');
                }

                WriteCanonicalHeaderValue(ref writer, values[i]);
            }

            writer.Append('\n');
        }

        writer.Append('\n');
        writer.Append(signedHeaders);
        writer.Append('\n');
        writer.AppendLowerHex(payloadSha256);
        return true;
    }

    /// <summary>
    /// The canonical URI for every service but S3: dot segments removed and empty segments dropped
    /// (suite: normalize-path/*, and botocore's <c>remove_dot_segments</c>), then each segment
    /// URI-encoded. Because <paramref name="path"/> is the wire form, this is the "encode twice" the
    /// SigV4 documentation asks of non-S3 services: a '%' on the wire becomes "%25".
    /// </summary>
    internal static void WriteCanonicalUri(ref CanonicalWriter writer, ReadOnlySpan<char> path)
    {
        var segmentCount = path.Count('/') + 1;
        Range[]? rented = null;
        var kept = segmentCount <= 32 ? stackalloc Range[32] : (rented = ArrayPool<Range>.Shared.Rent(segmentCount));
        try
        {
            var count = 0;
            foreach (var range in path.Split('/'))
            {
                var segment = path[range];
                if (segment.IsEmpty || segment is ".")
                {
                    continue;
                }

                if (segment is "..")
                {
                    count = Math.Max(0, count - 1);
                    continue;
                }

                kept[count++] = range;
            }

            writer.Append('/');
            for (var i = 0; i < count; i++)
            {
                if (i > 0)
                {
                    writer.Append('/');
                }

                WriteUriEncoded(ref writer, path[kept[i]]);
            }

            if (count > 0 && path[^1] == '/')
            {
                writer.Append('/');
            }
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<Range>.Shared.Return(rented);
            }
        }
    }

    /// <summary>
    /// The canonical query: each name and value URI-encoded (after decoding what the wire form had
    /// encoded, so "%E1%88%B4" and a raw "ሴ" agree), sorted by name then value in byte order,
    /// "name=value" joined with '&amp;'. XKS calls have no query, so this allocates freely.
    /// </summary>
    internal static void WriteCanonicalQuery(ref CanonicalWriter writer, ReadOnlySpan<char> query)
    {
        if (!query.IsEmpty && query[0] == '?')
        {
            query = query[1..];
        }

        if (query.IsEmpty)
        {
            return;
        }

        var pairs = new List<KeyValuePair<string, string>>();
        foreach (var range in query.Split('&'))
        {
            var pair = query[range];
            if (pair.IsEmpty)
            {
                continue;
            }

            var equals = pair.IndexOf('=');
            var name = equals < 0 ? pair : pair[..equals];
            var value = equals < 0 ? [] : pair[(equals + 1)..];
            pairs.Add(new(EncodeQueryComponent(name), EncodeQueryComponent(value)));
        }

        pairs.Sort(static (a, b) =>
        {
            var byName = string.CompareOrdinal(a.Key, b.Key);
            return byName != 0 ? byName : string.CompareOrdinal(a.Value, b.Value);
        });
        for (var i = 0; i < pairs.Count; i++)
        {
            if (i > 0)
            {
                writer.Append('&');
            }

            writer.Append(pairs[i].Key);
            writer.Append('=');
            writer.Append(pairs[i].Value);
        }
    }

    /// <summary>
    /// A header value trimmed, with each run of whitespace collapsed to one space (suite:
    /// get-header-value-trim; botocore's <c>' '.join(value.split())</c>). Folded lines are the HTTP
    /// layer's business (RFC 9112 5.2 replaces obs-fold with SP; Kestrel rejects it).
    /// </summary>
    internal static void WriteCanonicalHeaderValue(ref CanonicalWriter writer, ReadOnlySpan<char> value)
    {
        var first = true;
        foreach (var range in value.SplitAny(" \t\r\n\v\f"))
        {
            var word = value[range];
            if (word.IsEmpty)
            {
                continue;
            }

            if (!first)
            {
                writer.Append(' ');
            }

            writer.Append(word);
            first = false;
        }
    }

    /// <summary>
    /// Writes <c>AWS4-HMAC-SHA256 \n amzDate \n date/region/service/aws4_request \n hex(SHA-256(canonical request))</c>.
    /// </summary>
    internal static void WriteStringToSign(ref CanonicalWriter writer, ReadOnlySpan<char> amzDate,
        ReadOnlySpan<char> scopeDate, ReadOnlySpan<char> region, ReadOnlySpan<char> service,
        ReadOnlySpan<byte> canonicalRequestSha256)
    {
        writer.Append(SigV4Authorization.Algorithm);
        writer.Append('\n');
        writer.Append(amzDate);
        writer.Append('\n');
        writer.Append(scopeDate);
        writer.Append('/');
        writer.Append(region);
        writer.Append('/');
        writer.Append(service);
        writer.Append('/');
        writer.Append(SigV4Authorization.ScopeTerminator);
        writer.Append('\n');
        writer.AppendLowerHex(canonicalRequestSha256);
    }

    /// <summary>
    /// kSigning = HMAC(HMAC(HMAC(HMAC("AWS4" + secret, date), region), service), "aws4_request")
    /// (AWS General Reference, "Calculate the signature"). Intermediate keys are zeroed.
    /// </summary>
    internal static void DeriveSigningKey(ReadOnlySpan<byte> secret, ReadOnlySpan<char> date,
        ReadOnlySpan<char> region, ReadOnlySpan<char> service, Span<byte> destination)
    {
        var keyLength = 4 + secret.Length;
        byte[]? rented = null;
        var initial = keyLength <= 128 ? stackalloc byte[128] : (rented = ArrayPool<byte>.Shared.Rent(keyLength));
        // Two buffers in turn: the one-shot HMAC is not documented to allow key and output to overlap.
        Span<byte> kDate = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> kRegion = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            "AWS4"u8.CopyTo(initial);
            secret.CopyTo(initial[4..]);
            HmacOfText(initial[..keyLength], date, kDate);
            HmacOfText(kDate, region, kRegion);
            HmacOfText(kRegion, service, kDate);
            HmacOfText(kDate, SigV4Authorization.ScopeTerminator, destination);
        }
        finally
        {
            CryptographicOperations.ZeroMemory(initial[..keyLength]);
            CryptographicOperations.ZeroMemory(kDate);
            CryptographicOperations.ZeroMemory(kRegion);
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    /// <summary>The signature: HMAC-SHA256(signing key, string to sign).</summary>
    /// <remarks>
    /// Hot path: each thread keeps the HMAC context of the last signing key it used, because AWS KMS
    /// signs call after call with the same credential, date and region, and a reused OpenSSL
    /// context costs half of a one-shot HMAC (which fetches the algorithm and builds a context
    /// every time). The cached key is zeroed when replaced; contexts live as long as their thread.
    /// </remarks>
    internal static void ComputeSignature(ReadOnlySpan<byte> signingKey, ReadOnlySpan<byte> stringToSign,
        Span<byte> destination)
    {
        if (signingKey.Length != HMACSHA256.HashSizeInBytes)
        {
            HMACSHA256.HashData(signingKey, stringToSign, destination);
            return;
        }

        var cache = t_hmac ??= new ThreadHmac();
        if (cache.Hmac is null || !CryptographicOperations.FixedTimeEquals(cache.Key, signingKey))
        {
            cache.Hmac?.Dispose();
            signingKey.CopyTo(cache.Key);
            cache.Hmac = IncrementalHash.CreateHMAC(HashAlgorithmName.SHA256, signingKey);
        }

        cache.Hmac.AppendData(stringToSign);
        cache.Hmac.GetHashAndReset(destination);
    }

    [ThreadStatic]
    private static ThreadHmac? t_hmac;

    private sealed class ThreadHmac
    {
        public byte[] Key { get; } = new byte[HMACSHA256.HashSizeInBytes];

        public IncrementalHash? Hmac { get; set; }
    }

    /// <summary>The canonical request as text (AWS suite tests); null if a signed header is absent.</summary>
    /// <param name="headers">Name/value pairs in arrival order; names in any case.</param>
    internal static string? BuildCanonicalRequest(string method, string path, string query,
        IReadOnlyList<KeyValuePair<string, string>> headers, string signedHeaders, string payloadHashHex)
    {
        var writer = new CanonicalWriter(stackalloc byte[StackBufferSize]);
        try
        {
            return TryWriteCanonicalRequest(ref writer, method, path, query, new PairListHeaderSource(headers),
                signedHeaders, Convert.FromHexString(payloadHashHex))
                ? Encoding.UTF8.GetString(writer.Written)
                : null;
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>The string to sign as text (AWS suite tests).</summary>
    internal static string BuildStringToSign(string amzDate, string scopeDate, string region, string service,
        string canonicalRequest)
    {
        var writer = new CanonicalWriter(stackalloc byte[256]);
        try
        {
            WriteStringToSign(ref writer, amzDate, scopeDate, region, service,
                SHA256.HashData(Encoding.UTF8.GetBytes(canonicalRequest)));
            return Encoding.UTF8.GetString(writer.Written);
        }
        finally
        {
            writer.Dispose();
        }
    }

    /// <summary>The lowercase hex signature of a string to sign (AWS suite tests).</summary>
    internal static string ComputeSignatureHex(ReadOnlySpan<byte> secret, string scopeDate, string region,
        string service, string stringToSign)
    {
        Span<byte> key = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> signature = stackalloc byte[HMACSHA256.HashSizeInBytes];
        DeriveSigningKey(secret, scopeDate, region, service, key);
        ComputeSignature(key, Encoding.UTF8.GetBytes(stringToSign), signature);
        CryptographicOperations.ZeroMemory(key);
        return Convert.ToHexStringLower(signature);
    }

    private static void HmacOfText(ReadOnlySpan<byte> key, ReadOnlySpan<char> text, Span<byte> destination)
    {
        // Scope elements are bounded by the parser (64 chars), so the stack buffer always suffices
        // on the verifier's path; the pooled branch only serves direct callers.
        var max = Encoding.UTF8.GetMaxByteCount(text.Length);
        byte[]? rented = null;
        var buffer = max <= 256 ? stackalloc byte[256] : (rented = ArrayPool<byte>.Shared.Rent(max));
        var length = Encoding.UTF8.GetBytes(text, buffer);
        HMACSHA256.HashData(key, buffer[..length], destination);
        if (rented is not null)
        {
            ArrayPool<byte>.Shared.Return(rented);
        }
    }

    private static void WriteUriEncoded(ref CanonicalWriter writer, ReadOnlySpan<char> text)
    {
        Span<byte> utf8 = stackalloc byte[4];
        while (!text.IsEmpty)
        {
            var plain = text.IndexOfAnyExcept(Unreserved);
            if (plain < 0)
            {
                writer.Append(text);
                return;
            }

            writer.Append(text[..plain]);
            text = text[plain..];
            if (text[0] < 0x80)
            {
                writer.AppendPercentEncoded((byte)text[0]);
                text = text[1..];
                continue;
            }

            // Non-ASCII: percent-encode the UTF-8 bytes (suite: get-utf8). A lone surrogate becomes U+FFFD.
            _ = Rune.DecodeFromUtf16(text, out var rune, out var consumed);
            var length = rune.EncodeToUtf8(utf8);
            for (var i = 0; i < length; i++)
            {
                writer.AppendPercentEncoded(utf8[i]);
            }

            text = text[consumed..];
        }
    }

    private static string EncodeQueryComponent(ReadOnlySpan<char> component)
    {
        // Decode valid %XX escapes to bytes and every other character to its UTF-8, then encode the
        // bytes: unreserved ones stay, the rest become %XX.
        var bytes = new List<byte>(component.Length);
        Span<byte> utf8 = stackalloc byte[4];
        for (var i = 0; i < component.Length;)
        {
            if (component[i] == '%' && i + 2 < component.Length && IsHex(component[i + 1]) && IsHex(component[i + 2]))
            {
                bytes.Add((byte)((HexValue(component[i + 1]) << 4) | HexValue(component[i + 2])));
                i += 3;
                continue;
            }

            _ = Rune.DecodeFromUtf16(component[i..], out var rune, out var consumed);
            var length = rune.EncodeToUtf8(utf8);
            for (var j = 0; j < length; j++)
            {
                bytes.Add(utf8[j]);
            }

            i += consumed;
        }

        var builder = new StringBuilder(bytes.Count * 3);
        foreach (var b in bytes)
        {
            if (b < 0x80 && Unreserved.Contains((char)b))
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('%').Append(Convert.ToHexString([b]));
            }
        }

        return builder.ToString();
    }

    private static bool IsHex(char c) => char.IsAsciiHexDigit(c);

    private static int HexValue(char c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;

    /// <summary>Headers as a list of name/value pairs in arrival order (the AWS suite's .req files).</summary>
    private readonly struct PairListHeaderSource(IReadOnlyList<KeyValuePair<string, string>> headers)
        : ICanonicalHeaderSource
    {
        public bool TryGetValues(ReadOnlySpan<char> lowercaseName, out StringValues values)
        {
            var found = new List<string>();
            foreach (var header in headers)
            {
                if (lowercaseName.Equals(header.Key, StringComparison.OrdinalIgnoreCase))
                {
                    found.Add(header.Value);
                }
            }

            values = found.Count == 0 ? StringValues.Empty : new StringValues([.. found]);
            return found.Count > 0;
        }
    }
}
