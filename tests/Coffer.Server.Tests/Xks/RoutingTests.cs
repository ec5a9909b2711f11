using System.Text;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>Paths, methods and request bodies that are not a valid XKS call (XKS spec, "Error codes").</summary>
public abstract class RoutingTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;

    public static TheoryData<string> Operations => ["metadata", "encrypt", "decrypt", "health"];

    public static TheoryData<string> KeyOperations => ["metadata", "encrypt", "decrypt"];

    private static string PathOf(string operation, string key) => operation == "health" ? "health" : $"keys/{key}/{operation}";

    /// <summary>A body that is valid for <paramref name="operation"/> as far as the fields go.</summary>
    private static JsonObject ValidBody(string operation) => operation switch
    {
        "metadata" => XksRequests.GetKeyMetadata(),
        "encrypt" => XksRequests.Encrypt([1, 2, 3]),
        "decrypt" => XksRequests.Decrypt(new XksEncrypted(new byte[3], new byte[12], new byte[16], [1, 0, 0, 0, 1])),
        _ => XksRequests.Health(),
    };

    [Theory]
    [MemberData(nameof(KeyOperations))]
    public async Task Unknown_external_key_id_is_KeyNotFoundException(string operation)
    {
        var response = await _xks.PostAsync(PathOf(operation, "no-such-key"), ValidBody(operation));

        XksAssert.Error(response, 404, "KeyNotFoundException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Answers_and_errors_carry_their_length_instead_of_chunked_framing(string operation)
    {
        var answered = await _xks.PostAsync(PathOf(operation, fixture.DemoKey), ValidBody(operation));
        var elsewhere = _xks with { BaseUrl = new Uri(fixture.Node.XksUrl, "/no-such-tenant/kms/xks/v1") };
        var failed = await elsewhere.PostAsync(PathOf(operation, fixture.DemoKey), ValidBody(operation));

        foreach (var response in new[] { answered, failed })
        {
            Assert.Equal(response.RawBody.Length.ToString(System.Globalization.CultureInfo.InvariantCulture), response.Headers.GetValueOrDefault("Content-Length"));
            Assert.False(response.Headers.ContainsKey("Transfer-Encoding"), $"{operation} answered {response.Status} with Transfer-Encoding: {response.Headers.GetValueOrDefault("Transfer-Encoding")}");
            Assert.NotEmpty(response.RawBody);
        }

        XksAssert.Error(failed, 404, "InvalidUriPathException");
    }

    [Fact]
    public async Task External_key_id_of_129_characters_is_ValidationException()
    {
        var response = await _xks.PostAsync(PathOf("metadata", new string('k', 129)), ValidBody("metadata"));

        XksAssert.Error(response, 400, "ValidationException");
    }

    [Fact]
    public async Task External_key_id_of_128_characters_is_looked_up()
    {
        var response = await _xks.PostAsync(PathOf("metadata", new string('k', 128)), ValidBody("metadata"));

        XksAssert.Error(response, 404, "KeyNotFoundException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Unknown_prefix_correctly_signed_is_InvalidUriPathException(string operation)
    {
        // XKS spec, Authentication: the prefix is resolved first; unknown is 404, not 401.
        var elsewhere = _xks with { BaseUrl = new Uri(fixture.Node.XksUrl, "/no-such-tenant/kms/xks/v1") };

        XksAssert.Error(await elsewhere.PostAsync(PathOf(operation, fixture.DemoKey), ValidBody(operation)), 404, "InvalidUriPathException");
    }

    [Fact]
    public async Task Prefix_is_case_sensitive()
    {
        var shouted = _xks with { BaseUrl = new Uri(fixture.Node.XksUrl, "/DEMO/kms/xks/v1") };

        XksAssert.Error(await shouted.HealthAsync(), 404, "InvalidUriPathException");
    }

    [Theory]
    [InlineData("/")]
    [InlineData("/demo")]
    [InlineData("/demo/kms/xks/v2/health")]
    [InlineData("/demo/kms/xks/v1")]
    [InlineData("/demo/kms/xks/v1/")]
    [InlineData("/demo/kms/xks/v1/keys")]
    [InlineData("/demo/kms/xks/v1/keys/demo-key")]
    [InlineData("/demo/kms/xks/v1/keys/demo-key/")]
    [InlineData("/demo/kms/xks/v1/keys/demo-key/encrypt/more")]
    [InlineData("/demo/kms/xks/v1/healthz")]
    [InlineData("/api/v1/keystores")]
    public async Task Non_XKS_path_is_InvalidUriPathException(string path)
    {
        var response = await _xks.SendAsync(HttpMethod.Post, new Uri(fixture.Node.XksUrl, path), Encoding.UTF8.GetBytes(XksRequests.Health().ToJsonString()));

        XksAssert.Error(response, 404, "InvalidUriPathException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task GET_on_an_API_URI_is_405(string operation)
    {
        // XKS spec, "API operations": every API is POST; a GET gets 405.
        var response = await _xks.SendAsync(HttpMethod.Get, _xks.UrlOf(PathOf(operation, fixture.DemoKey)), []);

        Assert.Equal(405, response.Status);
        Assert.Equal("POST", response.Headers.GetValueOrDefault("Allow"));
    }

    [Fact]
    public async Task Unknown_key_operation_is_UnsupportedOperationException()
    {
        var response = await _xks.PostAsync($"keys/{fixture.DemoKey}/sign", XksRequests.Encrypt([1, 2, 3]));

        XksAssert.Error(response, 501, "UnsupportedOperationException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Empty_object_body_is_ValidationException_for_every_operation_health_included(string operation)
    {
        // Coffer follows the project doc here (requestMetadata is required everywhere, health too);
        // the spec's error table lists ValidationException for "ALL except GetHealthStatus".
        XksAssert.Error(await _xks.PostRawAsync(PathOf(operation, fixture.DemoKey), "{}"u8.ToArray()), 400, "ValidationException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Missing_requestMetadata_is_ValidationException(string operation)
    {
        var body = ValidBody(operation);
        body.Remove("requestMetadata");

        XksAssert.Error(await _xks.PostAsync(PathOf(operation, fixture.DemoKey), body), 400, "ValidationException");
    }

    [Theory]
    [MemberData(nameof(Operations))]
    public async Task Empty_requestMetadata_is_ValidationException(string operation)
    {
        var body = ValidBody(operation);
        body["requestMetadata"] = new JsonObject();

        XksAssert.Error(await _xks.PostAsync(PathOf(operation, fixture.DemoKey), body), 400, "ValidationException");
    }

    [Theory]
    [InlineData("")]
    [InlineData("{")]
    [InlineData("not json")]
    [InlineData("[]")]
    [InlineData("null")]
    [InlineData("\"requestMetadata\"")]
    [InlineData("{\"requestMetadata\": \"text\"}")]
    [InlineData("{\"requestMetadata\": {\"kmsRequestId\": 5, \"kmsOperation\": \"Encrypt\"}}")]
    public async Task Malformed_json_is_ValidationException(string body)
    {
        XksAssert.Error(await _xks.PostRawAsync(PathOf("encrypt", fixture.DemoKey), Encoding.UTF8.GetBytes(body)), 400, "ValidationException");
    }

    [Theory]
    [InlineData("plaintext")]
    [InlineData("additionalAuthenticatedData")]
    public async Task Bad_base64_is_ValidationException(string field)
    {
        var body = XksRequests.Encrypt([1, 2, 3], aad: [4, 5, 6]);
        body[field] = "***not base64***";

        XksAssert.Error(await _xks.PostAsync(PathOf("encrypt", fixture.DemoKey), body), 400, "ValidationException");
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("initializationVector")]
    [InlineData("authenticationTag")]
    [InlineData("ciphertextMetadata")]
    public async Task Bad_base64_in_decrypt_is_ValidationException(string field)
    {
        var body = ValidBody("decrypt");
        body[field] = "AQID%";

        XksAssert.Error(await _xks.PostAsync(PathOf("decrypt", fixture.DemoKey), body), 400, "ValidationException");
    }

    [Fact]
    public async Task Body_larger_than_any_valid_request_is_UnsupportedOperationException()
    {
        // Bigger than MaxPlaintextBytes and MaxAadBytes together could ever need in Base64.
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["padding"] = new string('p', 200_000);

        XksAssert.Error(await _xks.PostAsync(PathOf("encrypt", fixture.DemoKey), body), 501, "UnsupportedOperationException");
    }

    [Fact]
    public async Task Chunked_body_larger_than_any_valid_request_is_UnsupportedOperationException()
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["padding"] = new string('p', 200_000);
        var chunked = _xks with
        {
            AfterSigning = wire =>
            {
                wire.Headers["Transfer-Encoding"] = "chunked";
                wire.Headers["Content-Length"] = null;
            },
        };

        XksAssert.Error(await chunked.PostAsync(PathOf("encrypt", fixture.DemoKey), body), 501, "UnsupportedOperationException");
    }
}
