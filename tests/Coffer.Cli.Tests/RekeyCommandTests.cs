using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer rekey</c> and <c>coffer rekey status</c> (docs/master-key.md, "coffer rekey"): the dev
/// seal rekeys at once; the shamir seal prints a nonce, and the holder whose share reaches the quorum
/// is shown the new shares and what was sealed again.</summary>
public sealed class RekeyCommandTests
{
    [Fact]
    public async Task The_dev_seal_rekeys_at_once_and_status_says_nothing_is_left()
    {
        await using var node = await DevServer.StartAsync();
        Assert.Contains("No rekey is in progress.", (await Cli.RunAsync(node, "rekey", "status")).Out, StringComparison.Ordinal);

        var rekey = await Cli.RunAsync(node, "rekey");
        Assert.True(rekey.ExitCode == 0, rekey.ToString());
        Assert.Contains("The master key was replaced: ", rekey.Out, StringComparison.Ordinal);
        Assert.Contains("stored values sealed again under the new one", rekey.Out, StringComparison.Ordinal);

        var shares = await Cli.RunAsync(node, "rekey", "--shares", "2", "--threshold", "1");
        Assert.Equal(1, shares.ExitCode);
        Assert.Contains("has no shares", shares.Error, StringComparison.Ordinal);
        var status = await Cli.RunAsync(node, "rekey", "status", "--json");
        Assert.Equal("none", status.Json.GetProperty("phase").GetString());
    }

    [Fact]
    public async Task A_shamir_rekey_prints_a_nonce_and_the_share_that_completes_the_quorum_gets_the_new_shares()
    {
        await using var node = await SealedNode.StartAsync();
        var anonymous = Cli.Environment(node.AdminUrl, null);
        var init = await Cli.RunAsync(anonymous, "init", "--shares", "2", "--threshold", "2", "--json");
        var old = init.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        foreach (var share in old)
        {
            Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", share)).ExitCode);
        }

        var admin = Cli.Environment(node.AdminUrl, init.Json.GetProperty("rootToken").GetString());
        var start = await Cli.RunAsync(admin, "rekey", "--shares", "3", "--threshold", "2", "--json");
        Assert.True(start.ExitCode == 0, start.ToString());
        var nonce = start.Json.GetProperty("nonce").GetString()!;
        Assert.Contains($"Rekey {nonce} awaiting shares: 0 of 2", (await Cli.RunAsync(admin, "rekey", "status")).Out, StringComparison.Ordinal);

        Assert.Equal(0, (await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", nonce, old[0])).ExitCode);
        var done = await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", nonce, old[1]);
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.Contains("The master key was replaced: ", done.Out, StringComparison.Ordinal);
        Assert.Equal(3, System.Text.RegularExpressions.Regex.Matches(done.Out, "Unseal share [0-9]: ").Count);
        Assert.Contains("No rekey is in progress.", (await Cli.RunAsync(admin, "rekey", "status")).Out, StringComparison.Ordinal);
        Assert.False(node.Server.IsSealed);
    }
}
