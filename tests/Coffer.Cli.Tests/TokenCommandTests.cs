using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer token create|list|revoke</c> against a real node: a role-limited token works for
/// what its role allows and is refused (exit 1, 403) for the rest.</summary>
public sealed class TokenCommandTests
{
    [Fact]
    public async Task Created_auditor_token_reads_but_cannot_engage_the_kill_switch_and_revoked_it_stops_working()
    {
        await using var node = await DevServer.StartAsync();

        var created = await Cli.RunAsync(node, "token", "create", "--name", "siem", "--role", "auditor");
        var lines = created.Out.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        var id = System.Text.RegularExpressions.Regex.Match(lines[0], "^token (tok_[a-z2-7]+) \\(auditor\\)").Groups[1].Value;
        var secret = lines[1].Trim();
        var env = Cli.Environment(node.Info.AdminUrl, secret);

        var reads = await Cli.RunAsync(env, "audit", "verify");
        var engage = await Cli.RunAsync(env, "kill-switch", "engage", "--all", "--reason", "not allowed");
        var list = await Cli.RunAsync(node, "token", "list");

        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.NotEmpty(id);
        Assert.True(reads.ExitCode == 0, reads.ToString());
        Assert.Equal(1, engage.ExitCode);
        Assert.Contains("killswitch.write", engage.Error, StringComparison.Ordinal);
        Assert.Contains(id, list.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, list.Out, StringComparison.Ordinal);

        var revoked = await Cli.RunAsync(node, "token", "revoke", id);
        var after = await Cli.RunAsync(env, "audit", "verify");

        Assert.True(revoked.ExitCode == 0, revoked.ToString());
        Assert.NotEqual(0, after.ExitCode);
    }
}
