using System.Security.Cryptography;
using System.Text.Json;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>XKS spec, GetKeyMetadata, and how key usage and key state gate Encrypt and Decrypt.</summary>
public abstract class MetadataTests(XksNodeFixture fixture)
{
    private readonly XksClient _xks = fixture.Client;

    private async Task<(string Name, string Id)> NewKeyAsync(params string[] usage)
    {
        var name = Admin.Unique("key");
        var id = await fixture.Node.CreateKeyAsync(fixture.DemoKeyStoreId, name, usage);
        return (name, id);
    }

    private static string[] Usages(JsonElement metadata) =>
        [.. metadata.GetProperty("keyUsage").EnumerateArray().Select(u => u.GetString()!)];

    [Fact]
    public async Task GetKeyMetadata_of_the_demo_key_is_AES_256_ENCRYPT_DECRYPT_ENABLED()
    {
        var metadata = XksAssert.Ok(await _xks.GetKeyMetadataAsync(fixture.DemoKey));

        Assert.Equal("AES_256", metadata.GetProperty("keySpec").GetString());
        Assert.Equal(["DECRYPT", "ENCRYPT"], Usages(metadata).Order(StringComparer.Ordinal));
        Assert.Equal("ENABLED", metadata.GetProperty("keyStatus").GetString());
    }

    [Theory]
    [InlineData(new[] { "ENCRYPT", "DECRYPT" }, new[] { "DECRYPT", "ENCRYPT" })]
    [InlineData(new[] { "ENCRYPT" }, new[] { "ENCRYPT" })]
    [InlineData(new[] { "DECRYPT" }, new[] { "DECRYPT" })]
    [InlineData(new string[0], new string[0])]
    public async Task GetKeyMetadata_lists_exactly_the_usages_the_key_allows(string[] usage, string[] expected)
    {
        var (name, _) = await NewKeyAsync(usage);

        var metadata = XksAssert.Ok(await _xks.GetKeyMetadataAsync(name));

        Assert.Equal(expected, Usages(metadata).Order(StringComparer.Ordinal));
        Assert.Equal("AES_256", metadata.GetProperty("keySpec").GetString());
        Assert.Equal("ENABLED", metadata.GetProperty("keyStatus").GetString());
    }

    [Fact]
    public async Task GetKeyMetadata_of_a_disabled_key_answers_200_DISABLED()
    {
        var (name, id) = await NewKeyAsync("ENCRYPT", "DECRYPT");
        await fixture.Node.SetKeyEnabledAsync(id, false);

        var metadata = XksAssert.Ok(await _xks.GetKeyMetadataAsync(name));

        Assert.Equal("DISABLED", metadata.GetProperty("keyStatus").GetString());
        Assert.Equal(2, Usages(metadata).Length);
    }

    [Fact]
    public async Task Encrypt_and_decrypt_with_a_disabled_key_are_InvalidStateException_until_it_is_enabled_again()
    {
        var (name, id) = await NewKeyAsync("ENCRYPT", "DECRYPT");
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var sealedData = await _xks.MustEncryptAsync(name, plaintext);

        await fixture.Node.SetKeyEnabledAsync(id, false);
        XksAssert.Error(await _xks.EncryptAsync(name, plaintext), 400, "InvalidStateException");
        XksAssert.Error(await _xks.DecryptAsync(name, sealedData), 400, "InvalidStateException");

        await fixture.Node.SetKeyEnabledAsync(id, true);
        Assert.Equal("ENABLED", XksAssert.Ok(await _xks.GetKeyMetadataAsync(name)).GetProperty("keyStatus").GetString());
        Assert.Equal(plaintext, (await _xks.DecryptAsync(name, sealedData)).Bytes("plaintext"));
        XksAssert.Ok(await _xks.EncryptAsync(name, plaintext));
    }

    [Fact]
    public async Task Encrypt_with_a_decrypt_only_key_is_InvalidKeyUsageException()
    {
        var (name, _) = await NewKeyAsync("DECRYPT");

        XksAssert.Error(await _xks.EncryptAsync(name, [1, 2, 3]), 400, "InvalidKeyUsageException");
    }

    [Fact]
    public async Task Decrypt_with_an_encrypt_only_key_is_InvalidKeyUsageException()
    {
        var (name, _) = await NewKeyAsync("ENCRYPT");
        var sealedData = await _xks.MustEncryptAsync(name, [1, 2, 3]);

        XksAssert.Error(await _xks.DecryptAsync(name, sealedData), 400, "InvalidKeyUsageException");
    }

    [Fact]
    public async Task Encrypt_and_decrypt_with_a_key_without_usages_are_InvalidKeyUsageException()
    {
        var (name, _) = await NewKeyAsync();
        var foreign = await _xks.MustEncryptAsync(fixture.DemoKey, [1, 2, 3]);

        XksAssert.Error(await _xks.EncryptAsync(name, [1, 2, 3]), 400, "InvalidKeyUsageException");
        XksAssert.Error(await _xks.DecryptAsync(name, foreign), 400, "InvalidKeyUsageException");
    }

    [Fact]
    public async Task A_key_created_through_the_management_API_is_served_at_once_without_restart()
    {
        var (name, _) = await NewKeyAsync("ENCRYPT", "DECRYPT");
        var plaintext = RandomNumberGenerator.GetBytes(16);

        var sealedData = await _xks.MustEncryptAsync(name, plaintext);

        Assert.Equal(plaintext, (await _xks.DecryptAsync(name, sealedData)).Bytes("plaintext"));
    }

    [Fact]
    public async Task GetKeyMetadata_without_awsPrincipalArn_is_ValidationException()
    {
        var body = XksRequests.GetKeyMetadata();
        body["requestMetadata"]!.AsObject().Remove("awsPrincipalArn");

        XksAssert.Error(await _xks.PostAsync($"keys/{fixture.DemoKey}/metadata", body), 400, "ValidationException");
    }

    [Fact]
    public async Task GetKeyMetadata_needs_no_kmsKeyArn()
    {
        var body = XksRequests.GetKeyMetadata();

        Assert.False(body["requestMetadata"]!.AsObject().ContainsKey("kmsKeyArn"));
        XksAssert.Ok(await _xks.PostAsync($"keys/{fixture.DemoKey}/metadata", body));
    }
}
