using System.Security.Cryptography;
using System.Text;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>XKS spec, Decrypt: any tampering is 400 InvalidCiphertextException.</summary>
public abstract class DecryptTests(XksNodeFixture fixture)
{
    private static readonly byte[] Aad = Encoding.UTF8.GetBytes("{\"aws:ebs:id\":\"vol-0123456789\"}");

    private readonly XksClient _xks = fixture.Client;
    private readonly string _key = fixture.DemoKey;

    private static byte[] Flip(byte[] data, int at = 0)
    {
        var copy = (byte[])data.Clone();
        copy[at] ^= 0x01;
        return copy;
    }

    private async Task<XksEncrypted> SealAsync() => await _xks.MustEncryptAsync(_key, RandomNumberGenerator.GetBytes(64), Aad);

    [Fact]
    public async Task Decrypt_of_an_untampered_ciphertext_returns_the_plaintext()
    {
        var plaintext = RandomNumberGenerator.GetBytes(64);
        var sealedData = await _xks.MustEncryptAsync(_key, plaintext, Aad);

        var decrypted = await _xks.DecryptAsync(_key, sealedData, Aad);

        Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
        Assert.Equal(["plaintext"], XksAssert.Ok(decrypted).EnumerateObject().Select(p => p.Name));
    }

    [Fact]
    public async Task Decrypt_with_tampered_ciphertext_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { Ciphertext = Flip(sealedData.Ciphertext, 63) }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_tampered_iv_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { InitializationVector = Flip(sealedData.InitializationVector, 11) }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_tampered_tag_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { AuthenticationTag = Flip(sealedData.AuthenticationTag, 15) }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_tampered_aad_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData, Flip(Aad, 3)), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_without_the_aad_it_was_encrypted_with_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData, aad: null), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_aad_that_encrypt_did_not_have_is_InvalidCiphertextException()
    {
        var sealedData = await _xks.MustEncryptAsync(_key, [1, 2, 3]);

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData, Aad), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_tampered_metadata_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        // Format byte and version byte: both are bound into the GCM AAD (docs/formats.md).
        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { CiphertextMetadata = Flip(sealedData.CiphertextMetadata!, 0) }, Aad),
            400, "InvalidCiphertextException");
        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { CiphertextMetadata = Flip(sealedData.CiphertextMetadata!, 4) }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_metadata_extended_by_a_byte_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { CiphertextMetadata = [.. sealedData.CiphertextMetadata!, 0] }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_without_metadata_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { CiphertextMetadata = null }, Aad), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_metadata_moved_into_the_aad_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        // XKS spec, Encrypt: the length-prefixed AAD construction stops moving metadata into AAD.
        var moved = sealedData with { CiphertextMetadata = null };
        XksAssert.Error(await _xks.DecryptAsync(_key, moved, [.. Aad, .. sealedData.CiphertextMetadata!]), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_aad_moved_into_the_metadata_is_InvalidCiphertextException()
    {
        var sealedData = await _xks.MustEncryptAsync(_key, [1, 2, 3], [0x01, 0, 0]);

        var moved = sealedData with { CiphertextMetadata = [.. sealedData.CiphertextMetadata!, 0x01, 0, 0] };
        XksAssert.Error(await _xks.DecryptAsync(_key, moved, aad: null), 400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_metadata_naming_a_version_the_key_does_not_have_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { CiphertextMetadata = [0x01, 0, 0, 0, 2] }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_a_16_byte_iv_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        // The spec allows 16-byte IVs in general, but Coffer never made this ciphertext with one.
        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { InitializationVector = [.. sealedData.InitializationVector, 0, 0, 0, 0] }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_a_truncated_tag_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { AuthenticationTag = sealedData.AuthenticationTag[..12] }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_with_a_truncated_ciphertext_is_InvalidCiphertextException()
    {
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { Ciphertext = sealedData.Ciphertext[..^1] }, Aad),
            400, "InvalidCiphertextException");
    }

    [Fact]
    public async Task Decrypt_of_another_keys_ciphertext_is_InvalidCiphertextException()
    {
        var other = Admin.Unique("other");
        await fixture.Node.CreateKeyAsync(fixture.DemoKeyStoreId, other, "ENCRYPT", "DECRYPT");
        var sealedData = await SealAsync();

        XksAssert.Error(await _xks.DecryptAsync(other, sealedData, Aad), 400, "InvalidCiphertextException");
        XksAssert.Ok(await _xks.DecryptAsync(_key, sealedData, Aad));
    }

    [Theory]
    [InlineData("ciphertext")]
    [InlineData("initializationVector")]
    [InlineData("authenticationTag")]
    [InlineData("encryptionAlgorithm")]
    public async Task Decrypt_without_a_required_field_is_ValidationException(string field)
    {
        var body = XksRequests.Decrypt(await SealAsync(), Aad);
        body.Remove(field);

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/decrypt", body), 400, "ValidationException");
    }

    [Fact]
    public async Task Decrypt_with_an_algorithm_other_than_AES_GCM_is_UnsupportedOperationException()
    {
        var body = XksRequests.Decrypt(await SealAsync(), Aad);
        body["encryptionAlgorithm"] = "AES_CBC";

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/decrypt", body), 501, "UnsupportedOperationException");
    }

    [Fact]
    public async Task Decrypt_of_ciphertext_over_MaxPlaintextBytes_is_UnsupportedOperationException()
    {
        var sealedData = await SealAsync();
        var huge = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxPlaintextBytes + 1];

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData with { Ciphertext = huge }, Aad), 501, "UnsupportedOperationException");
    }

    [Fact]
    public async Task Decrypt_with_aad_over_MaxAadBytes_is_UnsupportedOperationException()
    {
        var sealedData = await SealAsync();
        var huge = new byte[new Coffer.Server.Hosting.XksListenerOptions().MaxAadBytes + 1];

        XksAssert.Error(await _xks.DecryptAsync(_key, sealedData, huge), 501, "UnsupportedOperationException");
    }

    [Theory]
    [InlineData("kmsKeyArn")]
    [InlineData("awsPrincipalArn")]
    public async Task Decrypt_without_required_request_metadata_is_ValidationException(string field)
    {
        var body = XksRequests.Decrypt(await SealAsync(), Aad);
        body["requestMetadata"]!.AsObject().Remove(field);

        XksAssert.Error(await _xks.PostAsync($"keys/{_key}/decrypt", body), 400, "ValidationException");
    }
}
