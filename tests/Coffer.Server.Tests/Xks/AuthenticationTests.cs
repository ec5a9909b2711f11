using System.Text;
using Coffer.Testing;
using Coffer.Testing.Signers;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// XKS spec, Authentication: SigV4 with service kms-xks-proxy, any region, 5 minutes of skew, at
/// least two live credentials per key store. Every rejection is 401 AuthenticationFailedException.
/// Signers: AWSSDK's AWS4Signer, curl --aws-sigv4 and botocore — never Coffer's own code.
/// </summary>
public abstract class AuthenticationTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;
    private readonly string _key = fixture.DemoKey;

    private static byte[] MetadataBody() => Encoding.UTF8.GetBytes(XksRequests.GetKeyMetadata().ToJsonString());

    private static void Rejected(XksResponse response) => XksAssert.Error(response, 401, "AuthenticationFailedException");

    [Fact]
    public async Task Correctly_signed_request_is_accepted()
    {
        XksAssert.Ok(await _xks.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Wrong_secret_is_AuthenticationFailedException()
    {
        var secret = _xks.SecretAccessKey;
        var wrong = secret[..^1] + (secret[^1] == 'A' ? 'B' : 'A');

        Rejected(await (_xks with { SecretAccessKey = wrong }).GetKeyMetadataAsync(_key));
    }

    [Theory]
    [InlineData("kms")]
    [InlineData("kms-xks")]
    [InlineData("KMS-XKS-PROXY")]
    public async Task Wrong_service_name_is_AuthenticationFailedException(string service)
    {
        Rejected(await (_xks with { Service = service }).GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Unknown_access_key_id_is_AuthenticationFailedException()
    {
        Rejected(await (_xks with { AccessKeyId = "AKIDUNKNOWN234567ABCDEFGH" }).GetKeyMetadataAsync(_key));
    }

    [Theory]
    [InlineData(-6)]
    [InlineData(6)]
    public async Task Request_signed_6_minutes_off_the_server_clock_is_AuthenticationFailedException(int minutes)
    {
        var skewed = _xks with { SigningTime = DateTimeOffset.UtcNow.AddMinutes(minutes) };

        Rejected(await skewed.GetKeyMetadataAsync(_key));
    }

    [Theory]
    [InlineData(-4)]
    [InlineData(4)]
    public async Task Request_signed_4_minutes_off_the_server_clock_is_accepted(int minutes)
    {
        var skewed = _xks with { SigningTime = DateTimeOffset.UtcNow.AddMinutes(minutes) };

        XksAssert.Ok(await skewed.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Body_changed_after_signing_is_AuthenticationFailedException()
    {
        var tampered = _xks with
        {
            AfterSigning = wire =>
            {
                wire.Body = Encoding.UTF8.GetBytes(Encoding.UTF8.GetString(wire.Body).Replace("xks-tests", "xks-tests-2", StringComparison.Ordinal));
                wire.Headers.Remove("Content-Length");
            },
        };

        Rejected(await tampered.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Body_changed_after_signing_is_rejected_even_when_the_content_hash_header_is_dropped()
    {
        // Coffer hashes the body itself (AWS KMS sends no x-amz-content-sha256).
        var tampered = _xks with
        {
            AfterSigning = wire =>
            {
                wire.Body = [.. wire.Body, (byte)' '];
                wire.Headers["X-Amz-Content-SHA256"] = null;
            },
        };

        Rejected(await tampered.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Date_header_changed_after_signing_is_AuthenticationFailedException()
    {
        var tampered = _xks with
        {
            AfterSigning = wire => wire.Headers["X-Amz-Date"] = XksRequests.AmzDate(DateTimeOffset.UtcNow.AddSeconds(-30)),
        };

        Rejected(await tampered.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Path_changed_after_signing_is_AuthenticationFailedException()
    {
        var tampered = _xks with
        {
            AfterSigning = wire => wire.Url = new Uri(wire.Url.AbsoluteUri.Replace("/metadata", "/encrypt", StringComparison.Ordinal)),
        };

        Rejected(await tampered.PostAsync($"keys/{_key}/metadata", XksRequests.Encrypt([1, 2, 3])));
    }

    [Fact]
    public async Task Missing_Authorization_header_is_AuthenticationFailedException()
    {
        var unsigned = _xks with { AfterSigning = wire => wire.Headers["Authorization"] = null };

        Rejected(await unsigned.GetKeyMetadataAsync(_key));
        Rejected(await XksClient.SendUnsignedAsync(HttpMethod.Post, _xks.UrlOf("health"), MetadataBody()));
    }

    [Fact]
    public async Task Garbage_Authorization_header_is_AuthenticationFailedException()
    {
        var garbage = _xks with { AfterSigning = wire => wire.Headers["Authorization"] = "Bearer abc" };

        Rejected(await garbage.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Credential_of_another_key_store_is_AuthenticationFailedException_on_this_prefix()
    {
        var other = await fixture.Node.CreateKeyStoreAsync("/" + Admin.Unique("other"));
        var borrowed = _xks with { AccessKeyId = other.Client.AccessKeyId, SecretAccessKey = other.Client.SecretAccessKey };

        Rejected(await borrowed.GetKeyMetadataAsync(_key));
        XksAssert.Ok(await other.Client.HealthAsync());
    }

    [Fact]
    public async Task Revoked_credential_is_AuthenticationFailedException_at_once()
    {
        var credential = await fixture.Node.AddCredentialAsync(fixture.DemoKeyStoreId);
        var client = _xks with { AccessKeyId = credential.AccessKeyId, SecretAccessKey = credential.SecretAccessKey };
        XksAssert.Ok(await client.GetKeyMetadataAsync(_key));

        await fixture.Node.RevokeCredentialAsync(fixture.DemoKeyStoreId, credential.Id);

        Rejected(await client.GetKeyMetadataAsync(_key));
        XksAssert.Ok(await _xks.GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Two_live_credentials_of_one_key_store_both_work_at_once()
    {
        // XKS spec, Authentication: at least two credentials at once (rotation without downtime).
        var second = await fixture.Node.AddCredentialAsync(fixture.DemoKeyStoreId);
        var rotated = _xks with { AccessKeyId = second.AccessKeyId, SecretAccessKey = second.SecretAccessKey };

        var sealedData = await _xks.MustEncryptAsync(_key, [1, 2, 3]);
        Assert.Equal([1, 2, 3], (await rotated.DecryptAsync(_key, sealedData)).Bytes("plaintext"));
        XksAssert.Ok(await _xks.GetKeyMetadataAsync(_key));
        XksAssert.Ok(await rotated.GetKeyMetadataAsync(_key));
    }

    [Theory]
    [InlineData("eu-central-1")]
    [InlineData("us-east-1")]
    [InlineData("ap-southeast-2")]
    public async Task Any_region_in_the_credential_scope_is_accepted(string region)
    {
        XksAssert.Ok(await (_xks with { Region = region }).GetKeyMetadataAsync(_key));
    }

    [Fact]
    public async Task Curl_aws_sigv4_signature_is_accepted()
    {
        var body = XksRequests.Encrypt([7, 7, 7]).ToJsonString();

        var response = await CurlSigner.PostAsync(_xks.UrlOf($"keys/{_key}/encrypt"), _xks.AccessKeyId, _xks.SecretAccessKey, body);

        XksAssert.Ok(response);
        Assert.Equal(3, response.Bytes("ciphertext").Length);
    }

    [Fact]
    public async Task Curl_signature_with_a_wrong_secret_is_AuthenticationFailedException()
    {
        var body = XksRequests.GetKeyMetadata().ToJsonString();

        Rejected(await CurlSigner.PostAsync(_xks.UrlOf($"keys/{_key}/metadata"), _xks.AccessKeyId, "wrong" + _xks.SecretAccessKey[5..], body));
    }

    [Fact]
    public async Task Botocore_signature_over_only_host_and_x_amz_date_is_accepted_like_AWS_KMS()
    {
        var response = await BotocoreSigner.PostAsync(_xks.UrlOf($"keys/{_key}/metadata"), _xks.AccessKeyId, _xks.SecretAccessKey,
            MetadataBody(), "us-west-2");

        XksAssert.Ok(response);
        Assert.Equal("ENABLED", response.String("keyStatus"));
    }

    [Fact]
    public async Task Botocore_signature_over_all_its_headers_is_accepted()
    {
        XksAssert.Ok(await BotocoreSigner.PostAsync(_xks.UrlOf("health"), _xks.AccessKeyId, _xks.SecretAccessKey,
            Encoding.UTF8.GetBytes(XksRequests.Health().ToJsonString()), signAllHeaders: true));
    }

    [Fact]
    public async Task Botocore_signature_then_a_changed_body_is_AuthenticationFailedException()
    {
        var url = _xks.UrlOf($"keys/{_key}/metadata");
        var headers = BotocoreSigner.Sign(url, _xks.AccessKeyId, _xks.SecretAccessKey, MetadataBody(), "eu-west-1", BotocoreSigner.KmsSignedHeaders);

        Rejected(await XksClient.SendSignedAsync(new XksWireRequest { Method = HttpMethod.Post, Url = url, Body = MetadataBody(), Headers = headers }));
    }

    [Fact]
    public async Task Signature_for_another_port_is_AuthenticationFailedException()
    {
        // The host value includes the port (XKS spec, Authentication).
        var url = _xks.UrlOf($"keys/{_key}/metadata");
        var body = MetadataBody();
        var wire = _xks.Sign(HttpMethod.Post, new UriBuilder(url) { Port = url.Port == 1 ? 2 : 1 }.Uri, body);
        wire.Url = url;

        Rejected(await XksClient.SendSignedAsync(wire));
    }

    [Fact]
    public async Task Every_authentication_failure_answers_the_same_message()
    {
        // The answer must not tell a prober which part failed (unknown key id, secret, clock, service).
        XksResponse[] failures =
        [
            await (_xks with { SecretAccessKey = XksAssert.Wrong(_xks.SecretAccessKey) }).GetKeyMetadataAsync(_key),
            await (_xks with { AccessKeyId = "AKIDUNKNOWN234567ABCDEFGH" }).GetKeyMetadataAsync(_key),
            await (_xks with { SigningTime = DateTimeOffset.UtcNow.AddHours(-1) }).GetKeyMetadataAsync(_key),
            await (_xks with { Service = "kms" }).GetKeyMetadataAsync(_key),
            await (_xks with { AfterSigning = wire => wire.Headers["Authorization"] = null }).GetKeyMetadataAsync(_key),
        ];

        Assert.All(failures, Rejected);
        Assert.Single(failures.Select(f => f.ErrorMessage).Distinct());
    }
}
