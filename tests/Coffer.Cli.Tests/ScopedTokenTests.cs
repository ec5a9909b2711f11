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

    private static string JsonId(CliResult result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        return result.Json.GetProperty("id").GetString()!;
    }
}
