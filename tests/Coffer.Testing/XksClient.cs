using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Coffer.Testing;

/// <summary>
/// An XKS caller for integration tests: POSTs XKS requests to a real node, signed by AWSSDK.Core's
/// <see cref="AWS4Signer"/> (testing-notes: DefaultRequest + SignRequest with a fixed time), never by
/// Coffer's own SigV4 code. AWS4Signer signs <c>content-type;host;x-amz-content-sha256;x-amz-date</c>.
/// </summary>
/// <remarks>
/// A record, so a test derives a variant with <c>client with { Region = "us-east-1" }</c>. Every
/// knob a test needs is a property: credentials, region, service name, signing time and a hook that
/// changes the request after it was signed (body, headers, method).
/// </remarks>
public sealed record XksClient
{
    /// <summary>The SigV4 service name of XKS (XKS spec, "Authentication").</summary>
    public const string XksService = "kms-xks-proxy";

    public const string DefaultRegion = "eu-west-1";

    public const string DefaultPrincipal = "arn:aws:iam::123456789012:user/xks-tests";

    public const string DefaultKmsKeyArn = "arn:aws:kms:eu-west-1:123456789012:key/11111111-2222-3333-4444-555555555555";

    private static readonly HttpClient Http = new(new SocketsHttpHandler
    {
        UseProxy = false, // loopback only: an HTTP(S)_PROXY in the environment must not intercept
        AllowAutoRedirect = false,
        PooledConnectionLifetime = TimeSpan.FromSeconds(30),
    })
    {
        Timeout = TimeSpan.FromSeconds(30),
    };

    public XksClient(Uri baseUrl, string accessKeyId, string secretAccessKey)
    {
        BaseUrl = baseUrl;
        AccessKeyId = accessKeyId;
        SecretAccessKey = secretAccessKey;
    }

    /// <summary>The demo key store of a dev node (<c>/demo/kms/xks/v1</c>) with its credential.</summary>
    public static XksClient For(DevServer node) =>
        new(new Uri(node.Info.XksBaseUrl), node.Info.AccessKeyId, node.Info.SecretAccessKey);

    /// <summary><c>scheme://host:port[/prefix]/kms/xks/v1</c>, no trailing slash.</summary>
    public Uri BaseUrl { get; init; }

    public string AccessKeyId { get; init; }

    public string SecretAccessKey { get; init; }

    /// <summary>The region of the credential scope; XKS accepts whichever region KMS calls from.</summary>
    public string Region { get; init; } = DefaultRegion;

    /// <summary>The service of the credential scope.</summary>
    public string Service { get; init; } = XksService;

    /// <summary>Sign as if at this instant (skew tests); the current time when null.</summary>
    public DateTimeOffset? SigningTime { get; init; }

    /// <summary>Runs after signing, before sending: change the body, headers or method to break the signature.</summary>
    public Action<XksWireRequest>? AfterSigning { get; init; }

    /// <summary>The URL of <paramref name="path"/> under <see cref="BaseUrl"/>, e.g. <c>keys/k/encrypt</c> or <c>health</c>.</summary>
    public Uri UrlOf(string path) => new(BaseUrl.AbsoluteUri.TrimEnd('/') + "/" + path.TrimStart('/'));

    public Task<XksResponse> GetKeyMetadataAsync(string keyId, string? kmsRequestId = null) =>
        PostAsync($"keys/{keyId}/metadata", XksRequests.GetKeyMetadata(kmsRequestId));

    /// <summary>One encryption as AWS KMS makes it: a call refused with the transient 503
    /// DependencyTimeoutException is tried again (within <see cref="Wait.Patience"/>). On a loaded machine
    /// an audit batch may pass its one-second bound, or a cluster node be briefly unsure it is current;
    /// neither is what a budget or policy test asks about, and neither takes from a version's budget (a
    /// call refused before its answer gives its encryption back).</summary>
    public async Task<XksResponse> EncryptAsKmsAsync(string keyId, byte[] plaintext)
    {
        XksResponse answer = null!;
        await Wait.UntilAsync(async () => !IsTransient(answer = await EncryptAsync(keyId, plaintext)),
            "an encryption answered other than 503 DependencyTimeoutException");
        return answer;
    }

    private static bool IsTransient(XksResponse answer) => answer.Status == 503 && answer.ErrorName == "DependencyTimeoutException";

    public Task<XksResponse> EncryptAsync(string keyId, byte[] plaintext, byte[]? aad = null, bool cdiv = false, string? kmsRequestId = null) =>
        PostAsync($"keys/{keyId}/encrypt", XksRequests.Encrypt(plaintext, aad, cdiv, kmsRequestId));

    public Task<XksResponse> DecryptAsync(string keyId, XksEncrypted sealedData, byte[]? aad = null, string? kmsRequestId = null) =>
        PostAsync($"keys/{keyId}/decrypt", XksRequests.Decrypt(sealedData, aad, kmsRequestId));

    public Task<XksResponse> HealthAsync(string? kmsRequestId = null) =>
        PostAsync("health", XksRequests.Health(kmsRequestId));

    /// <summary>Encrypts and insists on success: the fixture step of decrypt tests.</summary>
    public async Task<XksEncrypted> MustEncryptAsync(string keyId, byte[] plaintext, byte[]? aad = null, bool cdiv = false)
    {
        var response = await EncryptAsync(keyId, plaintext, aad, cdiv);
        if (response.Status != 200)
        {
            throw new InvalidOperationException($"Encrypt with {keyId} answered {response.Status}: {response.Body}");
        }

        return XksEncrypted.From(response);
    }

    public Task<XksResponse> PostAsync(string path, JsonNode body) =>
        SendAsync(HttpMethod.Post, UrlOf(path), Encoding.UTF8.GetBytes(body.ToJsonString()));

    /// <summary>Posts exactly these bytes (malformed JSON tests).</summary>
    public Task<XksResponse> PostRawAsync(string path, byte[] body) => SendAsync(HttpMethod.Post, UrlOf(path), body);

    /// <summary>Signs with AWS4Signer and sends. <paramref name="url"/> may lie outside <see cref="BaseUrl"/> (routing tests).</summary>
    public async Task<XksResponse> SendAsync(HttpMethod method, Uri url, byte[] body)
    {
        var wire = Sign(method, url, body);
        AfterSigning?.Invoke(wire);
        return await SendSignedAsync(wire);
    }

    /// <summary>Builds the signed request without sending it.</summary>
    public XksWireRequest Sign(HttpMethod method, Uri url, byte[] body)
    {
        var endpoint = url.GetLeftPart(UriPartial.Authority);
        var request = new DefaultRequest(new EncryptRequest(), "KMS")
        {
            HttpMethod = method.Method,
            Endpoint = new Uri(endpoint),
            ResourcePath = Uri.UnescapeDataString(url.AbsolutePath),
            Content = body,
            AuthenticationRegion = Region,
            OverrideSigningServiceName = Service,
        };
        request.Headers["Content-Type"] = "application/json";
        var config = new AmazonKeyManagementServiceConfig
        {
            ServiceURL = endpoint,
            AuthenticationRegion = Region,
            AuthenticationServiceName = Service,
        };
        var signedAt = (SigningTime ?? DateTimeOffset.UtcNow).UtcDateTime;
        var result = new AWS4Signer().SignRequest(request, config, null, AccessKeyId, SecretAccessKey, signedAt);
        var headers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase);
        foreach (var (name, value) in request.Headers)
        {
            headers[name] = value;
        }

        headers["Authorization"] = result.ForAuthorizationHeader;
        return new XksWireRequest { Method = method, Url = url, Body = body, Headers = headers };
    }

    /// <summary>Sends a request as it is: every header in <see cref="XksWireRequest.Headers"/> with a
    /// non-null value, Host from the URL (HttpClient writes host:port, which is what was signed).</summary>
    public static async Task<XksResponse> SendSignedAsync(XksWireRequest wire)
    {
        using var message = new HttpRequestMessage(wire.Method, wire.Url);
        if (wire.Method != HttpMethod.Get || wire.Body.Length > 0)
        {
            message.Content = wire.HoldBodyUntil is { } hold ? new HeldContent(wire.Body, hold) : new ByteArrayContent(wire.Body);
        }

        foreach (var (name, value) in wire.Headers)
        {
            if (value is null || name.Equals("host", StringComparison.OrdinalIgnoreCase))
            {
                continue;
            }

            if (name.Equals("Transfer-Encoding", StringComparison.OrdinalIgnoreCase) && value.Equals("chunked", StringComparison.OrdinalIgnoreCase))
            {
                // A body of unknown length: HttpClient then frames it in chunks, without Content-Length.
                message.Headers.TransferEncodingChunked = true;
                message.Content?.Headers.ContentLength = null;
            }
            else if (name.Equals("Content-Type", StringComparison.OrdinalIgnoreCase) || name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, value);
            }
            else
            {
                message.Headers.TryAddWithoutValidation(name, value);
            }
        }

        using var response = await Http.SendAsync(message);
        var bytes = await response.Content.ReadAsByteArrayAsync();
        var headers = response.Headers.Concat(response.Content.Headers)
            .ToDictionary(h => h.Key, h => string.Join(", ", h.Value), StringComparer.OrdinalIgnoreCase);
        return new XksResponse((int)response.StatusCode, bytes, headers);
    }

    /// <summary>A request with no signature at all (the load-balancer ping, missing-Authorization tests).</summary>
    public static async Task<XksResponse> SendUnsignedAsync(HttpMethod method, Uri url, byte[]? body = null) =>
        await SendSignedAsync(new XksWireRequest
        {
            Method = method,
            Url = url,
            Body = body ?? [],
            Headers = new Dictionary<string, string?>(StringComparer.OrdinalIgnoreCase)
            {
                ["Content-Type"] = body is null ? null : "application/json",
            },
        });
}

/// <summary>A signed request on its way out; <see cref="XksClient.AfterSigning"/> may change any part.</summary>
public sealed class XksWireRequest
{
    public required HttpMethod Method { get; set; }

    public required Uri Url { get; set; }

    public required byte[] Body { get; set; }

    /// <summary>Header name → value; a null value removes the header.</summary>
    public required Dictionary<string, string?> Headers { get; init; }

    /// <summary>When set, the headers go out at once and the body only once this completes (a client
    /// whose body is still on its way while the server already handles the request).</summary>
    public Task? HoldBodyUntil { get; set; }
}

/// <summary>A body with a known length, sent after <paramref name="hold"/>; the headers are flushed first.</summary>
internal sealed class HeldContent(byte[] body, Task hold) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        await stream.FlushAsync();
        await hold;
        await stream.WriteAsync(body);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = body.Length;
        return true;
    }
}

/// <summary>What the node answered.</summary>
public sealed class XksResponse(int status, byte[] body, IReadOnlyDictionary<string, string> headers)
{
    private JsonElement? _json;

    public int Status { get; } = status;

    public byte[] RawBody { get; } = body;

    public string Body { get; } = Encoding.UTF8.GetString(body);

    public IReadOnlyDictionary<string, string> Headers { get; } = headers;

    public string? ContentType => Headers.GetValueOrDefault("Content-Type");

    /// <summary>The body as JSON (throws when it is not JSON, which fails the test saying why).</summary>
    public JsonElement Json => _json ??= ParseJson();

    public string? ErrorName => Json.TryGetProperty("errorName", out var name) ? name.GetString() : null;

    public string? ErrorMessage => Json.TryGetProperty("errorMessage", out var message) ? message.GetString() : null;

    /// <summary>A Base64 member of the answer, decoded.</summary>
    public byte[] Bytes(string property) => Convert.FromBase64String(Json.GetProperty(property).GetString()!);

    public string String(string property) => Json.GetProperty(property).GetString()!;

    public override string ToString() => $"{Status} {Body}";

    private JsonElement ParseJson()
    {
        try
        {
            using var document = JsonDocument.Parse(RawBody);
            return document.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new InvalidOperationException($"The answer is not JSON ({Status}): {Body}", e);
        }
    }
}

/// <summary>The parts of an XKS ciphertext as Encrypt returns them and Decrypt takes them.</summary>
public sealed record XksEncrypted(byte[] Ciphertext, byte[] InitializationVector, byte[] AuthenticationTag, byte[]? CiphertextMetadata, byte[]? CiphertextDataIntegrityValue = null)
{
    public static XksEncrypted From(XksResponse encrypted)
    {
        var json = encrypted.Json;
        return new XksEncrypted(
            encrypted.Bytes("ciphertext"),
            encrypted.Bytes("initializationVector"),
            encrypted.Bytes("authenticationTag"),
            json.TryGetProperty("ciphertextMetadata", out var meta) ? Convert.FromBase64String(meta.GetString()!) : null,
            json.TryGetProperty("ciphertextDataIntegrityValue", out var cdiv) ? Convert.FromBase64String(cdiv.GetString()!) : null);
    }
}

/// <summary>
/// XKS request bodies (XKS spec, "API operations") as mutable JSON, so a test can drop, add or
/// corrupt any member. Every body gets a fresh <c>kmsRequestId</c> unless one is given, so a test
/// can find its own log line.
/// </summary>
public static class XksRequests
{
    public static string NewRequestId() => "xks-test-" + Guid.NewGuid().ToString("N");

    public static JsonObject Metadata(string kmsOperation, string? kmsRequestId = null, bool keyArn = true)
    {
        var metadata = new JsonObject
        {
            ["awsPrincipalArn"] = XksClient.DefaultPrincipal,
            ["kmsOperation"] = kmsOperation,
            ["kmsRequestId"] = kmsRequestId ?? NewRequestId(),
        };
        if (keyArn)
        {
            metadata["kmsKeyArn"] = XksClient.DefaultKmsKeyArn;
        }

        return metadata;
    }

    public static JsonObject GetKeyMetadata(string? kmsRequestId = null) => new()
    {
        ["requestMetadata"] = Metadata("DescribeKey", kmsRequestId, keyArn: false),
    };

    public static JsonObject Encrypt(byte[] plaintext, byte[]? aad = null, bool cdiv = false, string? kmsRequestId = null)
    {
        var body = new JsonObject
        {
            ["requestMetadata"] = Metadata("Encrypt", kmsRequestId),
            ["plaintext"] = Convert.ToBase64String(plaintext),
            ["encryptionAlgorithm"] = "AES_GCM",
        };
        if (aad is not null)
        {
            body["additionalAuthenticatedData"] = Convert.ToBase64String(aad);
        }

        if (cdiv)
        {
            body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_256";
        }

        return body;
    }

    public static JsonObject Decrypt(XksEncrypted sealedData, byte[]? aad = null, string? kmsRequestId = null)
    {
        var body = new JsonObject
        {
            ["requestMetadata"] = Metadata("Decrypt", kmsRequestId),
            ["ciphertext"] = Convert.ToBase64String(sealedData.Ciphertext),
            ["initializationVector"] = Convert.ToBase64String(sealedData.InitializationVector),
            ["authenticationTag"] = Convert.ToBase64String(sealedData.AuthenticationTag),
            ["encryptionAlgorithm"] = "AES_GCM",
        };
        if (sealedData.CiphertextMetadata is not null)
        {
            body["ciphertextMetadata"] = Convert.ToBase64String(sealedData.CiphertextMetadata);
        }

        if (aad is not null)
        {
            body["additionalAuthenticatedData"] = Convert.ToBase64String(aad);
        }

        return body;
    }

    /// <summary>GetHealthStatus carries only kmsRequestId and kmsOperation (XKS spec, GetHealthStatus).</summary>
    public static JsonObject Health(string? kmsRequestId = null) => new()
    {
        ["requestMetadata"] = new JsonObject
        {
            ["kmsRequestId"] = kmsRequestId ?? NewRequestId(),
            ["kmsOperation"] = "CreateCustomKeyStore",
        },
    };

    /// <summary>The amz date format (ISO 8601 basic), for tests that reason about X-Amz-Date.</summary>
    public static string AmzDate(DateTimeOffset at) => at.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", CultureInfo.InvariantCulture);
}
