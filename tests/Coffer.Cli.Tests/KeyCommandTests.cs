using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer key ...</c> against a dev node (key store <c>demo</c>, key <c>demo-key</c>) that
/// the class shares: a test that changes or lists keys does so in a key store of its own.</summary>
public sealed class KeyCommandTests(SharedNode shared) : IClassFixture<SharedNode>
{
    [Fact]
    public async Task Key_create_with_encrypt_usage_shows_ENCRYPT_only()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--name", "orders", "--usage", "ENCRYPT");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Matches(@"Usage\s+ENCRYPT\r?\n", create.Out);
        Assert.Matches(@"Name \(externalKeyId\)\s+orders", create.Out);
    }

    [Fact]
    public async Task Key_create_defaults_to_encrypt_and_decrypt_with_tags_and_description()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--name", "billing", "--description", "Billing data",
            "--tag", "team=payments", "--tag", "env=prod", "--json");

        Assert.True(create.ExitCode == 0, create.ToString());
        var key = create.Json;
        Assert.Equal("billing", key.GetProperty("name").GetString());
        Assert.Equal("Billing data", key.GetProperty("description").GetString());
        Assert.Equal(["ENCRYPT", "DECRYPT"], key.GetProperty("usage").EnumerateArray().Select(u => u.GetString()));
        Assert.Equal("payments", key.GetProperty("tags").GetProperty("team").GetString());
        Assert.Equal("prod", key.GetProperty("tags").GetProperty("env").GetString());
        Assert.Equal(1, key.GetProperty("currentVersion").GetInt32());
    }

    [Fact]
    public async Task Key_create_with_usage_NONE_shows_NONE()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--usage", "NONE");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Matches(@"Usage\s+NONE", create.Out);
    }

    [Fact]
    public async Task Key_create_with_bad_usage_is_a_usage_error()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--usage", "SIGN");

        Assert.Equal(2, create.ExitCode);
        Assert.Contains("--usage takes ENCRYPT,DECRYPT", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_create_with_a_tag_without_value_is_a_usage_error()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--tag", "team");

        Assert.Equal(2, create.ExitCode);
        Assert.Contains("--tag takes key=value", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_create_in_unknown_keystore_shows_the_problem_detail()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "nowhere");

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("No key store with id 'nowhere' exists.", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_create_with_an_invalid_name_shows_the_problem_detail()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "key", "create", "demo", "--name", "bad name");

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("externalKeyId", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_show_lists_the_versions_and_accepts_the_key_name()
    {
        var node = shared.Node;

        var show = await Cli.RunAsync(node, "key", "show", node.Info.KeyId);

        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Matches(@"Name \(externalKeyId\)\s+demo-key", show.Out);
        Assert.Matches(@"Tags\s+purpose=demo", show.Out);
        Assert.Contains("VERSION", show.Out, StringComparison.Ordinal);
        Assert.Matches(@"1 \(current\)\s+Active\s+encrypt, decrypt\s+software", show.Out);
    }

    [Fact]
    public async Task Key_show_json_has_the_versions()
    {
        var node = shared.Node;
        var id = (await Cli.RunAsync(node, "key", "list", "--keystore", "demo", "--json")).Json.GetProperty("keys").EnumerateArray()
            .Single(k => k.GetProperty("name").GetString() == "demo-key").GetProperty("id").GetString()!;

        var show = await Cli.RunAsync(node, "key", "show", id, "--json");

        Assert.Equal(id, show.Json.GetProperty("id").GetString());
        var version = Assert.Single(show.Json.GetProperty("versions").EnumerateArray());
        Assert.Equal("Active", version.GetProperty("state").GetString());
    }

    [Fact]
    public async Task Key_show_unknown_id_exits_1_with_the_problem_detail()
    {
        var node = shared.Node;

        var show = await Cli.RunAsync(node, "key", "show", "key_doesnotexist");

        Assert.Equal(1, show.ExitCode);
        Assert.Contains("No key with id 'key_doesnotexist' exists.", show.Error, StringComparison.Ordinal);
        Assert.Empty(show.Out);
    }

    [Fact]
    public async Task Key_disable_then_enable_switches_the_status()
    {
        var node = shared.Node;

        var store = await KeyStoreAsync(node, "toggled");
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", store, "--name", "toggled-key")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", store, "--name", "untouched")).ExitCode);

        var disable = await Cli.RunAsync(node, "key", "disable", "toggled-key");
        var listed = await Cli.RunAsync(node, "key", "list", "--keystore", store, "--enabled", "false", "--json");
        var enable = await Cli.RunAsync(node, "key", "enable", "toggled-key", "--json");

        Assert.True(disable.ExitCode == 0, disable.ToString());
        Assert.Matches(@"Status\s+disabled", disable.Out);
        Assert.Equal("toggled-key", Assert.Single(listed.Json.GetProperty("keys").EnumerateArray()).GetProperty("name").GetString());
        Assert.Equal("enabled", enable.Json.GetProperty("status").GetString());
    }

    [Fact]
    public async Task Key_enable_unknown_id_exits_1_with_the_problem_detail()
    {
        var node = shared.Node;

        var enable = await Cli.RunAsync(node, "key", "enable", "key_nope");

        Assert.Equal(1, enable.ExitCode);
        Assert.Contains("No key with id 'key_nope' exists.", enable.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_list_filters_by_text_tag_keystore_and_enabled()
    {
        // A node of its own: the unfiltered and tag-filtered lists span every key store.
        await using var node = await DevServer.StartAsync();
        var other = (await Cli.RunAsync(node, "keystore", "create", "other", "--prefix", "/other", "--json")).Json.GetProperty("id").GetString()!;
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", "other", "--name", "invoices", "--tag", "team=finance")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", "demo", "--name", "reports", "--tag", "team=bi")).ExitCode);

        async Task<string[]> Names(params string[] filter) =>
            [.. (await Cli.RunAsync(node, ["key", "list", "--json", .. filter])).Json.GetProperty("keys").EnumerateArray().Select(k => k.GetProperty("name").GetString()!).Order()];

        Assert.Equal(["demo-key", "invoices", "reports"], await Names());
        Assert.Equal(["invoices"], await Names("--filter", "voice"));
        Assert.Equal(["invoices", "reports"], await Names("--tag", "team"));
        Assert.Equal(["reports"], await Names("--tag", "team=bi"));
        Assert.Equal(["invoices"], await Names("--keystore", other));
        Assert.Equal(["demo-key", "reports"], await Names("--keystore", "demo"));
        Assert.Equal(["demo-key", "invoices", "reports"], await Names("--enabled", "true"));
        Assert.Empty(await Names("--enabled", "false"));
    }

    [Fact]
    public async Task Key_list_table_pages_with_a_printed_cursor()
    {
        var node = shared.Node;
        var store = await KeyStoreAsync(node, "paged");
        foreach (var name in new[] { "paged-a", "k0", "k1" })
        {
            Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", store, "--name", name)).ExitCode);
        }

        var first = await Cli.RunAsync(node, "key", "list", "--keystore", store, "--limit", "2");
        var cursor = System.Text.RegularExpressions.Regex.Match(first.Out, @"--after (\S+)").Groups[1].Value;
        var second = await Cli.RunAsync(node, "key", "list", "--keystore", store, "--limit", "2", "--after", cursor);

        Assert.True(first.ExitCode == 0, first.ToString());
        Assert.Contains("NAME", first.Out, StringComparison.Ordinal);
        Assert.NotEmpty(cursor);
        Assert.DoesNotContain("--after", second.Out, StringComparison.Ordinal);
        var seen = new[] { "paged-a", "k0", "k1" }.Count(n => first.Out.Contains(n, StringComparison.Ordinal) || second.Out.Contains(n, StringComparison.Ordinal));
        Assert.Equal(3, seen);
    }

    [Fact]
    public async Task Key_list_all_follows_every_cursor()
    {
        var node = shared.Node;
        var store = await KeyStoreAsync(node, "listed");
        for (var i = 0; i < 5; i++)
        {
            Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", store, "--name", $"k{i}")).ExitCode);
        }

        var page = await Cli.RunAsync(node, "key", "list", "--keystore", store, "--limit", "2", "--json");
        var all = await Cli.RunAsync(node, "key", "list", "--keystore", store, "--limit", "2", "--all", "--json");

        Assert.Equal(2, page.Json.GetProperty("keys").GetArrayLength());
        Assert.NotNull(page.Json.GetProperty("next").GetString());
        Assert.Equal(5, all.Json.GetProperty("keys").GetArrayLength());
        Assert.False(all.Json.TryGetProperty("next", out _));
    }

    [Fact]
    public async Task Key_list_with_limit_out_of_range_is_a_usage_error()
    {
        var node = shared.Node;

        var list = await Cli.RunAsync(node, "key", "list", "--limit", "0");

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("--limit takes a whole number from 1 to 1000", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Key_list_with_enabled_not_a_boolean_is_a_usage_error()
    {
        var node = shared.Node;

        var list = await Cli.RunAsync(node, "key", "list", "--enabled", "maybe");

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("maybe", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_number_option_or_argument_that_is_not_a_whole_number_names_itself_and_the_text()
    {
        // Refused while parsing: no server is asked.
        var env = Cli.Environment("http://127.0.0.1:9", "unused");

        var limit = await Cli.RunAsync(env, "key", "list", "--limit", "many");
        var version = await Cli.RunAsync(env, "key", "version", "activate", "demo-key", "v2");
        var before = await Cli.RunAsync(env, "audit", "list", "--before", "99999999999999999999");

        Assert.Equal(2, limit.ExitCode);
        Assert.Contains("--limit takes a whole number from 1 to 1000, not 'many'.", limit.Error, StringComparison.Ordinal);
        Assert.Equal(2, version.ExitCode);
        Assert.Contains("<version> takes a whole number from -2147483648 to 2147483647, not 'v2'.", version.Error, StringComparison.Ordinal);
        Assert.Equal(2, before.ExitCode);
        Assert.Contains("--before takes a whole number from -9223372036854775808 to 9223372036854775807, not '99999999999999999999'.", before.Error, StringComparison.Ordinal);
        Assert.All([limit, version, before], result => Assert.DoesNotContain("System.", result.Error, StringComparison.Ordinal));
    }

    /// <summary>A new key store named <paramref name="name"/> (served at <c>/name</c>); returns its id.</summary>
    private static async Task<string> KeyStoreAsync(DevServer node, string name)
    {
        var create = await Cli.RunAsync(node, "keystore", "create", name, "--prefix", "/" + name, "--json");
        Assert.True(create.ExitCode == 0, create.ToString());
        return create.Json.GetProperty("id").GetString()!;
    }
}
