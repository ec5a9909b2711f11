using System.Security.Cryptography;
using System.Text;
using Coffer.Server.KeyRing;
using Coffer.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// A management change rebuilds the key ring while XKS calls are in flight. A call keeps the ring it
/// started with until it has answered: the replaced ring's SigV4 secrets are zeroed only then, never
/// under a call whose body is still arriving (which then failed authentication).
/// </summary>
public sealed class KeyRingSwapTests
{
    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(30);

    [Fact]
    public async Task A_call_whose_body_arrives_after_a_change_still_verifies_and_the_old_secrets_are_zeroed_after_it()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var data = RandomNumberGenerator.GetBytes(32);
        var wire = xks.Sign(HttpMethod.Post, xks.UrlOf($"keys/{node.Info.KeyId}/encrypt"), Encoding.UTF8.GetBytes(XksRequests.Encrypt(data).ToJsonString()));
        var bodySent = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        wire.HoldBodyUntil = bodySent.Task;

        var before = node.Server.Seal.KeyRing;
        var secret = SecretOf(before, node.Info.AccessKeyId);
        Assert.Equal(Encoding.UTF8.GetBytes(node.Info.SecretAccessKey), secret.ToArray());
        Assert.Equal(1, before.References);

        var call = XksClient.SendSignedAsync(wire);
        await UntilAsync(() => before.References == 2, "the call to take the key ring while it waits for its body");
        await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), Admin.Unique("swap"), "ENCRYPT", "DECRYPT");
        Assert.NotSame(before, node.Server.Seal.KeyRing);
        Assert.Equal(1, before.References); // retired; only the call holds it
        Assert.Equal(Encoding.UTF8.GetBytes(node.Info.SecretAccessKey), secret.ToArray());

        bodySent.SetResult();
        var response = await call.WaitAsync(Patience);

        XksAssert.Ok(response);
        Assert.Equal(data, (await xks.DecryptAsync(node.Info.KeyId, XksEncrypted.From(response))).Bytes("plaintext"));
        await UntilAsync(() => before.References == 0, "the call to let go of the replaced ring");
        Assert.All(secret.ToArray(), b => Assert.Equal(0, b));
        XksAssert.Ok(await xks.GetKeyMetadataAsync(node.Info.KeyId)); // the new ring has its own copy
    }

    private static ReadOnlyMemory<byte> SecretOf(KeyRingSnapshot ring, string accessKeyId)
    {
        foreach (var store in ring.KeyStores)
        {
            if (store.TryGetSecret(accessKeyId, out var secret))
            {
                return secret;
            }
        }

        throw new InvalidOperationException("The dev credential is not in the key ring.");
    }

    // Polls state the server changes on its own threads; bounded, so a regression fails instead of hanging.
    private static async Task UntilAsync(Func<bool> condition, string what)
    {
        var deadline = DateTime.UtcNow + Patience;
        while (!condition())
        {
            Assert.True(DateTime.UtcNow < deadline, $"waited {Patience.TotalSeconds:0} s for {what}");
            await Task.Delay(10);
        }
    }
}
