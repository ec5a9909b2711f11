namespace Coffer.Cli.Tests;

/// <summary><c>coffer init|status|unseal|seal</c> against a node with the Shamir seal.</summary>
public sealed class ShamirFlowTests
{
    [Fact]
    public async Task Init_unseal_seal_walks_the_whole_shamir_lifecycle()
    {
        await using var node = await SealedNode.StartAsync();
        var anonymous = Cli.Environment(node.AdminUrl, token: null);

        var before = await Cli.RunAsync(anonymous, "status", "--json");
        Assert.Equal(0, before.ExitCode);
        Assert.False(before.Json.GetProperty("initialized").GetBoolean());

        var init = await Cli.RunAsync(anonymous, "init", "--shares", "3", "--threshold", "2", "--json");
        Assert.True(init.ExitCode == 0, init.ToString());
        var shares = init.Json.GetProperty("shares").EnumerateArray().Select(s => s.GetString()!).ToArray();
        var rootToken = init.Json.GetProperty("rootToken").GetString()!;
        Assert.Equal(3, shares.Length);
        Assert.Contains("shown only now", init.Error, StringComparison.Ordinal);
        var withToken = Cli.Environment(node.AdminUrl, rootToken);

        var sealedStatus = await Cli.RunAsync(withToken, "status");
        Assert.Equal(0, sealedStatus.ExitCode);
        Assert.Matches(@"Initialized\s+yes", sealedStatus.Out);
        Assert.Matches(@"Sealed\s+yes", sealedStatus.Out);
        Assert.Matches(@"Seal\s+shamir", sealedStatus.Out);
        Assert.Matches(@"Unseal progress\s+0/2", sealedStatus.Out);

        // A share on stdin (a pipe), never on the command line.
        var first = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null, stdin: shares[0] + "\n"), "unseal");
        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Matches(@"Unseal progress\s+1/2", first.Out);
        Assert.Contains("still sealed", first.Out, StringComparison.Ordinal);
        Assert.True(node.Server.IsSealed);

        var second = await Cli.RunAsync(anonymous, "unseal", shares[2]);
        Assert.True(second.ExitCode == 0, second.ToString());
        Assert.Matches(@"Sealed\s+no", second.Out);
        Assert.Contains("Coffer is unsealed.", second.Out, StringComparison.Ordinal);
        Assert.False(node.Server.IsSealed);

        var seal = await Cli.RunAsync(withToken, "seal");
        Assert.True(seal.ExitCode == 0, seal.ToString());
        Assert.Matches(@"Sealed\s+yes", seal.Out);
        Assert.True(node.Server.IsSealed);

        var status = await Cli.RunAsync(withToken, "status", "--json");
        Assert.True(status.Json.GetProperty("sealed").GetBoolean());
        Assert.Equal(0, status.Json.GetProperty("keyStoreCount").GetInt32());

        // Nothing init printed may ever reach the server's log.
        foreach (var secret in shares.Append(rootToken))
        {
            Assert.DoesNotContain(secret, node.Logs.All, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task Init_table_output_prints_every_share_the_root_token_and_a_warning()
    {
        await using var node = await SealedNode.StartAsync();

        var init = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "init", "--shares", "2", "--threshold", "2");

        Assert.True(init.ExitCode == 0, init.ToString());
        Assert.Matches(@"Unseal share 1: coffer-share-v1-\S+", init.Out);
        Assert.Matches(@"Unseal share 2: coffer-share-v1-\S+", init.Out);
        Assert.Matches(@"Root token:\s+\S+", init.Out);
        Assert.Contains("WARNING", init.Out, StringComparison.Ordinal);
        Assert.Contains("store them apart", init.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_twice_fails_with_the_server_detail()
    {
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);
        Assert.Equal(0, (await Cli.RunAsync(env, "init", "--shares", "1", "--threshold", "1")).ExitCode);

        var again = await Cli.RunAsync(env, "init", "--shares", "1", "--threshold", "1");

        Assert.Equal(1, again.ExitCode);
        Assert.Contains("Coffer is already initialised.", again.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_with_threshold_above_shares_fails_with_the_server_detail()
    {
        await using var node = await SealedNode.StartAsync();

        var init = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "init", "--shares", "2", "--threshold", "3");

        Assert.Equal(1, init.ExitCode);
        Assert.Contains("threshold 1 to shares", init.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Init_without_threshold_is_a_usage_error()
    {
        var init = await Cli.RunAsync(Cli.Environment("http://127.0.0.1:1", null), "init", "--shares", "3");

        Assert.Equal(2, init.ExitCode);
        Assert.Contains("--threshold", init.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unseal_with_shares_of_another_installation_fails_and_stays_sealed()
    {
        await using var node = await SealedNode.StartAsync();
        await using var other = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);
        var mine = (await Cli.RunAsync(env, "init", "--shares", "3", "--threshold", "2", "--json")).Json.GetProperty("shares")[0].GetString()!;
        var foreign = (await Cli.RunAsync(Cli.Environment(other.AdminUrl, null), "init", "--shares", "3", "--threshold", "2", "--json"))
            .Json.GetProperty("shares")[1].GetString()!;

        Assert.Equal(0, (await Cli.RunAsync(env, "unseal", mine)).ExitCode);
        var wrong = await Cli.RunAsync(env, "unseal", foreign);

        Assert.Equal(1, wrong.ExitCode);
        Assert.Contains("could not be combined", wrong.Error, StringComparison.Ordinal);
        Assert.True(node.Server.IsSealed);
        var status = await Cli.RunAsync(env, "status", "--json");
        Assert.True(status.Json.GetProperty("sealed").GetBoolean());
        Assert.Equal(0, status.Json.GetProperty("progress").GetInt32());
    }

    [Fact]
    public async Task Unseal_reset_discards_the_shares_given_so_far()
    {
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null);
        var share = (await Cli.RunAsync(env, "init", "--shares", "3", "--threshold", "2", "--json")).Json.GetProperty("shares")[0].GetString()!;
        Assert.Equal(0, (await Cli.RunAsync(env, "unseal", share)).ExitCode);

        var reset = await Cli.RunAsync(env, "unseal", "--reset", "--json");

        Assert.Equal(0, reset.ExitCode);
        Assert.Equal(0, reset.Json.GetProperty("progress").GetInt32());
    }

    [Fact]
    public async Task Unseal_with_nothing_on_stdin_is_a_usage_error_and_sends_nothing()
    {
        await using var node = await SealedNode.StartAsync();
        var env = Cli.Environment(node.AdminUrl, null, stdin: "\n");
        Assert.Equal(0, (await Cli.RunAsync(env, "init", "--shares", "3", "--threshold", "2")).ExitCode);

        var unseal = await Cli.RunAsync(env, "unseal");

        // The Shamir seal still takes shares: the CLI asked which seal the node has, then stopped.
        Assert.Equal(2, unseal.ExitCode);
        Assert.Contains("no share given", unseal.Error, StringComparison.Ordinal);
        Assert.True(node.Server.IsSealed);
        Assert.Equal(0, (await Cli.RunAsync(env, "status", "--json")).Json.GetProperty("progress").GetInt32());
        using var http = new HttpClient();
        using var empty = await http.PostAsync(node.AdminUrl + "/api/v1/sys/unseal", new StringContent("{}", System.Text.Encoding.UTF8, "application/json"));
        Assert.Equal(System.Net.HttpStatusCode.BadRequest, empty.StatusCode);
        Assert.Contains("share is required", await empty.Content.ReadAsStringAsync(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unseal_of_a_dev_node_reports_that_the_dev_seal_takes_no_shares()
    {
        await using var node = await Coffer.Testing.DevServer.StartAsync();

        var unseal = await Cli.RunAsync(node, "unseal", "coffer-share-v1-AAAA");

        Assert.Equal(1, unseal.ExitCode);
        Assert.Contains("'dev' seal", unseal.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Seal_without_a_token_says_how_to_give_one()
    {
        await using var node = await SealedNode.StartAsync();

        var seal = await Cli.RunAsync(Cli.Environment(node.AdminUrl, null), "seal");

        Assert.Equal(1, seal.ExitCode);
        Assert.Contains("COFFER_TOKEN", seal.Error, StringComparison.Ordinal);
    }
}
