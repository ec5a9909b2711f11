using System.Security.Cryptography;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>XKS spec, Encrypt — over HTTP against a real node, signed by AWSSDK's AWS4Signer.</summary>
public abstract class EncryptTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;
    private readonly string _key = fixture.DemoKey;

    [Fact]
    public async Task Encrypt_then_decrypt_round_trips_without_aad()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext);

        var decrypted = XksAssert.Ok(await _xks.DecryptAsync(_key, sealedData));

        Assert.Equal(plaintext, Convert.FromBase64String(decrypted.GetProperty("plaintext").GetString()!));
    }

    [Fact]
    public async Task Encrypt_then_decrypt_round_trips_with_aad()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var aad = Encoding.UTF8.GetBytes("{\"aws:kms:context\":\"round trip\"}");
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext, aad);

        var decrypted = await _xks.DecryptAsync(_key, sealedData, aad);

        XksAssert.Ok(decrypted);
        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_supports_the_spec_minimums_4300_bytes_of_plaintext_and_8192_bytes_of_aad()
    {
        var plaintext = RandomNumberGenerator.GetBytes(4300);
        var aad = RandomNumberGenerator.GetBytes(8192);
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext, aad);

        var decrypted = await _xks.DecryptAsync(_key, sealedData, aad);

        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_accepts_exactly_MaxPlaintextBytes_and_MaxAadBytes()
    {
        var limits = new Coffer.Server.Hosting.XksListenerOptions();
        var plaintext = RandomNumberGenerator.GetBytes(limits.MaxPlaintextBytes);
        var aad = RandomNumberGenerator.GetBytes(limits.MaxAadBytes);
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext, aad);

        var decrypted = await _xks.DecryptAsync(_key, sealedData, aad);

        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
    }

    [Fact]
    public async Task Encrypt_of_plaintext_over_MaxPlaintextBytes_is_UnsupportedOperationException()
    {
        var plaintext = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxPlaintextBytes + 1];

        XksAssert.Error(await _xks.EncryptAsync(_key, plaintext), 501, "UnsupportedOperationException");
    }

    [Fact]
    public async Task Encrypt_with_aad_over_MaxAadBytes_is_UnsupportedOperationException()
    {
        var aad = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxAadBytes + 1];

        XksAssert.Error(await _xks.EncryptAsync(_key, [1, 2, 3], aad), 501, "UnsupportedOperationException");
    }

    [Fact]
    public async Task Encrypt_answers_ciphertext_as_long_as_the_plaintext_a_12_byte_iv_and_a_16_byte_tag()
    {
        foreach (var length in new[] { 1, 32, 1000 })
        {
            var encrypted = await _xks.EncryptAsync(_key, RandomNumberGenerator.GetBytes(length));

            XksAssert.Ok(encrypted);
            Assert.Equal(length, encrypted.Bytes("ciphertext").Length);
            Assert.Equal(12, encrypted.Bytes("initializationVector").Length);
            Assert.Equal(16, encrypted.Bytes("authenticationTag").Length);
        }
    }

    [Fact]
    public async Task Encrypt_metadata_is_format_byte_1_and_big_endian_key_version_1()
    {
        var encrypted = await _xks.EncryptAsync(_key, [42]);

        // docs/formats.md: ciphertextMetadata = 0x01 || u32be(version); at most 20 bytes (XKS spec).
        Assert.Equal([0x01, 0, 0, 0, 1], encrypted.Bytes("ciphertextMetadata"));
    }

    [Fact]
    public async Task Encrypt_never_repeats_an_iv_or_a_ciphertext_for_the_same_plaintext()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var first = await _xks.MustEncryptAsync(_key, plaintext);
        var second = await _xks.MustEncryptAsync(_key, plaintext);

        Assert.NotEqual(first.InitializationVector, second.InitializationVector);
        Assert.NotEqual(first.Ciphertext, second.Ciphertext);
    }

    [Fact]
    public async Task Encrypt_returns_no_integrity_value_unless_asked()
    {
        var encrypted = await _xks.EncryptAsync(_key, [1, 2, 3]);

        Assert.False(XksAssert.Ok(encrypted).TryGetProperty("ciphertextDataIntegrityValue", out _));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public async Task Encrypt_SHA_256_integrity_value_is_SHA256_of_aad_metadata_iv_ciphertext_tag(bool withAad)
    {
        var aad = withAad ? RandomNumberGenerator.GetBytes(100) : null;
        var sealedData = await _xks.MustEncryptAsync(_key, RandomNumberGenerator.GetBytes(48), aad, cdiv: true);

        // XKS spec, Appendix C: CDIV = SHA-256(aad || ciphertextMetadata || iv || ciphertext || tag).
        var expected = SHA256.HashData([.. aad ?? [], .. sealedData.CiphertextMetadata!, .. sealedData.InitializationVector,
            .. sealedData.Ciphertext, .. sealedData.AuthenticationTag]);
        Assert.Equal(expected, sealedData.CiphertextDataIntegrityValue);
    }

    [Fact]
    public async Task Encrypt_with_integrity_value_on_an_encrypt_only_key_is_InvalidKeyUsageException()
    {
        var name = Admin.Unique("enc-only");
        await fixture.Node.CreateKeyAsync(fixture.DemoKeyStoreId, name, "ENCRYPT");

        // The CDIV needs a verifying decrypt, which the key's usage must allow (XKS spec, Encrypt).
        XksAssert.Error(await _xks.EncryptAsync(name, [1, 2, 3], cdiv: true), 400, "InvalidKeyUsageException");
        XksAssert.Ok(await _xks.EncryptAsync(name, [1, 2, 3]));
    }

    [Fact]
    public async Task Encrypt_with_an_integrity_algorithm_other_than_SHA_256_is_UnsupportedOperationException()
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["ciphertextDataIntegrityValueAlgorithm"] = "SHA_512";

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/encrypt", body), 501, "UnsupportedOperationException");
    }

    [Theory]
    [InlineData("SYMMETRIC_DEFAULT")]
    [InlineData("AES_CBC")]
    [InlineData("aes_gcm")]
    public async Task Encrypt_with_an_algorithm_other_than_AES_GCM_is_UnsupportedOperationException(string algorithm)
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["encryptionAlgorithm"] = algorithm;

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/encrypt", body), 501, "UnsupportedOperationException");
    }

    [Theory]
    [InlineData("plaintext")]
    [InlineData("encryptionAlgorithm")]
    public async Task Encrypt_without_a_required_field_is_ValidationException(string field)
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body.Remove(field);

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/encrypt", body), 400, "ValidationException");
    }

    [Theory]
    [InlineData("kmsKeyArn")]
    [InlineData("awsPrincipalArn")]
    [InlineData("kmsRequestId")]
    [InlineData("kmsOperation")]
    public async Task Encrypt_without_required_request_metadata_is_ValidationException(string field)
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["requestMetadata"]!.AsObject().Remove(field);

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/encrypt", body), 400, "ValidationException");
    }

    [Fact]
    public async Task Encrypt_ignores_unknown_fields_in_the_body_and_in_requestMetadata()
    {
        // XKS spec, requestMetadata: future fields may appear and must be ignored.
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["someFutureField"] = new JsonObject { ["nested"] = new JsonArray(1, 2, 3) };
        body["requestMetadata"]!["awsSourceVpc"] = "vpc-0123456789abcdef0";
        body["requestMetadata"]!["awsSourceVpce"] = "vpce-0123456789abcdef0";
        body["requestMetadata"]!["kmsViaService"] = "ebs";
        body["requestMetadata"]!["futureMetadata"] = 7;

        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/encrypt", body));
    }

    [Fact]
    public async Task Encrypt_accepts_an_unknown_kmsOperation_value()
    {
        var body = XksRequests.Encrypt([1, 2, 3]);
        body["requestMetadata"]!["kmsOperation"] = "SomeOperationKmsInventsTomorrow";

        XksAssert.Ok(await _xks.PostAsync($"keys/{_key}/encrypt", body));
    }
}
