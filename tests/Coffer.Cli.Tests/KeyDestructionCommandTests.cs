using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer key rotate-many</c>, <c>schedule-destruction</c> and <c>cancel-destruction</c>
/// against a dev node (key store <c>demo</c>, key <c>demo-key</c> tagged purpose=demo).</summary>
public sealed class KeyDestructionCommandTests
{
    [Fact]
    public async Task Rotate_many_dry_run_lists_the_matching_keys_and_changes_nothing_then_the_real_run_rotates_them()
    {
        await using var node = await DevServer.StartAsync();
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", "demo", "--name", "other-key", "--tag", "purpose=other")).ExitCode);

        var dryRun = await Cli.RunAsync(node, "key", "rotate-many", "--keystore", "demo", "--tag", "purpose=demo", "--dry-run");

        Assert.True(dryRun.ExitCode == 0, dryRun.ToString());
        Assert.Matches(@"\n\s*\S+\s+demo-key\s+\S+\s+1\s+2\s+would-rotate\s", dryRun.Out);
        Assert.DoesNotContain("other-key", dryRun.Out, StringComparison.Ordinal);
        Assert.Contains("Dry run: 1 of 1 matching keys would rotate; nothing changed.", dryRun.Out, StringComparison.Ordinal);
        Assert.Matches(@"Current version\s+1\r?\n", (await Cli.RunAsync(node, "key", "show", "demo-key")).Out);

        var real = await Cli.RunAsync(node, "key", "rotate-many", "--keystore", "demo", "--tag", "purpose=demo", "--json");

        Assert.True(real.ExitCode == 0, real.ToString());
        Assert.Equal(1, real.Json.GetProperty("rotated").GetInt32());
        Assert.Equal("rotated", real.Json.GetProperty("keys")[0].GetProperty("outcome").GetString());
        Assert.Matches(@"Current version\s+2\r?\n", (await Cli.RunAsync(node, "key", "show", "demo-key")).Out);
        Assert.Matches(@"Current version\s+1\r?\n", (await Cli.RunAsync(node, "key", "show", "other-key")).Out);
    }

    [Fact]
    public async Task Rotate_many_without_a_filter_is_refused_with_the_reason()
    {
        await using var node = await DevServer.StartAsync();

        var refused = await Cli.RunAsync(node, "key", "rotate-many", "--dry-run");

        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("Say which keys to rotate", refused.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_schedule_destruction_shows_the_date_and_cancel_destruction_restores_the_key()
    {
        await using var node = await DevServer.StartAsync();

        var schedule = await Cli.RunAsync(node, "key", "schedule-destruction", "demo-key", "--waiting-days", "7");

        Assert.True(schedule.ExitCode == 0, schedule.ToString());
        Assert.Matches(@"Status\s+pending-destruction\r?\n", schedule.Out);
        Assert.Contains("coffer key cancel-destruction until then", schedule.Out, StringComparison.Ordinal);
        var twice = await Cli.RunAsync(node, "key", "schedule-destruction", "demo-key");
        Assert.Equal(1, twice.ExitCode);
        Assert.Contains("already scheduled", twice.Error, StringComparison.Ordinal);

        var cancel = await Cli.RunAsync(node, "key", "cancel-destruction", "demo-key");

        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Matches(@"Status\s+enabled\r?\n", cancel.Out);
        var badWait = await Cli.RunAsync(node, "key", "schedule-destruction", "demo-key", "--waiting-days", "31");
        Assert.Equal(2, badWait.ExitCode);
        Assert.Contains("--waiting-days takes a whole number from 7 to 30", badWait.Error, StringComparison.Ordinal);
    }
}
