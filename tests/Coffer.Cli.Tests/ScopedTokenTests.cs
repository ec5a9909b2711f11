using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>
/// Every <c>coffer key</c> and <c>coffer keystore</c> command run with the token of a user who is
/// key-officer on two key stores only, against a real node: the CLI resolves what it is given with
/// calls such a token may make, so each command works on those stores; the commands that are about
/// every key store are refused by the server, as the API refuses them.
/// </summary>
public sealed class ScopedTokenTests
{
    [Fact]
    public async Task A_key_officer_of_two_key_stores_runs_every_key_and_key_store_command_on_them()
    {
        await using var node = await DevServer.StartAsync();
        var team = JsonId(await Cli.RunAsync(node, "keystore", "create", "team", "--prefix", "/team", "--json"));
        var spare = JsonId(await Cli.RunAsync(node, "keystore", "create", "spare", "--prefix", "/spare", "--json"));
        var user = JsonId(await Cli.RunAsync(node, "user", "create", "--name", "Officer", "--role", "key-officer@" + team, "--role", "key-officer@" + spare, "--json"));
        var token = await Cli.RunAsync(node, "token", "create", "--name", "officer", "--owner", user, "--json");
        Assert.True(token.ExitCode == 0, token.ToString());
        var scoped = Cli.Environment(node.Info.AdminUrl, token.Json.GetProperty("token").GetString());
        async Task<CliResult> Run(params string[] args)
        {
            var result = await Cli.RunAsync(scoped, args);
            Assert.True(result.ExitCode == 0, $"coffer {string.Join(' ', args)}: {result}");
            return result;
        }

        var key = JsonId(await Run("key", "create", team, "--name", "orders", "--json"));
        Assert.Contains(key, (await Run("key", "list", "--keystore", team)).Out, StringComparison.Ordinal);
        Assert.Contains("orders", (await Run("key", "show", key)).Out, StringComparison.Ordinal);
        await Run("key", "disable", key);
        await Run("key", "enable", key);
        await Run("key", "rotate", key);
        await Run("key", "version", "list", key);
        await Run("key", "version", "compromise", key, "1");
        await Run("key", "version", "dates", key, "2", "--deactivates-at", "2099-01-01T00:00:00Z");
        await Run("key", "version", "schedule-destruction", key, "1", "--waiting-days", "7");
        await Run("key", "version", "cancel-destruction", key, "1");
        await Run("key", "compromised-may-decrypt", key, "true");
        await Run("key", "rotation-policy", "set", key, "--interval-days", "30");
        await Run("key", "rotation-policy", "show", key);
        await Run("key", "rotation-policy", "clear", key);
        await Run("key", "schedule-destruction", key, "--waiting-days", "7");
        await Run("key", "cancel-destruction", key);

        Assert.Contains("team", (await Run("keystore", "show", team)).Out, StringComparison.Ordinal);
        var credential = JsonId(await Run("keystore", "credential", "add", team, "--json"));
        Assert.Contains(credential, (await Run("keystore", "credential", "list", team)).Out, StringComparison.Ordinal);
        await Run("keystore", "export-config", team, credential);
        await Run("keystore", "credential", "revoke", team, credential);
        await Run("keystore", "rotation-policy", "set", team, "--interval-days", "30");
        await Run("keystore", "rotation-policy", "show", team);
        await Run("keystore", "rotation-policy", "clear", team);
        await Run("keystore", "delete", spare);

        // About every key store, so beyond a scoped role: the server's own refusal, not the CLI's.
        foreach (string[] args in (string[][])[["keystore", "list"], ["key", "list"], ["key", "rotate-many", "--keystore", team]])
        {
            var refused = await Cli.RunAsync(scoped, args);
            Assert.Equal(1, refused.ExitCode);
            Assert.Contains("do not have the permission this call needs", refused.Error, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task A_key_officer_of_two_key_stores_names_its_keys_and_key_stores()
    {
        await using var node = await DevServer.StartAsync();
        var team = JsonId(await Cli.RunAsync(node, "keystore", "create", "team", "--prefix", "/team", "--json"));
        var spare = JsonId(await Cli.RunAsync(node, "keystore", "create", "spare", "--prefix", "/spare", "--json"));
        var ledger = JsonId(await Cli.RunAsync(node, "key", "create", "team", "--name", "ledger", "--json"));
        var teamOrders = JsonId(await Cli.RunAsync(node, "key", "create", "team", "--name", "orders", "--json"));
        var spareOrders = JsonId(await Cli.RunAsync(node, "key", "create", "spare", "--name", "orders", "--json"));
        var scoped = await TokenOfAsync(node, "Officer", "key-officer@" + team, "key-officer@" + spare);

        var show = await Cli.RunAsync(scoped, "key", "show", "ledger", "--json");
        var rotate = await Cli.RunAsync(scoped, "key", "rotate", "ledger", "--json");
        var list = await Cli.RunAsync(scoped, "key", "list", "--keystore", "team");
        var store = await Cli.RunAsync(scoped, "keystore", "show", "spare", "--json");
        var ambiguous = await Cli.RunAsync(scoped, "key", "rotate", "orders");
        var missing = await Cli.RunAsync(scoped, "key", "show", "nothing");
        var whoami = await Cli.RunAsync(scoped, "whoami");

        Assert.Equal(ledger, JsonId(show));
        Assert.Equal(2, rotate.Json.GetProperty("currentVersion").GetInt32());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(teamOrders, list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(spareOrders, list.Out, StringComparison.Ordinal);
        Assert.Equal(spare, JsonId(store));
        Assert.True(ambiguous.ExitCode == 2, ambiguous.ToString());
        Assert.Contains("2 keys are named 'orders'", ambiguous.Error, StringComparison.Ordinal);
        Assert.Contains(teamOrders, ambiguous.Error, StringComparison.Ordinal);
        Assert.Contains(spareOrders, ambiguous.Error, StringComparison.Ordinal);
        Assert.Equal(1, (await Cli.RunAsync(node, "key", "show", teamOrders, "--json")).Json.GetProperty("currentVersion").GetInt32());
        Assert.True(missing.ExitCode == 1, missing.ToString());
        Assert.Contains($"no key named 'nothing' in the key stores the caller holds roles on ({team}, {spare})", missing.Error, StringComparison.Ordinal);
        Assert.True(whoami.ExitCode == 0, whoami.ToString());
        Assert.Matches($@"key-officer\s+{team}\s+team", whoami.Out);
        Assert.Matches($@"key-officer\s+{spare}\s+spare", whoami.Out);
    }

    [Fact]
    public async Task A_caller_who_may_engage_kill_switches_everywhere_but_read_keys_of_one_store_names_its_key()
    {
        await using var node = await DevServer.StartAsync();
        var team = JsonId(await Cli.RunAsync(node, "keystore", "create", "team", "--prefix", "/team", "--json"));
        var ledger = JsonId(await Cli.RunAsync(node, "key", "create", "team", "--name", "ledger", "--json"));
        Assert.Equal(0, (await Cli.RunAsync(node, "role", "set", "breaker", "killswitch.write", "killswitch.read")).ExitCode);
        var scoped = await TokenOfAsync(node, "Pager", "breaker", "key-officer@" + team);

        var engage = await Cli.RunAsync(scoped, "kill-switch", "engage", "--key", "ledger", "--reason", "by name");

        Assert.True(engage.ExitCode == 0, engage.ToString());
        Assert.Contains($"key {ledger} is blocked", engage.Out, StringComparison.Ordinal);
    }

    /// <summary>The environment of a user holding <paramref name="roles"/> ("role" or "role@keyStoreId"), with a token of theirs.</summary>
    private static async Task<Coffer.Cli.Client.CliEnvironment> TokenOfAsync(DevServer node, string name, params string[] roles)
    {
        var user = JsonId(await Cli.RunAsync(node, ["user", "create", "--name", name, .. roles.SelectMany(role => new[] { "--role", role }), "--json"]));
        var token = await Cli.RunAsync(node, "token", "create", "--name", name, "--owner", user, "--json");
        Assert.True(token.ExitCode == 0, token.ToString());
        return Cli.Environment(node.Info.AdminUrl, token.Json.GetProperty("token").GetString());
    }

    private static string JsonId(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json.GetProperty("id").GetString()!;
    }
}
