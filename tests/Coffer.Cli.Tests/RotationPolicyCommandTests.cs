using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer key|keystore rotation-policy ...</c> and <c>coffer key version dates</c> against a
/// dev node (key store <c>demo</c>, key <c>demo-key</c>).</summary>
public sealed class RotationPolicyCommandTests
{
    [Fact]
    public async Task Key_rotation_policy_set_show_and_clear()
    {
        await using var node = await DevServer.StartAsync();

        var set = await Cli.RunAsync(node, "key", "rotation-policy", "set", "demo-key", "--interval-days", "30", "--before-expiry-days", "7");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Matches(@"Policy\s+every 30 days, 7 days before expiry\r?\n", set.Out);
        Assert.Matches(@"Set on\s+key key_", set.Out);

        var json = await Cli.RunAsync(node, "key", "rotation-policy", "show", "demo-key", "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        Assert.Equal(30, json.Json.GetProperty("intervalDays").GetInt32());
        Assert.Equal(json.Json.GetProperty("updatedAt").GetDateTimeOffset().AddDays(30), json.Json.GetProperty("nextRotationAt").GetDateTimeOffset());

        var clear = await Cli.RunAsync(node, "key", "rotation-policy", "clear", "demo-key");
        Assert.True(clear.ExitCode == 0, clear.ToString());
        var none = await Cli.RunAsync(node, "key", "rotation-policy", "show", "demo-key");
        Assert.Equal(1, none.ExitCode);
        Assert.Contains("has no rotation policy", none.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_key_store_policy_applies_to_its_keys_and_a_bad_one_prints_the_reason()
    {
        await using var node = await DevServer.StartAsync();

        var set = await Cli.RunAsync(node, "keystore", "rotation-policy", "set", "demo", "--time", "02:30", "--day", "Sunday");
        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Matches(@"Policy\s+on Sunday at 02:30 UTC", set.Out);
        var inherited = await Cli.RunAsync(node, "key", "rotation-policy", "show", "demo-key");
        Assert.True(inherited.ExitCode == 0, inherited.ToString());
        Assert.Matches(@"Set on\s+key store ks_", inherited.Out);

        var bad = await Cli.RunAsync(node, "keystore", "rotation-policy", "set", "demo", "--interval-days", "0");
        Assert.Equal(1, bad.ExitCode);
        Assert.Contains("intervalDays is 1", bad.Error, StringComparison.Ordinal);
        var both = await Cli.RunAsync(node, "key", "rotation-policy", "set", "demo-key", "--interval-days", "3", "--time", "01:00");
        Assert.Equal(1, both.ExitCode);
        Assert.Contains("not both", both.Error, StringComparison.Ordinal);
        Assert.Matches(@"Policy\s+on Sunday at 02:30 UTC", (await Cli.RunAsync(node, "keystore", "rotation-policy", "show", "demo")).Out);
    }

    [Fact]
    public async Task Key_version_dates_sets_an_expiry_the_versions_table_shows_and_refuses_a_past_one()
    {
        await using var node = await DevServer.StartAsync();

        var dates = await Cli.RunAsync(node, "key", "version", "dates", "demo-key", "1", "--deactivates-at", "2099-01-02T03:04:00Z", "--json");
        Assert.True(dates.ExitCode == 0, dates.ToString());
        var version = dates.Json.GetProperty("versions")[0];
        Assert.Equal(new DateTimeOffset(2099, 1, 2, 3, 4, 0, TimeSpan.Zero), version.GetProperty("deactivatesAt").GetDateTimeOffset());
        var list = await Cli.RunAsync(node, "key", "version", "list", "demo-key");
        Assert.Contains("2099-01-02", list.Out, StringComparison.Ordinal);

        var past = await Cli.RunAsync(node, "key", "version", "dates", "demo-key", "1", "--deactivates-at", "2001-01-01T00:00:00Z");
        Assert.Equal(1, past.ExitCode);
        Assert.Contains("in the future", past.Error, StringComparison.Ordinal);

        var cleared = await Cli.RunAsync(node, "key", "version", "dates", "demo-key", "1", "--json");
        Assert.True(cleared.ExitCode == 0, cleared.ToString());
        Assert.False(cleared.Json.GetProperty("versions")[0].TryGetProperty("deactivatesAt", out var expiry) && expiry.ValueKind != System.Text.Json.JsonValueKind.Null);
    }
}
