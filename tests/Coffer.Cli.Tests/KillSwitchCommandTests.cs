using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer kill-switch engage|list|release</c> against a real node and its XKS endpoint.</summary>
public sealed class KillSwitchCommandTests
{
    [Fact]
    public async Task Engage_blocks_the_key_list_shows_who_and_why_release_restores_it()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);

        var engaged = await Cli.RunAsync(node, "kill-switch", "engage", "--region", "eu-west-1", "--reason", "suspected leak");
        var id = System.Text.RegularExpressions.Regex.Match(engaged.Out, @"^engaged (kill_[a-z2-7]+): region eu-west-1 is blocked").Groups[1].Value;
        var blocked = await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3]);
        var list = await Cli.RunAsync(node, "kill-switch", "list");

        Assert.True(engaged.ExitCode == 0, engaged.ToString());
        Assert.NotEmpty(id);
        Assert.Equal(400, blocked.Status);
        Assert.Contains("InvalidStateException", blocked.Body, StringComparison.Ordinal);
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.Contains("suspected leak", list.Out, StringComparison.Ordinal);

        var released = await Cli.RunAsync(node, "kill-switch", "release", id);
        var after = await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3]);
        var empty = await Cli.RunAsync(node, "kill-switch", "list");

        Assert.True(released.ExitCode == 0, released.ToString());
        Assert.Equal(200, after.Status);
        Assert.StartsWith("No kill switch is engaged.", empty.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Engage_needs_exactly_one_scope_and_a_reason()
    {
        await using var node = await DevServer.StartAsync();

        var none = await Cli.RunAsync(node, "kill-switch", "engage", "--reason", "r");
        var two = await Cli.RunAsync(node, "kill-switch", "engage", "--all", "--key", "key_x", "--reason", "r");
        var noReason = await Cli.RunAsync(node, "kill-switch", "engage", "--all");

        Assert.Equal(2, none.ExitCode);
        Assert.Contains("exactly one of --all", none.Error, StringComparison.Ordinal);
        Assert.Equal(2, two.ExitCode);
        Assert.Equal(2, noReason.ExitCode);
        Assert.Equal(200, (await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1])).Status);
    }
}
