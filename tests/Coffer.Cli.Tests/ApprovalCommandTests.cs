using System.Text.RegularExpressions;
using Coffer.Cli.Client;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer quorum …</c> and <c>coffer approval …</c> against a real node, and what a guarded
/// command prints when it is held for approval.</summary>
public sealed class ApprovalCommandTests
{
    [Fact]
    public async Task Quorum_set_list_show_and_delete_a_policy_and_refuse_an_unknown_operation()
    {
        await using var node = await DevServer.StartAsync();

        var set = await Cli.RunAsync(node, "quorum", "set", "destroy", "--operation", "key.destroy", "--operation", "keystore.delete", "--required", "2", "--group", "custodians");
        var list = await Cli.RunAsync(node, "quorum", "list");
        var show = await Cli.RunAsync(node, "quorum", "show", "destroy", "--json");
        var bad = await Cli.RunAsync(node, "quorum", "set", "oops", "--operation", "key.explode", "--required", "2", "--group", "custodians");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Contains("key.destroy, keystore.delete", list.Out, StringComparison.Ordinal);
        Assert.Contains("custodians", list.Out, StringComparison.Ordinal);
        Assert.Equal(2, show.Json.GetProperty("requiredApprovals").GetInt32());
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("Unknown operation 'key.explode'", bad.Error, StringComparison.Ordinal);

        var deleted = await Cli.RunAsync(node, "quorum", "delete", "destroy");
        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Equal(0, (await Cli.RunAsync(node, "quorum", "list", "--json")).Json.GetArrayLength());
    }

    [Fact]
    public async Task A_guarded_command_prints_the_approval_request_and_exits_3_and_approval_commands_show_and_cancel_it()
    {
        await using var node = await DevServer.StartAsync();
        Assert.Equal(0, (await Cli.RunAsync(node, "quorum", "set", "levers", "--operation", "killswitch.engage", "--required", "2", "--group", "ops")).ExitCode);
        var env = Cli.Environment(node.Info.AdminUrl, node.Info.AdminToken);
        env = env with { Variables = new Dictionary<string, string>(env.Variables) { [ClientSettings.ReasonVariable] = "INC-7 containment" } };

        var held = await Cli.RunAsync(env, "kill-switch", "engage", "--all", "--reason", "suspected leak");

        Assert.Equal(CliException.ApprovalPending, held.ExitCode);
        var id = Regex.Match(held.Out, @"request (apr_[a-z2-7]+) needs 2 approval\(s\) from group 'ops'").Groups[1].Value;
        Assert.NotEmpty(id);
        Assert.StartsWith("approval needed: killswitch.engage was not run", held.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await Cli.RunAsync(node, "kill-switch", "list", "--json")).Json.GetArrayLength());

        var list = await Cli.RunAsync(node, "approval", "list", "--state", "pending");
        var show = await Cli.RunAsync(node, "approval", "show", id);
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.Contains("INC-7 containment", show.Out, StringComparison.Ordinal);
        Assert.Contains("POST /api/v1/kill-switches", show.Out, StringComparison.Ordinal);
        Assert.Contains("0 of 2 from group 'ops'", show.Out, StringComparison.Ordinal);

        var self = await Cli.RunAsync(node, "approval", "approve", id);
        Assert.Equal(1, self.ExitCode);
        Assert.Contains("own request", self.Error, StringComparison.Ordinal);

        var cancelled = await Cli.RunAsync(node, "approval", "cancel", id, "--json");
        Assert.True(cancelled.ExitCode == 0, cancelled.ToString());
        Assert.Equal("cancelled", cancelled.Json.GetProperty("state").GetString());
    }

    [Fact]
    public async Task An_approver_of_the_group_approves_with_the_cli_and_the_held_command_runs()
    {
        await using var node = await DevServer.StartAsync();
        Assert.Equal(0, (await Cli.RunAsync(node, "quorum", "set", "levers", "--operation", "killswitch.engage", "--required", "1", "--group", "ops")).ExitCode);
        var user = await Cli.RunAsync(node, "user", "create", "--name", "Olu", "--role", "approver", "--group", "ops");
        var userId = Regex.Match(user.Out, "usr_[a-z2-7]+").Value;
        var token = await Cli.RunAsync(node, "token", "create", "--name", "olu", "--owner", userId);
        var approver = Cli.Environment(node.Info.AdminUrl, token.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries)[1].Trim());
        var held = await Cli.RunAsync(node, "kill-switch", "engage", "--all", "--reason", "drill", "--json");
        var id = held.Json.GetProperty("id").GetString()!;

        var approved = await Cli.RunAsync(approver, "approval", "approve", id, "--comment", "confirmed by phone");

        Assert.Equal(CliException.ApprovalPending, held.ExitCode);
        Assert.True(approved.ExitCode == 0, approved.ToString());
        Assert.Contains("STATE", approved.Out, StringComparison.Ordinal);
        Assert.Contains("executed", approved.Out, StringComparison.Ordinal);
        Assert.Contains("approve by user " + userId, approved.Out, StringComparison.Ordinal);
        Assert.Contains("confirmed by phone", approved.Out, StringComparison.Ordinal);
        Assert.Equal(1, (await Cli.RunAsync(node, "kill-switch", "list", "--json")).Json.GetArrayLength());
    }
}
