using System.Security.Cryptography;
using Coffer.Crypto;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// A sealed node holds no key material: key calls are 400 InvalidStateException saying so, health
/// is 200 UNAVAILABLE, the load-balancer ping is 503; unsealing with the master key brings the same
/// keys back. A node per test (sealing is node-wide).
/// </summary>
public abstract class SealedTests(string backend) : IAsyncLifetime
{
    private DevServer _node = null!;
    private XksClient _xks = null!;

    public async Task InitializeAsync()
    {
        _node = await DevServer.StartAsync(backend: backend);
        _xks = XksClient.For(_node);
    }

    public async Task DisposeAsync() => await _node.DisposeAsync();

    private string Key => _node.Info.KeyId;

    private async Task UnsealAsync()
    {
        var bytes = await File.ReadAllBytesAsync(Path.Combine(_node.DataDirectory, "master.key"));
        try
        {
            await _node.Server.Seal.UnsealWithAsync(MasterKey.FromBytes(bytes));
        }
        finally
        {
            CryptographicOperations.ZeroMemory(bytes);
        }
    }

    private static void SaysSealed(XksResponse response)
    {
        XksAssert.Error(response, 400, "InvalidStateException");
        Assert.Contains("sealed", response.ErrorMessage!, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Sealed_node_answers_every_key_call_with_InvalidStateException_saying_sealed()
    {
        var sealedData = await _xks.MustEncryptAsync(Key, [1, 2, 3]);
        await _node.Server.Seal.SealAsync();

        Assert.True(_node.Server.IsSealed);
        SaysSealed(await _xks.GetKeyMetadataAsync(Key));
        SaysSealed(await _xks.EncryptAsync(Key, [1, 2, 3]));
        SaysSealed(await _xks.DecryptAsync(Key, sealedData));
        SaysSealed(await _xks.GetKeyMetadataAsync("no-such-key"));
    }

    [Fact]
    public async Task Sealed_node_answers_health_200_UNAVAILABLE_even_right_after_an_ACTIVE_answer()
    {
        Assert.Equal("ACTIVE", XksAssert.Ok(await _xks.HealthAsync()).GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        await _node.Server.Seal.SealAsync();

        var health = XksAssert.Ok(await _xks.HealthAsync());

        var fleet = health.GetProperty("ekmFleetDetails");
        Assert.InRange(fleet.GetArrayLength(), 1, 10);
        Assert.All(fleet.EnumerateArray(), e => Assert.Equal("UNAVAILABLE", e.GetProperty("healthStatus").GetString()));
        Assert.True(health.GetProperty("xksProxyFleetSize").GetInt32() >= 1);
    }

    [Fact]
    public async Task Sealed_node_ping_is_503_sealed()
    {
        await _node.Server.Seal.SealAsync();

        var ping = await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(_node.XksUrl, "/ping"));

        Assert.Equal(503, ping.Status);
        Assert.Equal("sealed", ping.Body.Trim());
    }

    [Fact]
    public async Task Sealed_node_still_answers_an_unknown_prefix_with_InvalidUriPathException()
    {
        await _node.Server.Seal.SealAsync();
        var elsewhere = _xks with { BaseUrl = new Uri(_node.XksUrl, "/nowhere/kms/xks/v1") };

        XksAssert.Error(await elsewhere.GetKeyMetadataAsync(Key), 404, "InvalidUriPathException");
    }

    [Fact]
    public async Task Unsealing_with_the_dev_master_key_restores_service_and_old_ciphertext_decrypts()
    {
        var plaintext = RandomNumberGenerator.GetBytes(32);
        var sealedData = await _xks.MustEncryptAsync(Key, plaintext);
        await _node.Server.Seal.SealAsync();
        SaysSealed(await _xks.DecryptAsync(Key, sealedData));

        await UnsealAsync();

        Assert.False(_node.Server.IsSealed);
        Assert.Equal(plaintext, (await _xks.DecryptAsync(Key, sealedData)).Bytes("plaintext"));
        XksAssert.Ok(await _xks.EncryptAsync(Key, plaintext));
        Assert.Equal("ACTIVE", XksAssert.Ok(await _xks.HealthAsync()).GetProperty("ekmFleetDetails")[0].GetProperty("healthStatus").GetString());
        Assert.Equal(200, (await XksClient.SendUnsignedAsync(HttpMethod.Get, new Uri(_node.XksUrl, "/ping"))).Status);
    }

    [Fact]
    public async Task Unsealing_with_a_wrong_master_key_leaves_the_node_sealed()
    {
        await _node.Server.Seal.SealAsync();

        await Assert.ThrowsAnyAsync<Exception>(() => _node.Server.Seal.UnsealWithAsync(MasterKey.Generate()));

        Assert.True(_node.Server.IsSealed);
        SaysSealed(await _xks.GetKeyMetadataAsync(Key));
    }

    [Fact]
    public async Task Credentials_still_authenticate_after_seal_and_unseal()
    {
        await _node.Server.Seal.SealAsync();
        await UnsealAsync();

        XksAssert.Ok(await _xks.GetKeyMetadataAsync(Key));
        XksAssert.Error(await (_xks with { SecretAccessKey = XksAssert.Wrong(_xks.SecretAccessKey) }).GetKeyMetadataAsync(Key),
            401, "AuthenticationFailedException");
    }
}
