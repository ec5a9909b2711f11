using System.Security.Cryptography;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Primitives;

namespace Coffer.Server.Xks.SigV4;

/// <summary>
/// Maps an access key id to its secret: the UTF-8 bytes of the secret access key. Returns false
/// when the id is unknown (to the key store the request's URI prefix selected).
/// </summary>
/// <remarks>
/// Called once per request on the hot path: it should not allocate. The verifier copies nothing
/// out of <paramref name="secret"/> except into its signing-key cache.
/// </remarks>
public delegate bool SecretLookup(string accessKeyId, out ReadOnlyMemory<byte> secret);

/// <summary>
/// Verifies the SigV4 signature of an XKS request (XKS spec, "Authentication"; AWS General
/// Reference, "Signature Version 4 signing process").
/// </summary>
/// <remarks>
/// <para>Rules: algorithm AWS4-HMAC-SHA256; scope <c>AKID/yyyymmdd/region/kms-xks-proxy/aws4_request</c>
/// with any region; <c>X-Amz-Date</c> required, within <see cref="MaxSkew"/> of the injected clock and
/// on the scope date; <c>host</c> and <c>x-amz-date</c> signed; exactly the listed headers are used.
/// The canonical request always uses the caller's hash of the body, so an unsigned or lying
/// <c>x-amz-content-sha256</c> changes nothing, and a signed one must match it.</para>
/// <para>Never throws for anything a client sends; returns the specific <see cref="SigV4Failure"/>.
/// The secret, derived keys and signatures never appear in any message. Thread-safe: one instance
/// serves all requests.</para>
/// </remarks>
public sealed class SigV4Verifier
{
    /// <summary>The credential-scope service name of XKS (XKS spec, "Authentication").</summary>
    public const string Service = "kms-xks-proxy";

    /// <summary>The most <c>X-Amz-Date</c> may be off the server clock, either way (XKS spec, "Authentication").</summary>
    public static readonly TimeSpan MaxSkew = TimeSpan.FromMinutes(5);

    private const string XAmzDate = "X-Amz-Date";
    private const string XAmzContentSha256 = "X-Amz-Content-SHA256";

    private readonly TimeProvider _time;

    // Credentials x regions x (today, yesterday near midnight): tens at most.
    private readonly SigningKeyCache _signingKeys = new(capacity: 64);

    public SigV4Verifier(TimeProvider time)
    {
        ArgumentNullException.ThrowIfNull(time);
        _time = time;
    }

    internal SigningKeyCache SigningKeys => _signingKeys;

    /// <summary>Verifies <paramref name="request"/>; <paramref name="auth"/> is set once the header parsed (for logs).</summary>
    /// <param name="bodySha256">SHA-256 of the raw body (the caller hashes it while reading it).</param>
    /// <param name="lookupSecret">Resolves the access key id of the request to its secret.</param>
    public SigV4Failure Verify(HttpRequest request, ReadOnlySpan<byte> bodySha256, SecretLookup lookupSecret,
        out SigV4Authorization auth)
    {
        ArgumentNullException.ThrowIfNull(request);
        ArgumentNullException.ThrowIfNull(lookupSecret);
        if (bodySha256.Length != SHA256.HashSizeInBytes)
        {
            throw new ArgumentException("Expected the 32-byte SHA-256 of the body.", nameof(bodySha256));
        }

        auth = default;
        var headers = request.Headers;
        var authorization = headers.Authorization;
        if (authorization.Count == 0 || string.IsNullOrEmpty(authorization[0]))
        {
            return SigV4Failure.MissingAuthorization;
        }

        if (authorization.Count > 1)
        {
            return SigV4Failure.MalformedAuthorization;
        }

        var failure = SigV4Authorization.Parse(authorization[0], out auth);
        if (failure != SigV4Failure.None)
        {
            return failure;
        }

        if (!string.Equals(auth.Service, Service, StringComparison.Ordinal))
        {
            return SigV4Failure.WrongService;
        }

        if (!ListsHeader(auth.SignedHeaders, "host"))
        {
            return SigV4Failure.HostNotSigned;
        }

        if (!ListsHeader(auth.SignedHeaders, "x-amz-date"))
        {
            return SigV4Failure.DateNotSigned;
        }

        var amzDateValues = headers[XAmzDate];
        if (amzDateValues.Count == 0)
        {
            return SigV4Failure.MissingDate;
        }

        var amzDate = amzDateValues.Count == 1 ? amzDateValues[0].AsSpan() : default;
        if (!TryParseAmzDate(amzDate, out var signedAt))
        {
            return SigV4Failure.MalformedDate;
        }

        if (!amzDate[..8].SequenceEqual(auth.Date))
        {
            return SigV4Failure.CredentialScopeDateMismatch;
        }

        var skew = signedAt - _time.GetUtcNow();
        if (skew > MaxSkew)
        {
            return SigV4Failure.RequestInFuture;
        }

        if (skew < -MaxSkew)
        {
            return SigV4Failure.RequestTooOld;
        }

        if (!lookupSecret(auth.AccessKeyId, out var secret) || secret.IsEmpty)
        {
            return SigV4Failure.UnknownAccessKey;
        }

        // A signed x-amz-content-sha256 (AWSSDK sends one) is a claim about the body; it must be the
        // body we hashed. The canonical request below uses our hash regardless.
        if (ListsHeader(auth.SignedHeaders, "x-amz-content-sha256"))
        {
            var claimed = headers[XAmzContentSha256];
            if (claimed.Count == 0)
            {
                return SigV4Failure.SignedHeaderMissing;
            }

            if (claimed.Count > 1 || !HexEquals(claimed[0], bodySha256))
            {
                return SigV4Failure.SignatureMismatch;
            }
        }

        return VerifySignature(request, amzDate, bodySha256, secret.Span, auth);
    }

    private SigV4Failure VerifySignature(HttpRequest request, ReadOnlySpan<char> amzDate,
        ReadOnlySpan<byte> bodySha256, ReadOnlySpan<byte> secret, in SigV4Authorization auth)
    {
        Span<byte> digest = stackalloc byte[SHA256.HashSizeInBytes];
        var target = RawTarget(request);
        var question = target.IndexOf('?');
        var path = question < 0 ? target : target[..question];
        var query = question < 0 ? [] : target[question..];

        var canonical = new CanonicalWriter(stackalloc byte[SigV4Canonical.StackBufferSize]);
        try
        {
            if (!SigV4Canonical.TryWriteCanonicalRequest(ref canonical, request.Method, path, query,
                    new RequestHeaderSource(request.Headers), auth.SignedHeaders, bodySha256))
            {
                return SigV4Failure.SignedHeaderMissing;
            }

            SHA256.HashData(canonical.Written, digest);
        }
        finally
        {
            canonical.Dispose();
        }

        // Scope elements are at most 64 chars (parser), so the string to sign fits in 256 bytes.
        var stringToSign = new CanonicalWriter(stackalloc byte[256]);
        Span<byte> signingKey = stackalloc byte[HMACSHA256.HashSizeInBytes];
        Span<byte> expected = stackalloc byte[HMACSHA256.HashSizeInBytes];
        try
        {
            SigV4Canonical.WriteStringToSign(ref stringToSign, amzDate, auth.Date, auth.Region, auth.Service, digest);
            var cached = _signingKeys.TryGet(auth.AccessKeyId, auth.Date, auth.Region, secret, signingKey);
            if (!cached)
            {
                SigV4Canonical.DeriveSigningKey(secret, auth.Date, auth.Region, auth.Service, signingKey);
            }

            SigV4Canonical.ComputeSignature(signingKey, stringToSign.Written, expected);
            if (!CryptographicOperations.FixedTimeEquals(expected, auth.Signature))
            {
                return SigV4Failure.SignatureMismatch;
            }

            if (!cached)
            {
                _signingKeys.Add(auth.AccessKeyId, auth.Date, auth.Region, secret, signingKey);
            }

            return SigV4Failure.None;
        }
        finally
        {
            stringToSign.Dispose();
            CryptographicOperations.ZeroMemory(signingKey);
            CryptographicOperations.ZeroMemory(expected);
        }
    }

    /// <summary>
    /// The request target as the client sent it: clients sign the path in its wire (percent-encoded)
    /// form, while <see cref="HttpRequest.Path"/> is decoded. Hosts that record no origin-form raw
    /// target (absolute-form requests, DefaultHttpContext, some test servers) get the decoded path
    /// re-encoded, which is the same for every path XKS uses ([A-Za-z0-9/_.-]).
    /// </summary>
    private static ReadOnlySpan<char> RawTarget(HttpRequest request)
    {
        var raw = request.HttpContext.Features.Get<IHttpRequestFeature>()?.RawTarget;
        if (!string.IsNullOrEmpty(raw) && raw[0] == '/')
        {
            var fragment = raw.IndexOf('#', StringComparison.Ordinal);
            return fragment < 0 ? raw : raw.AsSpan(0, fragment);
        }

        var path = request.PathBase.HasValue ? request.PathBase.Add(request.Path) : request.Path;
        var encoded = path.ToUriComponent();
        return request.QueryString.HasValue ? string.Concat(encoded, request.QueryString.Value) : encoded;
    }

    private static bool ListsHeader(string signedHeaders, string name)
    {
        foreach (var range in signedHeaders.AsSpan().Split(';'))
        {
            if (signedHeaders.AsSpan()[range].SequenceEqual(name))
            {
                return true;
            }
        }

        return false;
    }

    private static bool HexEquals(string? hex, ReadOnlySpan<byte> bytes)
    {
        Span<byte> decoded = stackalloc byte[SHA256.HashSizeInBytes];
        return hex is { Length: 2 * SHA256.HashSizeInBytes }
            && Convert.FromHexString(hex, decoded, out _, out var written) == System.Buffers.OperationStatus.Done
            && written == decoded.Length
            && decoded.SequenceEqual(bytes);
    }

    /// <summary>ISO 8601 basic, exactly <c>yyyyMMddTHHmmssZ</c> (AWS General Reference, "Handling dates").</summary>
    internal static bool TryParseAmzDate(ReadOnlySpan<char> value, out DateTimeOffset result)
    {
        result = default;
        if (value.Length != 16 || value[8] != 'T' || value[15] != 'Z'
            || value[..8].ContainsAnyExceptInRange('0', '9') || value[9..15].ContainsAnyExceptInRange('0', '9'))
        {
            return false;
        }

        var year = Digits(value[..4]);
        var month = Digits(value[4..6]);
        var day = Digits(value[6..8]);
        var hour = Digits(value[9..11]);
        var minute = Digits(value[11..13]);
        var second = Digits(value[13..15]);
        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month)
            || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        result = new DateTimeOffset(year, month, day, hour, minute, second, TimeSpan.Zero);
        return true;
    }

    private static int Digits(ReadOnlySpan<char> digits)
    {
        var value = 0;
        foreach (var c in digits)
        {
            value = (value * 10) + (c - '0');
        }

        return value;
    }

    /// <summary>Reads signed headers from ASP.NET, using the typed accessors for the usual ones so no name string is allocated.</summary>
    private readonly struct RequestHeaderSource(IHeaderDictionary headers) : ICanonicalHeaderSource
    {
        public bool TryGetValues(ReadOnlySpan<char> lowercaseName, out StringValues values)
        {
            // Host includes the port when the client sent one (XKS spec: "the host value includes the port").
            values = lowercaseName switch
            {
                "host" => headers.Host,
                "x-amz-date" => headers[XAmzDate],
                "content-type" => headers.ContentType,
                "content-length" => headers.ContentLength is { } length ? length.ToString(System.Globalization.CultureInfo.InvariantCulture) : StringValues.Empty,
                "x-amz-content-sha256" => headers[XAmzContentSha256],
                _ => headers[lowercaseName.ToString()],
            };
            return values.Count > 0;
        }
    }
}
