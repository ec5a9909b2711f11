using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// XKS spec, Logging: every call is one log line (event 2000) with kmsRequestId, key store, key,
/// operation, kmsOperation, principal, outcome, error and latency; plaintext, AAD and secrets never
/// reach the log nor an error answer. Tests of this class run one after another on their own node,
/// so counting its log lines is exact. (Kestrel finishes a response — the last chunk — only after
/// the handler returned, and the line is written in the handler's finally: it is there when the
/// client has read the answer.)
/// </summary>
public abstract partial class LoggingTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;
    private readonly string _key = fixture.DemoKey;

    private DevServer Node => fixture.Node;

    private List<string> CallLines() => [.. Node.Logs.Lines.Where(l => l.Contains("[2000] ", StringComparison.Ordinal))];

    private List<string> LinesOf(string kmsRequestId) =>
        [.. CallLines().Where(l => l.Contains($"xks {kmsRequestId} ", StringComparison.Ordinal))];

    private async Task<string> OneNewLineAsync(Func<Task<XksResponse>> call)
    {
        var before = CallLines().Count;
        await call();
        var lines = CallLines();
        Assert.Equal(before + 1, lines.Count);
        return lines[^1];
    }

    [GeneratedRegex(@"latencyMs=\d+\.\d{3}")]
    private static partial Regex Latency();

    [Fact]
    public async Task Successful_call_is_one_line_with_request_id_key_store_key_operation_principal_outcome_and_latency()
    {
        var id = XksRequests.NewRequestId();
        XksAssert.Ok(await _xks.EncryptAsync(_key, [1, 2, 3], kmsRequestId: id));

        var line = Assert.Single(LinesOf(id));
        Assert.Contains(" keystore=demo ", line, StringComparison.Ordinal);
        Assert.Contains($" key={_key} ", line, StringComparison.Ordinal);
        Assert.Contains(" op=Encrypt ", line, StringComparison.Ordinal);
        Assert.Contains(" kmsOperation=Encrypt ", line, StringComparison.Ordinal);
        Assert.Contains($" principal={XksClient.DefaultPrincipal} ", line, StringComparison.Ordinal);
        Assert.Contains(" outcome=ok ", line, StringComparison.Ordinal);
        Assert.Contains(" error=- ", line, StringComparison.Ordinal);
        Assert.Matches(Latency(), line);
    }

    [Theory]
    [InlineData("metadata", "GetKeyMetadata", "DescribeKey")]
    [InlineData("decrypt", "Decrypt", "Decrypt")]
    public async Task Each_operation_is_logged_under_its_name(string path, string operation, string kmsOperation)
    {
        var id = XksRequests.NewRequestId();
        var sealedData = await _xks.MustEncryptAsync(_key, [1]);
        var body = path == "metadata" ? XksRequests.GetKeyMetadata(id) : XksRequests.Decrypt(sealedData, kmsRequestId: id);
        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/{path}", body));

        var line = Assert.Single(LinesOf(id));
        Assert.Contains($" op={operation} kmsOperation={kmsOperation} ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Health_call_is_one_line_without_a_key()
    {
        var id = XksRequests.NewRequestId();
        XksAssert.Ok(await _xks.HealthAsync(id));

        var line = Assert.Single(LinesOf(id));
        Assert.Contains(" keystore=demo key=- op=GetHealthStatus ", line, StringComparison.Ordinal);
        Assert.Contains(" outcome=ok ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Failed_call_is_one_line_with_its_error_name()
    {
        var id = XksRequests.NewRequestId();
        var sealedData = await _xks.MustEncryptAsync(_key, [1, 2, 3]);
        var tampered = sealedData with { AuthenticationTag = [.. sealedData.AuthenticationTag[..^1], (byte)(sealedData.AuthenticationTag[^1] ^ 1)] };
        XksAssert.Error(await _xks.DecryptAsync(_key, tampered, kmsRequestId: id), 400, "InvalidCiphertextException");

        var line = Assert.Single(LinesOf(id));
        Assert.Contains(" op=Decrypt ", line, StringComparison.Ordinal);
        Assert.Contains(" outcome=error error=InvalidCiphertextException ", line, StringComparison.Ordinal);
        Assert.Matches(Latency(), line);
    }

    [Fact]
    public async Task Rejected_signature_is_one_line_with_AuthenticationFailedException()
    {
        var line = await OneNewLineAsync(() => (_xks with { SecretAccessKey = "wrong-secret-wrong-secret-wrong-secret-wrong" }).GetKeyMetadataAsync(_key));

        Assert.Contains(" keystore=demo ", line, StringComparison.Ordinal);
        Assert.Contains(" op=GetKeyMetadata ", line, StringComparison.Ordinal);
        Assert.Contains(" outcome=error error=AuthenticationFailedException ", line, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_prefix_unknown_path_and_GET_are_one_line_each()
    {
        var elsewhere = _xks with { BaseUrl = new Uri(Node.XksUrl, "/nowhere/kms/xks/v1") };
        Assert.Contains(" error=InvalidUriPathException ", await OneNewLineAsync(() => elsewhere.HealthAsync()), StringComparison.Ordinal);
        Assert.Contains(" error=InvalidUriPathException ", await OneNewLineAsync(() => _xks.SendAsync(HttpMethod.Post, new Uri(Node.XksUrl, "/nothing/here"), [])), StringComparison.Ordinal);
        Assert.Contains(" outcome=error ", await OneNewLineAsync(() => _xks.SendAsync(HttpMethod.Get, _xks.UrlOf("health"), [])), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Ping_is_not_an_XKS_call_and_writes_no_call_line()
    {
        var before = CallLines().Count;

        Assert.Equal(200, (await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(Node.XksUrl, "/ping"))).Status);

        Assert.Equal(before, CallLines().Count);
    }

    [Fact]
    public async Task Plaintext_aad_and_secrets_never_reach_the_log_nor_an_error_answer()
    {
        var plaintext = Encoding.ASCII.GetBytes("MARKER-PLAINTEXT-" + RandomNumberGenerator.GetHexString(15));
        var aad = Encoding.ASCII.GetBytes("MARKER-AAD-" + RandomNumberGenerator.GetHexString(21));
        Assert.Equal(32, plaintext.Length);
        var wrongSecret = "MARKERWRONGSECRET" + RandomNumberGenerator.GetHexString(30);
        var masterKey = await File.ReadAllBytesAsync(Path.Combine(Node.DataDirectory, "master.key"));
        var exposed = new List<XksResponse>();
        async Task<XksResponse> Call(Task<XksResponse> call)
        {
            var response = await call;
            exposed.Add(response);
            return response;
        }

        // Successes: encrypt (with and without CDIV) and decrypt.
        var sealedData = XksEncrypted.From(await Call(_xks.EncryptAsync(_key, plaintext, aad)));
        await Call(_xks.EncryptAsync(_key, plaintext, aad, cdiv: true));
        XksAssert.Ok(await _xks.DecryptAsync(_key, sealedData, aad)); // its body is the plaintext, by design
        // Failures: tampered decrypt, wrong AAD, bad signature, oversize, unknown key, bad JSON, bad base64.
        var tampered = sealedData with { Ciphertext = [.. sealedData.Ciphertext[..^1], (byte)(sealedData.Ciphertext[^1] ^ 1)] };
        XksAssert.Error(await Call(_xks.DecryptAsync(_key, tampered, aad)), 400, "InvalidCiphertextException");
        XksAssert.Error(await Call(_xks.DecryptAsync(_key, sealedData, plaintext)), 400, "InvalidCiphertextException");
        XksAssert.Error(await Call((_xks with { SecretAccessKey = wrongSecret }).EncryptAsync(_key, plaintext, aad)), 401, "AuthenticationFailedException");
        var oversize = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxPlaintextBytes + 30];
        plaintext.CopyTo(oversize, 0);
        XksAssert.Error(await Call(_xks.EncryptAsync(_key, oversize, aad)), 501, "UnsupportedOperationException");
        var oversizeAad = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxAadBytes + 30];
        aad.CopyTo(oversizeAad, 0);
        XksAssert.Error(await Call(_xks.EncryptAsync(_key, plaintext, oversizeAad)), 501, "UnsupportedOperationException");
        XksAssert.Error(await Call(_xks.EncryptAsync("no-such-key", plaintext, aad)), 404, "KeyNotFoundException");
        XksAssert.Error(await Call(_xks.PostRawAsync($"keys/{_key}/encrypt", [.. "{\"plaintext\":\""u8, .. plaintext, .. "\""u8])), 400, "ValidationException");
        var badBase64 = XksRequests.Encrypt(plaintext, aad);
        badBase64["plaintext"] = Encoding.ASCII.GetString(plaintext) + "!";
        XksAssert.Error(await Call(_xks.PostAsync($"keys/{_key}/encrypt", badBase64)), 400, "ValidationException");
        var cdivOnBadAlgorithm = XksRequests.Encrypt(plaintext, aad, cdiv: true);
        cdivOnBadAlgorithm["encryptionAlgorithm"] = "MARKER-ALGORITHM";
        XksAssert.Error(await Call(_xks.PostAsync($"keys/{_key}/encrypt", cdivOnBadAlgorithm)), 501, "UnsupportedOperationException");

        string[] needles =
        [
            "MARKER-PLAINTEXT", "MARKER-AAD", "MARKERWRONGSECRET", "MARKER-ALGORITHM",
            Convert.ToBase64String(plaintext), Convert.ToBase64String(plaintext[..30]),
            Convert.ToBase64String(aad), Convert.ToBase64String(aad[..30]),
            Convert.ToHexString(plaintext), Convert.ToHexStringLower(plaintext),
            Node.Info.SecretAccessKey, Node.Info.AdminToken, wrongSecret,
            Convert.ToBase64String(masterKey), Convert.ToHexString(masterKey), Convert.ToHexStringLower(masterKey),
        ];
        var logs = Node.Logs.All;
        Assert.NotEmpty(LinesOf("-"));
        foreach (var needle in needles)
        {
            Assert.DoesNotContain(needle, logs, StringComparison.OrdinalIgnoreCase);
            Assert.All(exposed, response => Assert.DoesNotContain(needle, response.Body, StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task Request_metadata_values_cannot_forge_a_second_log_line()
    {
        // XKS spec, Logging: "protect log integrity". kmsRequestId and awsPrincipalArn are opaque
        // strings from the (authenticated) caller; written raw, a line break in them forges a line.
        var id = XksRequests.NewRequestId() + "\nInformation Coffer.Server.Xks.XksHandler[2000] xks forged keystore=demo outcome=ok";
        var body = XksRequests.GetKeyMetadata(id);
        body["requestMetadata"]!["awsPrincipalArn"] = "arn:aws:iam::123456789012:user/x\r\nforged-principal-line";
        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/metadata", body));

        var line = Assert.Single(CallLines(), l => l.Contains(id[..id.IndexOf('\n', StringComparison.Ordinal)], StringComparison.Ordinal));
        var message = line[..line.IndexOf(" | ", StringComparison.Ordinal)];
        Assert.False(message.Any(char.IsControl), $"The call line carries raw control characters: {message.ReplaceLineEndings("⏎")}");
    }
}
