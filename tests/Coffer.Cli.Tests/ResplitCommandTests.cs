using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer resplit</c>: new shares from a quorum of the current ones, after which the old
/// shares open nothing (docs/master-key.md).</summary>
public sealed class ResplitCommandTests
{
    [Fact]
    public async Task A_quorum_of_current_shares_resplits_and_then_only_the_new_shares_unseal()
    {
        await using var node = await SealedNode.StartAsync();
        var (old, root) = await InitAndUnsealAsync(node, 3, 2);
        var admin = Cli.Environment(node.AdminUrl, root);
        var anonymous = Cli.Environment(node.AdminUrl, null);

        var start = await Cli.RunAsync(admin, "resplit", "start", "--shares", "4", "--threshold", "3", "--json");
        Assert.True(start.ExitCode == 0, start.ToString());
        var nonce = start.Json.GetProperty("nonce").GetString()!;
        Assert.Equal(2, start.Json.GetProperty("required").GetInt32());

        var first = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null, stdin: old[2] + "\n"), "resplit", "share", "--nonce", nonce);
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("1 of 2 current shares given", first.Out, StringComparison.Ordinal);
        var done = await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", nonce, old[0], "--json");
        Assert.True(done.ExitCode == 0, done.ToString());
        var fresh = done.Json.GetProperty("newShares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        Assert.Equal(4, fresh.Length);
        Assert.Empty(fresh.Intersect(old));
        Assert.False(done.Json.GetProperty("inProgress").GetBoolean());
        Assert.False(node.Server.IsSealed);

        Assert.Equal(0, (await Cli.RunAsync(admin, "seal")).ExitCode);
        // The threshold is now 3: the third old share is the one that makes Coffer combine them.
        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", old[0])).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", old[1])).ExitCode);
        var stale = await Cli.RunAsync(anonymous, "unseal", old[2]);
        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("do not open this installation's master key", stale.Error, StringComparison.Ordinal);
        Assert.True(node.Server.IsSealed);

        foreach (var share in fresh.Take(3))
        {
            Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", share)).ExitCode);
        }

        Assert.False(node.Server.IsSealed);

        // Every step is recorded, with counts and never a share.
        var audit = await Cli.RunAsync(admin, "audit", "list", "--json");
        Assert.Contains("re-split into 4 shares, threshold 3: 0 of 2 current shares given", audit.Out, StringComparison.Ordinal);
        Assert.Contains("re-split done: 4 shares, threshold 3", audit.Out, StringComparison.Ordinal);
        foreach (var share in old.Concat(fresh))
        {
            Assert.DoesNotContain(share, audit.Out, StringComparison.Ordinal);
            Assert.DoesNotContain(share, node.Logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task New_shares_can_go_each_to_its_holder_encrypted_and_unseal_once_gpg_opened_them()
    {
        using var holders = await GpgHolders.CreateAsync(2);
        await using var node = await SealedNode.StartAsync();
        var (old, root) = await InitAndUnsealAsync(node, 1, 1);
        var admin = Cli.Environment(node.AdminUrl, root);

        var start = await Cli.RunAsync(admin, "resplit", "start", "--shares", "2", "--threshold", "2", "--pgp-keys", string.Join(',', holders.PublicKeyFiles), "--json");
        Assert.True(start.ExitCode == 0, start.ToString());
        var done = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "resplit", "share", "--nonce", start.Json.GetProperty("nonce").GetString()!, old[0]);
        Assert.True(done.ExitCode == 0, done.ToString());
        Assert.DoesNotContain(Coffer.Crypto.Shamir.SharePrefix, done.Out, StringComparison.Ordinal);

        var messages = System.Text.RegularExpressions.Regex.Matches(done.Out, "-----BEGIN PGP MESSAGE-----.*?-----END PGP MESSAGE-----", System.Text.RegularExpressions.RegexOptions.Singleline);
        Assert.Equal(2, messages.Count);
        Assert.Equal(0, (await Cli.RunAsync(admin, "seal")).ExitCode);
        foreach (var message in messages.Select(m => m.Value))
        {
            Assert.Equal(0, (await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "unseal", (await holders.DecryptAsync(message)).Trim())).ExitCode);
        }

        Assert.False(node.Server.IsSealed);
    }

    [Fact]
    public async Task Foreign_shares_or_a_wrong_nonce_change_nothing_and_the_current_shares_still_unseal()
    {
        await using var node = await SealedNode.StartAsync();
        await using var other = await SealedNode.StartAsync();
        var (old, root) = await InitAndUnsealAsync(node, 2, 2);
        var (foreign, _) = await InitAndUnsealAsync(other, 2, 2);
        var admin = Cli.Environment(node.AdminUrl, root);
        var anonymous = Cli.Environment(node.AdminUrl, null);
        var nonce = (await Cli.RunAsync(admin, "resplit", "start", "--shares", "2", "--threshold", "1", "--json")).Json.GetProperty("nonce").GetString()!;

        var wrongNonce = await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", "0123", old[0]);
        Assert.Equal(1, wrongNonce.ExitCode);
        Assert.Contains("No re-split with this nonce", wrongNonce.Error, StringComparison.Ordinal);

        Assert.Equal(0, (await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", nonce, foreign[0])).ExitCode);
        var mixed = await Cli.RunAsync(anonymous, "resplit", "share", "--nonce", nonce, foreign[1]);
        Assert.Equal(1, mixed.ExitCode);
        Assert.Contains("do not open this installation's master key", mixed.Error, StringComparison.Ordinal);
        var status = await Cli.RunAsync(anonymous, "resplit", "status", "--json");
        Assert.True(status.Json.GetProperty("inProgress").GetBoolean());
        Assert.Equal(0, status.Json.GetProperty("progress").GetInt32());

        var cancel = await Cli.RunAsync(admin, "resplit", "cancel");
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Contains("No re-split is in progress.", cancel.Out, StringComparison.Ordinal);
        Assert.Equal(0, (await Cli.RunAsync(admin, "seal")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", old[1])).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(anonymous, "unseal", old[0])).ExitCode);
        Assert.False(node.Server.IsSealed);
    }

    private static async Task<(string[] Shares, string RootToken)> InitAndUnsealAsync(SealedNode node, int shares, int threshold)
    {
        var env = Cli.Environment(node.AdminUrl, null);
        var init = await Cli.RunAsync(env, "init", "--shares", shares.ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--threshold", threshold.ToString(System.Globalization.CultureInfo.InvariantCulture), "--json");
        Assert.True(init.ExitCode == 0, init.ToString());
        var split = init.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        foreach (var share in split.Take(threshold))
        {
            Assert.Equal(0, (await Cli.RunAsync(env, "unseal", share)).ExitCode);
        }

        return (split, init.Json.GetProperty("rootToken").GetString()!);
    }
}
