using System.Net.Http.Headers;
using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using Amazon.KeyManagementService;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;

namespace Coffer.Bench;

/// <summary>One fully signed request, kept in two ready-to-send forms (raw HTTP/1.1 bytes and a
/// preallocated ByteArrayContent) so the timed loop does no signing, hashing or encoding.</summary>
public sealed class PreparedRequest
{
    public required string Path { get; init; }
    public required Uri Uri { get; init; }
    public required byte[] Body { get; init; }
    public required KeyValuePair<string, string>[] Headers { get; init; }
    public required byte[] Raw { get; init; }
    public required ByteArrayContent Content { get; init; }
}

/// <summary>Target of the bench: where the XKS API is and the credential to sign with.</summary>
public sealed record XksTarget(Uri BaseUrl, string AccessKeyId, string Secret, string KeyId)
{
    public string Host => $"{BaseUrl.Host}:{BaseUrl.Port}";
    public string PathOf(string suffix) => BaseUrl.AbsolutePath.TrimEnd('/') + "/" + suffix;
}

/// <summary>Builds XKS bodies and signs them with the AWS SDK's own SigV4 signer (not Coffer's code).</summary>
public static class XksRequests
{
    public const string Region = "eu-west-1";
    public const string Service = "kms-xks-proxy";
    private const string PrincipalArn = "arn:aws:iam::111122223333:role/bench";
    private const string KeyArn = "arn:aws:kms:eu-west-1:111122223333:key/1234abcd-12ab-34cd-56ef-1234567890ab";

    public static byte[] EncryptBody(int plaintextBytes, bool cdiv)
    {
        var plaintext = RandomNumberGenerator.GetBytes(plaintextBytes);
        var aad = RandomNumberGenerator.GetBytes(32);
        var sb = new StringBuilder(256 + (plaintextBytes * 2));
        AppendMetadata(sb, "GenerateDataKey");
        sb.Append(",\"plaintext\":\"").Append(Convert.ToBase64String(plaintext))
          .Append("\",\"encryptionAlgorithm\":\"AES_GCM\",\"additionalAuthenticatedData\":\"")
          .Append(Convert.ToBase64String(aad)).Append('"');
        if (cdiv) sb.Append(",\"ciphertextDataIntegrityValueAlgorithm\":\"SHA_256\"");
        return Encoding.UTF8.GetBytes(sb.Append('}').ToString());
    }

    /// <summary>Decrypt body from an encrypt request body and the server's encrypt response.</summary>
    public static byte[] DecryptBody(byte[] encryptRequest, byte[] encryptResponse)
    {
        using var req = JsonDocument.Parse(encryptRequest);
        using var resp = JsonDocument.Parse(encryptResponse);
        var r = resp.RootElement;
        var sb = new StringBuilder(512);
        AppendMetadata(sb, "Decrypt");
        sb.Append(",\"ciphertext\":\"").Append(r.GetProperty("ciphertext").GetString())
          .Append("\",\"initializationVector\":\"").Append(r.GetProperty("initializationVector").GetString())
          .Append("\",\"authenticationTag\":\"").Append(r.GetProperty("authenticationTag").GetString()).Append('"');
        if (r.TryGetProperty("ciphertextMetadata", out var meta) && meta.ValueKind == JsonValueKind.String)
            sb.Append(",\"ciphertextMetadata\":\"").Append(meta.GetString()).Append('"');
        sb.Append(",\"additionalAuthenticatedData\":\"")
          .Append(req.RootElement.GetProperty("additionalAuthenticatedData").GetString())
          .Append("\",\"encryptionAlgorithm\":\"AES_GCM\"}");
        return Encoding.UTF8.GetBytes(sb.ToString());
    }

    public static byte[] HealthBody() => Encoding.UTF8.GetBytes(
        "{\"requestMetadata\":{\"kmsRequestId\":\"" + Guid.NewGuid() + "\",\"kmsOperation\":\"KmsHealthCheck\"}}");

    private static void AppendMetadata(StringBuilder sb, string operation) =>
        sb.Append("{\"requestMetadata\":{\"awsPrincipalArn\":\"").Append(PrincipalArn)
          .Append("\",\"kmsKeyArn\":\"").Append(KeyArn)
          .Append("\",\"kmsOperation\":\"").Append(operation)
          .Append("\",\"kmsRequestId\":\"").Append(Guid.NewGuid())
          .Append("\",\"kmsViaService\":\"ebs\"}");

    /// <summary>Signs one POST with AWS4Signer (signs content-type;host;x-amz-content-sha256;x-amz-date).</summary>
    public static PreparedRequest Sign(XksTarget target, string path, byte[] body, DateTime utcNow)
    {
        var endpoint = new Uri($"http://{target.Host}");
        var request = new DefaultRequest(new Amazon.KeyManagementService.Model.EncryptRequest(), "KMS")
        {
            HttpMethod = "POST",
            Endpoint = endpoint,
            ResourcePath = path,
            Content = body,
            AuthenticationRegion = Region,
            OverrideSigningServiceName = Service,
        };
        request.Headers["Content-Type"] = "application/json";
        var config = new AmazonKeyManagementServiceConfig
        {
            ServiceURL = endpoint.ToString(),
            AuthenticationRegion = Region,
            AuthenticationServiceName = Service,
        };
        var signed = new AWS4Signer().SignRequest(request, config, null, target.AccessKeyId, target.Secret, utcNow);

        var headers = new List<KeyValuePair<string, string>>
        {
            new("X-Amz-Date", request.Headers["X-Amz-Date"]),
            new("Authorization", signed.ForAuthorizationHeader),
        };
        if (request.Headers.TryGetValue("X-Amz-Content-SHA256", out var sha)) headers.Add(new("X-Amz-Content-SHA256", sha));

        var head = new StringBuilder(512)
            .Append("POST ").Append(path).Append(" HTTP/1.1\r\nHost: ").Append(target.Host)
            .Append("\r\nContent-Type: application/json\r\nContent-Length: ").Append(body.Length).Append("\r\n");
        foreach (var (k, v) in headers) head.Append(k).Append(": ").Append(v).Append("\r\n");
        var headBytes = Encoding.ASCII.GetBytes(head.Append("\r\n").ToString());
        var raw = new byte[headBytes.Length + body.Length];
        headBytes.CopyTo(raw, 0);
        body.CopyTo(raw, headBytes.Length);

        var content = new ByteArrayContent(body);
        content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        return new PreparedRequest
        {
            Path = path, Uri = new Uri(endpoint, path), Body = body,
            Headers = [.. headers], Raw = raw, Content = content,
        };
    }

    /// <summary>Signs a whole pool at one instant; the server accepts it for 5 minutes of skew.</summary>
    public static PreparedRequest[] SignPool(XksTarget target, string path, IReadOnlyList<byte[]> bodies)
    {
        var now = DateTime.UtcNow;
        var pool = new PreparedRequest[bodies.Count];
        for (var i = 0; i < pool.Length; i++) pool[i] = Sign(target, path, bodies[i], now);
        return pool;
    }
}
