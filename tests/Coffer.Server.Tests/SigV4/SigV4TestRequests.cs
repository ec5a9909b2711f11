using System.Security.Cryptography;
using System.Text;
using Coffer.Server.Xks.SigV4;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.SigV4;

/// <summary>A signed request as a signer produced it: URL, body and every header it set.</summary>
public sealed record SignedRequest(Uri Url, byte[] Body, IReadOnlyDictionary<string, string> Headers)
{
    public string Authorization => Headers["Authorization"];

    public SignedRequest WithHeader(string name, string? value)
    {
        var headers = new Dictionary<string, string>(Headers, StringComparer.OrdinalIgnoreCase);
        if (value is null)
        {
            headers.Remove(name);
        }
        else
        {
            headers[name] = value;
        }

        return this with { Headers = headers };
    }
}

/// <summary>Builds real ASP.NET <see cref="HttpRequest"/>s and holds the credentials and clock the tests share.</summary>
internal static class SigV4TestRequests
{
    public const string AccessKeyId = "AKIAXKSTESTPRIMARY7Q";
    public const string Secret = "Vq3pY0m4c0fFerT3stS3cretAcc3ssK3y+/0123456789abcd";
    public const string SecondAccessKeyId = "AKIAXKSTESTROTATED2Z";
    public const string SecondSecret = "R0tat3dS3cretAcc3ssK3yF0rC0ff3rXksPr0xy+/ZYXWVUTS";
    public const string UnknownAccessKeyId = "AKIAXKSNOBODYKNOWSME";
    public const string OtherSecret = "NotTheS3cretTheProxyKnowsAbout+/0123456789ABCDEFGH";
    public const string Region = "eu-west-1";

    public static readonly Uri Url = new("https://xks.example.com:8443/coffer/kms/xks/v1/keys/key-1/encrypt");

    public static readonly byte[] Body =
        """{"requestMetadata":{"awsPrincipalArn":"arn:aws:iam::123456789012:user/Alice","kmsOperation":"Encrypt","kmsRequestId":"4112f4d6-db54-4af4-ae30-c55a22a8dfae","kmsKeyArn":"arn:aws:kms:eu-west-1:123456789012:key/a7a3d2f0"},"plaintext":"SGVsbG8gV29ybGQh","encryptionAlgorithm":"AES_GCM"}"""u8
            .ToArray();

    /// <summary>The server clock of every verifier test.</summary>
    public static readonly DateTimeOffset Now = new(2025, 6, 15, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, byte[]> Credentials = new(StringComparer.Ordinal)
    {
        [AccessKeyId] = Encoding.UTF8.GetBytes(Secret),
        [SecondAccessKeyId] = Encoding.UTF8.GetBytes(SecondSecret),
    };

    /// <summary>Knows the two credentials of one key store (XKS spec: at least two at once).</summary>
    public static readonly SecretLookup Lookup = static (string id, out ReadOnlyMemory<byte> secret) =>
    {
        var found = Credentials.TryGetValue(id, out var bytes);
        secret = bytes;
        return found;
    };

    public static SigV4Verifier NewVerifier(DateTimeOffset? now = null) =>
        new(new FakeTimeProvider(now ?? Now));

    /// <summary>
    /// The request as Kestrel would present it: Host from the URL authority (port included), the
    /// path both decoded (Path) and raw (IHttpRequestFeature.RawTarget), every header the signer set.
    /// </summary>
    public static HttpRequest ToHttpRequest(SignedRequest signed, bool withRawTarget = true)
    {
        var context = new DefaultHttpContext();
        var request = context.Request;
        request.Method = "POST";
        request.Scheme = signed.Url.Scheme;
        request.Host = new HostString(signed.Url.IsDefaultPort ? signed.Url.Host : signed.Url.Authority);
        request.Path = PathString.FromUriComponent(signed.Url.AbsolutePath);
        if (withRawTarget)
        {
            context.Features.Get<IHttpRequestFeature>()!.RawTarget = signed.Url.PathAndQuery;
        }

        foreach (var (name, value) in signed.Headers)
        {
            if (!name.Equals("Host", StringComparison.OrdinalIgnoreCase))
            {
                request.Headers.Append(name, value);
            }
        }

        request.Body = new MemoryStream(signed.Body);
        return request;
    }

    public static SigV4Failure Verify(SigV4Verifier verifier, SignedRequest signed, byte[]? actualBody = null,
        bool withRawTarget = true) =>
        verifier.Verify(ToHttpRequest(signed, withRawTarget), SHA256.HashData(actualBody ?? signed.Body), Lookup,
            out _);
}
