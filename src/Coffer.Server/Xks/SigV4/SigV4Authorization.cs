using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Coffer.Server.Xks.SigV4;

/// <summary>
/// A parsed SigV4 <c>Authorization</c> header:
/// <c>AWS4-HMAC-SHA256 Credential=AKID/yyyymmdd/region/service/aws4_request, SignedHeaders=a;b;c, Signature=hex64</c>
/// (AWS General Reference, "Add the signature to the HTTP request"; XKS spec, "Authentication").
/// </summary>
/// <remarks>
/// Parsing is syntactic only: any service and region are accepted here; <see cref="SigV4Verifier"/>
/// applies the XKS rules. The signature is kept as its 32 decoded bytes, so neither
/// <see cref="ToString"/> nor a careless log line can print it.
/// </remarks>
[SuppressMessage("Performance", "CA1815:Override equals and operator equals on value types",
    Justification = "A parse result, never compared; equality over a signature would invite non-constant-time comparison.")]
public readonly struct SigV4Authorization
{
    /// <summary>The only algorithm XKS uses (XKS spec, "Authentication").</summary>
    public const string Algorithm = "AWS4-HMAC-SHA256";

    /// <summary>The last element of every SigV4 credential scope.</summary>
    public const string ScopeTerminator = "aws4_request";

    // Bounds that no legitimate client gets near; they keep a hostile header from costing more
    // than a few microseconds and keep the string to sign within a stack buffer.
    internal const int MaxHeaderLength = 4096;
    internal const int MaxAccessKeyIdLength = 128;
    internal const int MaxScopeElementLength = 64;
    internal const int MaxSignedHeadersLength = 1024;
    internal const int MaxSignedHeaderCount = 64;

    // Interned values for what real clients send, so the hot path does not allocate them per request.
    private const string KmsSignedHeaders = "host;x-amz-date";
    private const string CurlSignedHeaders = "content-type;host;x-amz-date";
    private const string SdkSignedHeaders = "content-type;host;x-amz-content-sha256;x-amz-date";

    private readonly SignatureBytes _signature;

    private SigV4Authorization(string accessKeyId, string date, string region, string service, string signedHeaders,
        in SignatureBytes signature)
    {
        AccessKeyId = accessKeyId;
        Date = date;
        Region = region;
        Service = service;
        SignedHeaders = signedHeaders;
        _signature = signature;
    }

    /// <summary>The access key id of the credential scope (may contain '/', see <see cref="TryParse"/>).</summary>
    public string AccessKeyId { get; }

    /// <summary>The credential scope date, <c>yyyyMMdd</c>.</summary>
    public string Date { get; }

    /// <summary>The credential scope region (any AWS region may call an XKS proxy).</summary>
    public string Region { get; }

    /// <summary>The credential scope service; XKS requires <see cref="SigV4Verifier.Service"/>.</summary>
    public string Service { get; }

    /// <summary>The signed header names, lowercase, ';'-separated, strictly ascending.</summary>
    public string SignedHeaders { get; }

    /// <summary>The 32 signature bytes (decoded from the hex in the header).</summary>
    [UnscopedRef]
    public ReadOnlySpan<byte> Signature => _signature;

    /// <summary>Parses a SigV4 <c>Authorization</c> header value; never throws.</summary>
    /// <remarks>
    /// Components may come in any order, each exactly once, separated by ',' and optional spaces.
    /// The credential is split from the right: the access key id is everything before the last four
    /// '/'-separated elements, because the XKS test client accepts ids containing '/' (XKS spec,
    /// "Authentication"). SignedHeaders must be lowercase and strictly ascending, as every SigV4
    /// signer emits it; anything else (a duplicate name above all) is rejected rather than guessed at.
    /// </remarks>
    public static bool TryParse(ReadOnlySpan<char> header, out SigV4Authorization auth) =>
        Parse(header, out auth) == SigV4Failure.None;

    /// <summary>Like <see cref="TryParse"/>, but says why: MalformedAuthorization or UnsupportedAlgorithm.</summary>
    internal static SigV4Failure Parse(ReadOnlySpan<char> header, out SigV4Authorization auth)
    {
        auth = default;
        header = header.Trim(" \t");
        if (header.IsEmpty || header.Length > MaxHeaderLength)
        {
            return SigV4Failure.MalformedAuthorization;
        }

        var space = header.IndexOfAny(' ', '\t');
        var algorithm = space < 0 ? header : header[..space];
        if (!algorithm.SequenceEqual(Algorithm))
        {
            return SigV4Failure.UnsupportedAlgorithm;
        }

        if (space < 0)
        {
            return SigV4Failure.MalformedAuthorization;
        }

        ReadOnlySpan<char> credential = default, signedHeaders = default, signature = default;
        bool haveCredential = false, haveSignedHeaders = false, haveSignature = false;
        var parameters = header[(space + 1)..];
        foreach (var range in parameters.Split(','))
        {
            var parameter = parameters[range].Trim(" \t");
            var equals = parameter.IndexOf('=');
            if (equals <= 0)
            {
                return SigV4Failure.MalformedAuthorization;
            }

            var name = parameter[..equals];
            var value = parameter[(equals + 1)..];
            ref var seen = ref haveCredential;
            ref var target = ref credential;
            if (name.SequenceEqual("Credential"))
            {
                // seen/target already point here.
            }
            else if (name.SequenceEqual("SignedHeaders"))
            {
                seen = ref haveSignedHeaders;
                target = ref signedHeaders;
            }
            else if (name.SequenceEqual("Signature"))
            {
                seen = ref haveSignature;
                target = ref signature;
            }
            else
            {
                return SigV4Failure.MalformedAuthorization;
            }

            if (seen)
            {
                return SigV4Failure.MalformedAuthorization;
            }

            seen = true;
            target = value;
        }

        if (!haveCredential || !haveSignedHeaders || !haveSignature
            || !TryParseCredential(credential, out var accessKeyId, out var date, out var region, out var service)
            || !IsValidSignedHeaders(signedHeaders))
        {
            return SigV4Failure.MalformedAuthorization;
        }

        var bytes = default(SignatureBytes);
        if (signature.Length != 2 * SignatureBytes.Length
            || Convert.FromHexString(signature, bytes, out _, out var written) != OperationStatus.Done
            || written != SignatureBytes.Length)
        {
            return SigV4Failure.MalformedAuthorization;
        }

        auth = new SigV4Authorization(
            accessKeyId.ToString(),
            date.ToString(),
            region.ToString(),
            service.SequenceEqual(SigV4Verifier.Service) ? SigV4Verifier.Service : service.ToString(),
            InternSignedHeaders(signedHeaders),
            bytes);
        return SigV4Failure.None;
    }

    /// <summary>The scope and signed headers, never the signature (safe to log).</summary>
    public override string ToString() =>
        AccessKeyId is null
            ? "(none)"
            : $"{AccessKeyId}/{Date}/{Region}/{Service}/{ScopeTerminator} SignedHeaders={SignedHeaders}";

    private static bool TryParseCredential(ReadOnlySpan<char> credential, out ReadOnlySpan<char> accessKeyId,
        out ReadOnlySpan<char> date, out ReadOnlySpan<char> region, out ReadOnlySpan<char> service)
    {
        accessKeyId = date = region = service = default;

        // The last four '/' separate id / date / region / service / terminator.
        Span<int> slash = stackalloc int[4];
        var rest = credential;
        for (var i = 0; i < slash.Length; i++)
        {
            slash[i] = rest.LastIndexOf('/');
            if (slash[i] < 0)
            {
                return false;
            }

            rest = rest[..slash[i]];
        }

        accessKeyId = credential[..slash[3]];
        date = credential[(slash[3] + 1)..slash[2]];
        region = credential[(slash[2] + 1)..slash[1]];
        service = credential[(slash[1] + 1)..slash[0]];
        return credential[(slash[0] + 1)..].SequenceEqual(ScopeTerminator)
            && date.Length == 8 && !date.ContainsAnyExceptInRange('0', '9')
            && IsScopeElement(region) && IsScopeElement(service)
            && accessKeyId.Length is > 0 and <= MaxAccessKeyIdLength
            && !accessKeyId.ContainsAnyExcept(AccessKeyIdChars);
    }

    private static bool IsScopeElement(ReadOnlySpan<char> value) =>
        value.Length is > 0 and <= MaxScopeElementLength && !value.ContainsAnyExcept(ScopeChars);

    private static bool IsValidSignedHeaders(ReadOnlySpan<char> signedHeaders)
    {
        if (signedHeaders.IsEmpty || signedHeaders.Length > MaxSignedHeadersLength
            || signedHeaders.ContainsAnyExcept(SignedHeaderChars))
        {
            return false;
        }

        var count = 0;
        ReadOnlySpan<char> previous = default;
        foreach (var range in signedHeaders.Split(';'))
        {
            var name = signedHeaders[range];
            if (name.IsEmpty || ++count > MaxSignedHeaderCount
                || (count > 1 && previous.SequenceCompareTo(name) >= 0))
            {
                return false;
            }

            previous = name;
        }

        return true;
    }

    private static string InternSignedHeaders(ReadOnlySpan<char> signedHeaders) =>
        signedHeaders.SequenceEqual(KmsSignedHeaders) ? KmsSignedHeaders
        : signedHeaders.SequenceEqual(CurlSignedHeaders) ? CurlSignedHeaders
        : signedHeaders.SequenceEqual(SdkSignedHeaders) ? SdkSignedHeaders
        : signedHeaders.ToString();

    // AWS ids are [A-Z2-7]; the XKS test client also accepts [A-Za-z0-9/_-] (XKS spec, "Authentication").
    private static readonly SearchValues<char> AccessKeyIdChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/_-.");

    private static readonly SearchValues<char> ScopeChars =
        SearchValues.Create("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-.");

    // RFC 9110 token characters, lowercase only (SigV4 lowercases names), plus the ';' separator.
    private static readonly SearchValues<char> SignedHeaderChars =
        SearchValues.Create("abcdefghijklmnopqrstuvwxyz0123456789!#$%&'*+-.^_`|~;");
}

/// <summary>32 bytes held inline, so a parsed header costs no array.</summary>
[InlineArray(Length)]
internal struct SignatureBytes
{
    public const int Length = 32;
#pragma warning disable IDE0044, IDE0051 // The element field of an inline array is accessed through spans only.
    private byte _element0;
#pragma warning restore IDE0044, IDE0051
}
