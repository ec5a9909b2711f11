using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>Every argument and option that takes a key, key store, user, app, token or webhook takes its
/// id or its name, against a real node; a name several things share is refused with their ids. The
/// class shares one node, except for the tests that engage (or check that nothing engaged) a kill
/// switch: a switch on the demo key would block the other tests' calls.</summary>
public sealed partial class NamingTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private static async Task<string> IdAsync(DevServer node, params string[] args)
    {
        var result = await Cli.RunAsync(node, [.. args, "--json"]);
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json.GetProperty("id").GetString()!;
    }

    private static void Succeeded(CliResult result) => Assert.True(result.ExitCode == 0, result.ToString());

    /// <summary>A usage error that says what is shared and lists every id that shares it.</summary>
    private static void RefusedAsAmbiguous(CliResult result, string message, params string[] ids)
    {
        Assert.True(result.ExitCode == 2, result.ToString());
        Assert.Contains(message, result.Error, StringComparison.Ordinal);
        Assert.All(ids, id => Assert.Contains(id, result.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Kill_switch_engage_takes_a_key_name_and_a_key_store_name()
    {
        await using var node = await DevServer.StartAsync();
        var keyId = await IdAsync(node, "key", "show", node.Info.KeyId);
        var storeId = await IdAsync(node, "keystore", "show", "demo");

        var key = await Cli.RunAsync(node, "kill-switch", "engage", "--key", node.Info.KeyId, "--reason", "by name");
        var store = await Cli.RunAsync(node, "kill-switch", "engage", "--keystore", "demo", "--reason", "by name");
        var blocked = await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1, 2, 3]);

        Succeeded(key);
        Assert.Contains($"key {keyId} is blocked", key.Out, StringComparison.Ordinal);
        Succeeded(store);
        Assert.Contains($"keystore {storeId} is blocked", store.Out, StringComparison.Ordinal);
        Assert.Equal(400, blocked.Status);
    }

    [Fact]
    public async Task Audit_list_takes_a_key_name_and_a_key_store_name()
    {
        var node = shared.Node;
        var keyId = await IdAsync(node, "key", "show", node.Info.KeyId);
        var storeId = await IdAsync(node, "keystore", "show", "demo");
        Assert.Equal(200, (await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1, 2, 3])).Status);

        var byKey = await Cli.RunAsync(node, "audit", "list", "--key", node.Info.KeyId, "--json");
        var byStore = await Cli.RunAsync(node, "audit", "list", "--keystore", "demo", "--action", "xks.encrypt", "--json");

        Succeeded(byKey);
        var keyRecords = byKey.Json.GetProperty("records").EnumerateArray().ToList();
        Assert.Contains(keyRecords, r => r.GetProperty("action").GetString() == "xks.encrypt");
        Assert.All(keyRecords, r => Assert.Equal(keyId, r.GetProperty("keyId").GetString()));
        Succeeded(byStore);
        var storeRecords = byStore.Json.GetProperty("records").EnumerateArray().ToList();
        Assert.NotEmpty(storeRecords);
        Assert.All(storeRecords, r => Assert.Equal(storeId, r.GetProperty("keyStore").GetString()));
    }

    [Fact]
    public async Task A_key_name_in_two_key_stores_is_refused_with_both_ids_and_changes_nothing()
    {
        await using var node = await DevServer.StartAsync();
        var first = await IdAsync(node, "key", "show", node.Info.KeyId);
        Succeeded(await Cli.RunAsync(node, "keystore", "create", "other", "--prefix", "/other"));
        var second = await IdAsync(node, "key", "create", "other", "--name", node.Info.KeyId);

        var engage = await Cli.RunAsync(node, "kill-switch", "engage", "--key", node.Info.KeyId, "--reason", "which one?");
        var list = await Cli.RunAsync(node, "kill-switch", "list");

        RefusedAsAmbiguous(engage, $"2 keys are named '{node.Info.KeyId}'", first, second);
        Assert.StartsWith("No kill switch is engaged.", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Users_apps_and_tokens_are_named_and_a_shared_user_name_is_refused_with_both_ids()
    {
        var node = shared.Node;
        var storeId = await IdAsync(node, "keystore", "show", "demo");
        var dana = await IdAsync(node, "user", "create", "--name", "Dana", "--role", "key-officer@demo");
        var app = await IdAsync(node, "app", "create", "--name", "inventory", "--role", "auditor");

        var shown = await Cli.RunAsync(node, "user", "show", "Dana", "--json");
        var set = await Cli.RunAsync(node, "user", "set", "Dana", "--name", "Dana", "--role", "auditor", "--group", "custodians");
        var owned = await Cli.RunAsync(node, "token", "create", "--name", "inventory-ci", "--owner", "inventory");
        var scoped = await Cli.RunAsync(node, "token", "create", "--name", "demo-officer", "--role", "key-officer", "--key-store", "demo");
        var revoked = await Cli.RunAsync(node, "token", "revoke", "inventory-ci");
        var disabled = await Cli.RunAsync(node, "app", "disable", "inventory");

        Succeeded(shown);
        Assert.Equal(dana, shown.Json.GetProperty("id").GetString());
        Assert.Equal(storeId, shown.Json.GetProperty("roles")[0].GetProperty("keyStoreId").GetString());
        Succeeded(set);
        Assert.Contains("custodians", set.Out, StringComparison.Ordinal);
        Succeeded(owned);
        Assert.Contains("for " + app, owned.Out, StringComparison.Ordinal);
        Succeeded(scoped);
        Assert.Contains("key-officer on " + storeId, scoped.Out, StringComparison.Ordinal);
        Succeeded(revoked);
        Assert.Matches(TokenRevoked(), revoked.Out);
        Succeeded(disabled);
        Assert.Contains(app, disabled.Out, StringComparison.Ordinal);

        var other = await IdAsync(node, "user", "create", "--name", "Dana", "--role", "auditor");
        var ambiguous = await Cli.RunAsync(node, "user", "disable", "Dana");
        var still = await Cli.RunAsync(node, "user", "list");

        RefusedAsAmbiguous(ambiguous, "2 users are named 'Dana'", dana, other);
        Assert.DoesNotContain("disabled", still.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_webhook_is_named_by_its_url_in_deliveries_and_remove()
    {
        var node = shared.Node;
        const string Url = "http://127.0.0.1:9/hook";
        var id = await IdAsync(node, "alert", "webhook", "add", Url, "--event", "key.rotate");

        var deliveries = await Cli.RunAsync(node, "alert", "deliveries", "--webhook", Url);
        var removed = await Cli.RunAsync(node, "alert", "webhook", "remove", Url);
        var list = await Cli.RunAsync(node, "alert", "webhook", "list");

        Succeeded(deliveries);
        Succeeded(removed);
        Assert.Contains($"Removed webhook {id}.", removed.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(id, list.Out, StringComparison.Ordinal);
    }

    [GeneratedRegex(@"^revoked tok_[a-z2-7]+\r?\n$")]
    private static partial Regex TokenRevoked();
}
