using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer key rotate</c> and <c>coffer key version ...</c> against a dev node the class
/// shares: each test rotates and changes a key of its own.</summary>
public sealed class KeyLifecycleCommandTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    /// <summary>A new key in the demo key store, named for the test that uses it.</summary>
    private async Task<string> NewKeyAsync(string name)
    {
        var created = await Cli.RunAsync(Node, "key", "create", "demo", "--name", name);
        Assert.True(created.ExitCode == 0, created.ToString());
        return name;
    }

    [Fact]
    public async Task Key_rotate_makes_version_2_current_and_version_list_shows_both_with_their_use()
    {
        var key = await NewKeyAsync("rotated");

        var rotate = await Cli.RunAsync(Node, "key", "rotate", key);

        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        Assert.Matches(@"Current version\s+2\r?\n", rotate.Out);
        var list = await Cli.RunAsync(Node, "key", "version", "list", key);
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Matches(@"\n\s*1\s+Deactivated\s+decrypt\s+software\s", list.Out);
        Assert.Matches(@"\n\s*2 \(current\)\s+Active\s+encrypt, decrypt\s+software\s", list.Out);

        var json = await Cli.RunAsync(Node, "key", "version", "list", key, "--json");
        Assert.True(json.ExitCode == 0, json.ToString());
        var versions = json.Json.EnumerateArray().ToList();
        Assert.Equal([1, 2], versions.Select(v => v.GetProperty("version").GetInt32()));
        Assert.Equal(["Deactivated", "Active"], versions.Select(v => v.GetProperty("state").GetString()));
        Assert.Equal(versions[0].GetProperty("stateChangedBy").GetString(), versions[1].GetProperty("stateChangedBy").GetString());
    }

    [Fact]
    public async Task Key_rotate_and_key_create_with_activates_at_make_a_PreActive_version_that_version_activate_starts()
    {
        var key = await NewKeyAsync("activated");
        var later = DateTimeOffset.UtcNow.AddDays(1).ToString("yyyy-MM-dd'T'HH:mm:ss'Z'", System.Globalization.CultureInfo.InvariantCulture);

        var rotate = await Cli.RunAsync(Node, "key", "rotate", key, "--activates-at", later, "--json");
        var created = await Cli.RunAsync(Node, "key", "create", "demo", "--name", "later-key", "--activates-at", later, "--json");

        Assert.True(rotate.ExitCode == 0, rotate.ToString());
        var versions = rotate.Json.GetProperty("versions").EnumerateArray().ToList();
        Assert.Equal(["Active", "PreActive"], versions.Select(v => v.GetProperty("state").GetString()));
        Assert.Equal([true, false], versions.Select(v => v.GetProperty("encrypts").GetBoolean()));
        Assert.True(created.ExitCode == 0, created.ToString());
        Assert.Equal("PreActive", created.Json.GetProperty("versions")[0].GetProperty("state").GetString());
        var activate = await Cli.RunAsync(Node, "key", "version", "activate", key, "2", "--json");
        Assert.True(activate.ExitCode == 0, activate.ToString());
        Assert.Equal(["Deactivated", "Active"], activate.Json.GetProperty("versions").EnumerateArray().Select(v => v.GetProperty("state").GetString()));
    }

    [Fact]
    public async Task Key_rotate_with_a_stale_expected_version_fails_with_the_conflict()
    {
        var key = await NewKeyAsync("stale");
        Assert.Equal(0, (await Cli.RunAsync(Node, "key", "rotate", key, "--expect-version", "1")).ExitCode);

        var stale = await Cli.RunAsync(Node, "key", "rotate", key, "--expect-version", "1");

        Assert.Equal(1, stale.ExitCode);
        Assert.Contains("current version is 2", stale.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_version_transitions_print_the_key_and_an_illegal_one_prints_the_reason()
    {
        var key = await NewKeyAsync("transitions");
        await Cli.RunAsync(Node, "key", "rotate", key);

        var schedule = await Cli.RunAsync(Node, "key", "version", "schedule-destruction", key, "1", "--waiting-days", "7", "--json");
        Assert.True(schedule.ExitCode == 0, schedule.ToString());
        var version1 = schedule.Json.GetProperty("versions").EnumerateArray().First(v => v.GetProperty("version").GetInt32() == 1);
        Assert.Equal(JsonValueKindString, version1.GetProperty("destroysAt").ValueKind);
        Assert.False(version1.GetProperty("decrypts").GetBoolean());

        var refused = await Cli.RunAsync(Node, "key", "version", "compromise", key, "1");
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("scheduled for destruction; cancel that first", refused.Error, StringComparison.Ordinal);

        var cancel = await Cli.RunAsync(Node, "key", "version", "cancel-destruction", key, "1");
        Assert.True(cancel.ExitCode == 0, cancel.ToString());
        Assert.Matches(@"\n\s*1\s+Deactivated\s+decrypt\s", cancel.Out);

        var badWait = await Cli.RunAsync(Node, "key", "version", "schedule-destruction", key, "1", "--waiting-days", "3");
        Assert.Equal(2, badWait.ExitCode);
        Assert.Contains("--waiting-days takes a whole number from 7 to 30", badWait.Error, StringComparison.Ordinal);
    }

    private const System.Text.Json.JsonValueKind JsonValueKindString = System.Text.Json.JsonValueKind.String;
}
