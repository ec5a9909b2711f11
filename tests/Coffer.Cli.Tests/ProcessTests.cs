using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>The built executable, run as users run it: <c>dotnet coffer.dll</c> with COFFER_ADDR/COFFER_TOKEN.</summary>
public sealed class ProcessTests
{
    private static Dictionary<string, string> Settings(DevServer node) => new()
    {
        ["COFFER_ADDR"] = node.Info.AdminUrl,
        ["COFFER_TOKEN"] = node.Info.AdminToken,
    };

    [Fact]
    public async Task Process_key_list_json_reads_settings_from_the_environment()
    {
        await using var node = await DevServer.StartAsync();

        var list = await Cli.RunProcessAsync(Settings(node), null, "key", "list", "--json");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Equal("demo-key", list.Json.GetProperty("keys")[0].GetProperty("name").GetString());
    }

    [Fact]
    public async Task Process_keystore_create_and_show_print_tables()
    {
        await using var node = await DevServer.StartAsync();

        var create = await Cli.RunProcessAsync(Settings(node), null, "keystore", "create", "proc", "--prefix", "/proc");
        var show = await Cli.RunProcessAsync(Settings(node), null, "keystore", "show", "proc");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Matches(@"XKS proxy URI path\s+/proc/kms/xks/v1", show.Out);
    }

    [Fact]
    public async Task Process_unknown_key_exits_1_with_the_problem_detail_on_stderr()
    {
        await using var node = await DevServer.StartAsync();

        var show = await Cli.RunProcessAsync(Settings(node), null, "key", "show", "key_missing");

        Assert.Equal(1, show.ExitCode);
        Assert.Contains("No key with id 'key_missing' exists.", show.Error, StringComparison.Ordinal);
        Assert.Empty(show.Out);
    }

    [Fact]
    public async Task Process_bad_usage_value_exits_2()
    {
        var create = await Cli.RunProcessAsync(new Dictionary<string, string>(), null, "key", "create", "demo", "--usage", "WRAP");

        Assert.Equal(2, create.ExitCode);
        Assert.Contains("--usage", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_time_without_an_offset_is_UTC_on_a_machine_in_another_zone_and_a_malformed_one_says_the_form()
    {
        await using var node = await DevServer.StartAsync();
        var tokyo = new Dictionary<string, string>(Settings(node)) { ["TZ"] = "Asia/Tokyo" };

        var report = await Cli.RunProcessAsync(tokyo, null, "audit", "report", "--from", "2026-01-31T10:00", "--to", "2026-02-01");
        var malformed = await Cli.RunProcessAsync(tokyo, null, "audit", "list", "--from", "last tuesday");

        Assert.True(report.ExitCode == 0, report.ToString());
        Assert.Contains("Period: 2026-01-31 10:00:00 to 2026-02-01 00:00:00 (UTC)", report.Out, StringComparison.Ordinal);
        Assert.Equal(2, malformed.ExitCode);
        Assert.Contains("--from takes a time in ISO 8601", malformed.Error, StringComparison.Ordinal);
        Assert.Contains("not 'last tuesday'", malformed.Error, StringComparison.Ordinal);
        Assert.DoesNotContain("System.", malformed.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Process_unseal_reads_the_share_from_piped_stdin()
    {
        await using var node = await SealedNode.StartAsync();
        var settings = new Dictionary<string, string> { ["COFFER_ADDR"] = node.AdminUrl };
        var init = await Cli.RunProcessAsync(settings, null, "init", "--shares", "1", "--threshold", "1", "--json");
        var share = init.Json.GetProperty("shares")[0].GetString()!;

        var unseal = await Cli.RunProcessAsync(settings, share + "\n", "unseal");

        Assert.True(unseal.ExitCode == 0, unseal.ToString());
        Assert.Contains("Coffer is unsealed.", unseal.Out, StringComparison.Ordinal);
        Assert.False(node.Server.IsSealed);
    }
}
