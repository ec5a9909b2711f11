using System.Security.Cryptography;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>Everything lives in the database: a restarted node (new ports, same data directory) serves
/// the same key stores, credentials and keys, and decrypts what the old one encrypted.</summary>
public abstract class RestartTests(string backend)
{
    /// <summary>Runs <paramref name="before"/> on a fresh node, restarts it, runs <paramref name="after"/>
    /// on the new one; whichever node is last alive is disposed (with the data directory).</summary>
    private async Task AcrossRestartAsync<T>(Func<DevServer, Task<T>> before, Func<DevServer, T, Task> after)
    {
        var node = await DevServer.StartAsync(backend: backend);
        var live = node;
        try
        {
            var state = await before(node);
            live = await node.RestartAsync();
            await after(live, state);
        }
        finally
        {
            await live.DisposeAsync();
        }
    }

    [Fact]
    public async Task Ciphertext_made_before_a_restart_decrypts_after_it()
    {
        var plaintext = RandomNumberGenerator.GetBytes(64);
        var aad = RandomNumberGenerator.GetBytes(20);

        await AcrossRestartAsync(
            node => XksClient.For(node).MustEncryptAsync(node.Info.KeyId, plaintext, aad),
            async (restarted, sealedData) =>
            {
                var decrypted = await XksClient.For(restarted).DecryptAsync(restarted.Info.KeyId, sealedData, aad);
                Assert.Equal(plaintext, decrypted.Bytes("plaintext"));
            });
    }

    [Fact]
    public async Task Key_stores_credentials_keys_and_their_state_survive_a_restart()
    {
        await AcrossRestartAsync(
            async node =>
            {
                var store = await node.CreateKeyStoreAsync("/" + Admin.Unique("survivor"));
                var second = await node.AddCredentialAsync(store.Id);
                var revoked = await node.AddCredentialAsync(store.Id);
                await node.RevokeCredentialAsync(store.Id, revoked.Id);
                await node.CreateKeyAsync(store.Id, "kept", "ENCRYPT", "DECRYPT");
                var disabledId = await node.CreateKeyAsync(store.Id, "kept-disabled", "DECRYPT");
                await node.SetKeyEnabledAsync(disabledId, false);
                var sealedData = await store.Client.MustEncryptAsync("kept", [4, 5, 6]);
                return (store, second, revoked, sealedData);
            },
            async (restarted, state) =>
            {
                var (store, second, revoked, sealedData) = state;
                var client = store.Client with { BaseUrl = new Uri(restarted.XksUrl, store.Prefix + "/kms/xks/v1") };
                Assert.Equal([4, 5, 6], (await client.DecryptAsync("kept", sealedData)).Bytes("plaintext"));
                XksAssert.Ok(await (client with { AccessKeyId = second.AccessKeyId, SecretAccessKey = second.SecretAccessKey }).HealthAsync());
                XksAssert.Error(await (client with { AccessKeyId = revoked.AccessKeyId, SecretAccessKey = revoked.SecretAccessKey }).HealthAsync(),
                    401, "AuthenticationFailedException");
                var disabled = XksAssert.Ok(await client.GetKeyMetadataAsync("kept-disabled"));
                Assert.Equal("DISABLED", disabled.GetProperty("keyStatus").GetString());
                Assert.Equal("DECRYPT", disabled.GetProperty("keyUsage")[0].GetString());
                XksAssert.Ok(await XksClient.For(restarted).GetKeyMetadataAsync(restarted.Info.KeyId));
            });
    }
}
