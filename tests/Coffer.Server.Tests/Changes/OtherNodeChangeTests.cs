using System.Net;
using System.Net.Http.Json;
using System.Security.Cryptography;
using Coffer.Changes;
using Coffer.KillSwitches;
using Coffer.Policies;
using Coffer.Server.Hosting;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Coffer.Testing;

namespace Coffer.Server.Tests.Changes;

/// <summary>
/// What another node changes reaches this node's caches through the change feed: the change is
/// written straight into the node's database (as a node sharing it would), the next XKS call, signed
/// by AWSSDK's signer, still sees the old state, and once the other node's notice arrives
/// (<see cref="IChangeFeed.ReceiveAsync"/>) it sees the new one. The node's full reload is an hour
/// away, so that only the notice can make the difference. The tests share one node, each with a key,
/// key store or region set of its own, and every kill switch is released after each test; the test
/// that subscribes a failing cache has a node of its own.
/// </summary>
public sealed class OtherNodeChangeTests(OtherNodeChangeTests.SlowReloadNode shared) : IClassFixture<OtherNodeChangeTests.SlowReloadNode>, IAsyncLifetime
{
    private const string OtherNode = "coffer-node-b";

    /// <summary>The node the tests share.</summary>
    public sealed class SlowReloadNode : SharedNode
    {
        protected override void Configure(CofferOptions options) => SlowReload(options);
    }

    public Task InitializeAsync() => Task.CompletedTask;

    public Task DisposeAsync() => shared.Node.ReleaseEngagedKillSwitchesAsync();

    private static void SlowReload(CofferOptions options) => options.Cluster.FullReloadSeconds = 3600;

    [Fact]
    public async Task A_kill_switch_another_node_engaged_refuses_calls_once_its_notice_arrives_and_its_release_restores_them()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var engaged = SwitchForEverything();

        await WriteAsAnotherNodeAsync(node, storage => storage.KillSwitches.EngageAsync(engaged));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));
        await NoticeAsync(node, ChangeTopic.KillSwitches);

        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");

        await WriteAsAnotherNodeAsync(node, storage => storage.KillSwitches.ReleaseAsync(engaged.Id, "tok_b", DateTimeOffset.UtcNow));
        await NoticeAsync(node, ChangeTopic.KillSwitches);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));
    }

    [Fact]
    public async Task A_key_another_node_disabled_is_refused_once_its_notice_arrives()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var name = Admin.Unique("key");
        var id = await node.CreateKeyAsync(await node.KeyStoreIdAsync(node.Info.UriPrefix), name, "ENCRYPT", "DECRYPT");

        await WriteAsAnotherNodeAsync(node, storage => storage.Keys.SetEnabledAsync(id, false));
        XksAssert.Ok(await xks.EncryptAsync(name, [1]));
        await NoticeAsync(node, ChangeTopic.KeyRing);

        XksAssert.Error(await xks.EncryptAsync(name, [1]), 400, "InvalidStateException");
    }

    [Fact]
    public async Task A_credential_another_node_revoked_fails_authentication_once_its_notice_arrives()
    {
        var node = shared.Node;
        var (store, name) = await NewKeyStoreWithKeyAsync(node);

        await WriteAsAnotherNodeAsync(node, storage => storage.KeyStores.RevokeCredentialAsync(store.Id, store.CredentialId, DateTimeOffset.UtcNow));
        XksAssert.Ok(await store.Client.GetKeyMetadataAsync(name));
        await NoticeAsync(node, ChangeTopic.KeyRing);

        XksAssert.Error(await store.Client.GetKeyMetadataAsync(name), 401, "AuthenticationFailedException");
    }

    [Fact]
    public async Task Access_rules_another_node_set_deny_calls_once_their_notice_arrives()
    {
        var node = shared.Node;
        var (store, name) = await NewKeyStoreWithKeyAsync(node);

        await WriteAsAnotherNodeAsync(node, storage => storage.Policies.AddVersionAsync(
            PolicyScopes.KeyStore, store.Id, """{"rules":[{"name":"deny-all","effect":"deny"}]}""", DateTimeOffset.UtcNow, "tok_b"));
        XksAssert.Ok(await store.Client.GetKeyMetadataAsync(name));
        await NoticeAsync(node, ChangeTopic.AccessRules);

        XksAssert.Error(await store.Client.GetKeyMetadataAsync(name), 403, "AccessDeniedException");
    }

    [Fact]
    public async Task A_region_set_another_node_changed_reaches_the_region_kill_switch_that_names_it()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var frozen = Admin.Unique("frozen");
        await PutRegionSetAsync(node, frozen, "us-east-1");
        await EngageAsync(node, new { scope = "region", value = frozen, reason = "frozen regions" });
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1])); // eu-west-1

        await WriteAsAnotherNodeAsync(node, storage => storage.Policies.PutRegionSetAsync(new StoredRegionSet(frozen, ["eu-west-1"], DateTimeOffset.UtcNow)));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));
        await NoticeAsync(node, ChangeTopic.RegionSets);

        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");
        using var sets = await node.Admin.GetAsync($"/api/v1/region-sets/{frozen}");
        Assert.Equal("eu-west-1", (string)(await sets.JsonAsync(HttpStatusCode.OK))["regions"]![0]!);
    }

    [Fact]
    public async Task A_region_set_changed_through_the_API_reaches_the_region_kill_switch_that_names_it_at_once()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var frozen = Admin.Unique("frozen");
        await PutRegionSetAsync(node, frozen, "us-east-1");
        await EngageAsync(node, new { scope = "region", value = frozen, reason = "frozen regions" });
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));

        await PutRegionSetAsync(node, frozen, "eu-west-1");

        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");
    }

    [Fact]
    public async Task A_notice_carrying_this_nodes_own_id_is_ignored()
    {
        var node = shared.Node;
        var xks = XksClient.For(node);
        var engaged = SwitchForEverything();
        await WriteAsAnotherNodeAsync(node, storage => storage.KillSwitches.EngageAsync(engaged));

        await node.Server.Changes.ReceiveAsync(new ChangeNotice(ChangeTopic.KillSwitches, node.Server.Changes.NodeId));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1]));

        await NoticeAsync(node, ChangeTopic.KillSwitches);
        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");
    }

    [Fact]
    public async Task A_failing_cache_is_logged_and_the_others_still_reload_and_a_local_writer_is_told_its_change_is_not_in_force()
    {
        // A node of its own: the failing cache stays subscribed.
        await using var node = await DevServer.StartAsync(SlowReload);
        var xks = XksClient.For(node);
        node.Server.Changes.Subscribe("broken cache", _ => throw new InvalidOperationException("the broken cache failed"), ChangeTopic.KillSwitches);

        var engaged = SwitchForEverything();
        await WriteAsAnotherNodeAsync(node, storage => storage.KillSwitches.EngageAsync(engaged));
        await NoticeAsync(node, ChangeTopic.KillSwitches); // does not throw
        XksAssert.Error(await xks.EncryptAsync(node.Info.KeyId, [1]), 400, "InvalidStateException");
        Assert.Contains(node.Logs.Lines, l => l.Contains("[1400]", StringComparison.Ordinal) && l.Contains("broken cache", StringComparison.Ordinal));

        using var release = await node.Admin.PostAsync($"/api/v1/kill-switches/{engaged.Id}/release", null);
        var problem = await release.ProblemAsync(HttpStatusCode.ServiceUnavailable);
        Assert.Contains("was stored", (string)problem["detail"]!, StringComparison.Ordinal);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1])); // the kill switch board reloaded all the same
    }

    private static KillSwitch SwitchForEverything() =>
        new("kill_" + Guid.NewGuid().ToString("N"), KillSwitchScope.All, null, "engaged on " + OtherNode, "tok_b", DateTimeOffset.UtcNow);

    private static async Task<(TestKeyStore Store, string KeyName)> NewKeyStoreWithKeyAsync(DevServer node)
    {
        var store = await node.CreateKeyStoreAsync("/" + Admin.Unique("changes"));
        var name = Admin.Unique("key");
        await node.CreateKeyAsync(store.Id, name, "ENCRYPT", "DECRYPT");
        return (store, name);
    }

    private static async Task WriteAsAnotherNodeAsync(DevServer node, Func<ICofferStorage, Task> write)
    {
        using var storage = await SqliteStorage.OpenAsync(Path.Combine(node.DataDirectory, "coffer.db"));
        await write(storage);
    }

    private static Task NoticeAsync(DevServer node, ChangeTopic topic) =>
        node.Server.Changes.ReceiveAsync(new ChangeNotice(topic, OtherNode));

    private static async Task PutRegionSetAsync(DevServer node, string name, params string[] regions)
    {
        using var response = await node.Admin.PutAsJsonAsync($"/api/v1/region-sets/{name}", new { regions });
        await response.JsonAsync(HttpStatusCode.OK);
    }

    private static async Task EngageAsync(DevServer node, object body)
    {
        using var response = await node.Admin.PostAsJsonAsync("/api/v1/kill-switches", body);
        await response.JsonAsync(HttpStatusCode.Created);
    }
}
