using System.Net;
using Coffer.Server.Seal;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Seal;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Cluster;

/// <summary>A rekey on one node of two sharing a PostgreSQL database (docs/master-key.md, "coffer
/// rekey"): the other serves XKS calls throughout without a failure, follows the switch at its reload,
/// and afterwards opens a key version made on the first under the new master key.</summary>
public sealed class ClusterRekeyTests
{
    private const int Clients = 8;

    private readonly PostgresFixture _postgres = new();

    [Fact]
    public async Task Node_B_serves_without_a_failure_while_node_A_rekeys_and_then_opens_a_key_A_made_under_the_new_master_key()
    {
        // A full reload every second: the rekey waits one interval after its switch for B to follow.
        await using var cluster = await PostgresPair.StartAsync(_postgres, o => o.Cluster.FullReloadSeconds = 1);
        var keys = await RekeyTests.KeysWithVersionsAsync(cluster.A, 4);
        var xksB = XksClient.For(cluster.B);
        var before = await xksB.MustEncryptAsync(cluster.A.Info.KeyId, [1, 2, 3]);
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(keys[^1], [1])).Status == 200, "B to serve the keys A made");

        using var stop = new CancellationTokenSource();
        var load = Enumerable.Range(0, Clients).Select(i => RekeyTests.EncryptAndDecryptAsync(xksB, keys[i % keys.Count], stop.Token)).ToArray();
        await Task.Delay(200);
        var rekey = await (await cluster.A.Admin.PostJsonAsync("/api/v1/sys/rekey", new { })).JsonAsync(HttpStatusCode.OK);
        await Task.Delay(200);
        await stop.CancelAsync();
        var calls = await Task.WhenAll(load);

        Assert.True((bool)rekey["done"]!, rekey.ToJsonString());
        Assert.All(calls, c => Assert.True(c.Failures.Count == 0 && c.Ok > 0, $"{c.Ok} ok, failures: {string.Join("; ", c.Failures.Take(3))}"));
        Assert.Null(await cluster.B.Server.Seal.Storage.System.GetSettingAsync(SettingNames.MasterRetired));
        XksAssert.Ok(await xksB.DecryptAsync(cluster.A.Info.KeyId, before));

        // Made on A after the switch, so sealed under the new master key only: B opens it at its reload.
        var store = await cluster.A.KeyStoreIdAsync(cluster.A.Info.UriPrefix);
        var name = ManagementApi.Unique("after-rekey");
        await cluster.A.CreateKeyAsync(store, name, "ENCRYPT", "DECRYPT");
        await Wait.UntilAsync(async () => (await xksB.EncryptAsync(name, [1])).Status == 200, "B to open the key A made after the rekey");
        XksAssert.Ok(await xksB.DecryptAsync(name, await XksClient.For(cluster.A).MustEncryptAsync(name, [9])));
        Assert.False(cluster.B.Server.IsSealed);
        Assert.DoesNotContain("cannot be opened", cluster.B.Logs.All, StringComparison.Ordinal);
    }
}
