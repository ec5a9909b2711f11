using System.Text.RegularExpressions;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer role|user|app</c> and <c>coffer token create --owner</c> against a real node.</summary>
public sealed partial class IdentityCommandTests
{
    [Fact]
    public async Task A_custom_role_given_to_an_app_lets_its_token_do_that_and_no_more()
    {
        await using var node = await DevServer.StartAsync();

        var role = await Cli.RunAsync(node, "role", "set", "key-reader", "keys.read", "keystores.read", "--description", "reads keys");
        var app = await Cli.RunAsync(node, "app", "create", "--name", "inventory", "--role", "key-reader", "--group", "readers");
        var appId = IdPattern().Match(app.Out).Value;
        var token = await Cli.RunAsync(node, "token", "create", "--name", "inventory", "--owner", appId);
        var secret = token.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim();
        var env = Cli.Environment(node.Info.AdminUrl, secret);
        var reads = await Cli.RunAsync(env, "keystore", "list");
        var engage = await Cli.RunAsync(env, "kill-switch", "engage", "--all", "--reason", "not allowed");
        var list = await Cli.RunAsync(node, "app", "list");
        var roles = await Cli.RunAsync(node, "role", "list");

        Assert.True(role.ExitCode == 0, role.ToString());
        Assert.True(app.ExitCode == 0, app.ToString());
        Assert.Contains("for " + appId, token.Out, StringComparison.Ordinal);
        Assert.True(reads.ExitCode == 0, reads.ToString());
        Assert.Equal(1, engage.ExitCode);
        Assert.Contains("killswitch.write", engage.Error, StringComparison.Ordinal);
        Assert.Contains("key-reader", list.Out, StringComparison.Ordinal);
        Assert.Contains("readers", list.Out, StringComparison.Ordinal);
        Assert.Contains("custom", roles.Out, StringComparison.Ordinal);

        var disabled = await Cli.RunAsync(node, "app", "disable", appId);
        var after = await Cli.RunAsync(env, "keystore", "list");
        Assert.True(disabled.ExitCode == 0, disabled.ToString());
        Assert.NotEqual(0, after.ExitCode);
    }

    [Fact]
    public async Task A_user_is_created_with_a_scoped_role_and_changed_with_set()
    {
        await using var node = await DevServer.StartAsync();
        var store = await Cli.RunAsync(node, "keystore", "create", "team-a", "--prefix", "/team-a");
        var storeId = Regex.Match(store.Out, "ks_[a-z2-7]+").Value;

        var user = await Cli.RunAsync(node, "user", "create", "--name", "Dana", "--role", "key-officer@" + storeId, "--oidc-subject", "dana-sub");
        var userId = IdPattern().Match(user.Out).Value;
        var set = await Cli.RunAsync(node, "user", "set", userId, "--name", "Dana", "--role", "auditor", "--group", "custodians", "--oidc-subject", "dana-sub");
        var bad = await Cli.RunAsync(node, "user", "set", userId, "--name", "Dana", "--role", "superuser");
        var shown = await Cli.RunAsync(node, "user", "show", userId);

        Assert.True(store.ExitCode == 0, store.ToString());
        Assert.True(user.ExitCode == 0, user.ToString());
        Assert.Contains("key-officer@" + storeId, user.Out, StringComparison.Ordinal);
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Equal(1, bad.ExitCode);
        Assert.True(bad.Error.Contains("Unknown role 'superuser'", StringComparison.Ordinal), bad.ToString());
        Assert.Contains("auditor", shown.Out, StringComparison.Ordinal);
        Assert.Contains("custodians", shown.Out, StringComparison.Ordinal);
        Assert.Contains("dana-sub", shown.Out, StringComparison.Ordinal);
    }

    [GeneratedRegex("(usr|app)_[a-z2-7]+")]
    private static partial Regex IdPattern();
}
