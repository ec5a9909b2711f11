using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer keystore ...</c> and <c>coffer keystore credential ...</c> against a dev node the
/// class shares: a test that counts key stores, keys or credentials counts its own.</summary>
public sealed class KeyStoreCommandTests(SharedNode shared) : IClassFixture<SharedNode>
{
    [Fact]
    public async Task Keystore_create_shows_the_store_and_its_xks_path()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "keystore", "create", "tenant-a", "--prefix", "/tenant-a");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Matches(@"Name\s+tenant-a", create.Out);
        Assert.Matches(@"XKS proxy URI path\s+/tenant-a/kms/xks/v1", create.Out);
        Assert.Matches(@"ID\s+ks_\S+", create.Out);
    }

    [Fact]
    public async Task Keystore_create_with_empty_prefix_serves_at_the_root()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "keystore", "create", "root-store", "--prefix", "", "--json");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.Equal("", create.Json.GetProperty("uriPrefix").GetString());
        Assert.Equal("/kms/xks/v1", create.Json.GetProperty("xksProxyUriPath").GetString());
    }

    [Fact]
    public async Task Keystore_create_without_prefix_is_a_usage_error()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "keystore", "create", "tenant-a");

        Assert.Equal(2, create.ExitCode);
        Assert.Contains("--prefix", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keystore_create_with_invalid_name_shows_the_server_detail()
    {
        var node = shared.Node;

        var create = await Cli.RunAsync(node, "keystore", "create", "no spaces", "--prefix", "/x");

        Assert.Equal(1, create.ExitCode);
        Assert.Contains("name is required: 1 to 64 letters", create.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Keystore_list_shows_every_store_as_table_and_json()
    {
        var node = shared.Node;
        var before = Names((await Cli.RunAsync(node, "keystore", "list", "--json")).Json);
        Assert.Equal(0, (await Cli.RunAsync(node, "keystore", "create", "tenant-b", "--prefix", "/tenant-b")).ExitCode);

        var table = await Cli.RunAsync(node, "keystore", "list");
        var json = await Cli.RunAsync(node, "keystore", "list", "--json");

        Assert.Equal(0, table.ExitCode);
        Assert.Contains("XKS PROXY URI PATH", table.Out, StringComparison.Ordinal);
        Assert.Contains("/demo/kms/xks/v1", table.Out, StringComparison.Ordinal);
        Assert.Contains("tenant-b", table.Out, StringComparison.Ordinal);
        Assert.Contains("demo", before);
        Assert.Equal(before.Append("tenant-b").Order(), Names(json.Json).Order());
    }

    [Fact]
    public async Task Keystore_show_takes_an_id_or_a_name()
    {
        var node = shared.Node;
        Assert.Equal(0, (await Cli.RunAsync(node, "keystore", "create", "shown", "--prefix", "/shown")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(node, "key", "create", "shown", "--name", "shown-key")).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(node, "keystore", "credential", "add", "shown")).ExitCode);
        var id = (await Cli.RunAsync(node, "keystore", "list", "--json")).Json.EnumerateArray()
            .Single(s => s.GetProperty("name").GetString() == "shown").GetProperty("id").GetString()!;

        var byId = await Cli.RunAsync(node, "keystore", "show", id, "--json");
        var byName = await Cli.RunAsync(node, "keystore", "show", "shown");

        Assert.Equal("shown", byId.Json.GetProperty("name").GetString());
        Assert.Equal(1, byId.Json.GetProperty("keyCount").GetInt32());
        Assert.Matches($@"ID\s+{id}", byName.Out);
        Assert.Matches(@"Live credentials\s+1", byName.Out);
    }

    [Fact]
    public async Task Keystore_show_unknown_id_exits_1_with_the_problem_detail()
    {
        var node = shared.Node;

        var show = await Cli.RunAsync(node, "keystore", "show", "ks_missing");

        Assert.Equal(1, show.ExitCode);
        Assert.Contains("No key store with id 'ks_missing' exists.", show.Error, StringComparison.Ordinal);
        Assert.Empty(show.Out);
    }

    [Fact]
    public async Task Keystore_delete_removes_an_empty_store_and_refuses_one_with_keys()
    {
        var node = shared.Node;
        var id = (await Cli.RunAsync(node, "keystore", "create", "empty", "--prefix", "/empty", "--json")).Json.GetProperty("id").GetString()!;
        var before = Names((await Cli.RunAsync(node, "keystore", "list", "--json")).Json);

        var deleted = await Cli.RunAsync(node, "keystore", "delete", id);
        var refused = await Cli.RunAsync(node, "keystore", "delete", "demo");

        Assert.True(deleted.ExitCode == 0, deleted.ToString());
        Assert.Contains($"Deleted key store {id}", deleted.Out, StringComparison.Ordinal);
        Assert.Equal(1, refused.ExitCode);
        Assert.Contains("still has keys", refused.Error, StringComparison.Ordinal);
        Assert.Equal(before.Where(n => n != "empty").Order(), Names((await Cli.RunAsync(node, "keystore", "list", "--json")).Json).Order());
    }

    [Fact]
    public async Task Credential_add_prints_the_secret_once_and_list_never_does()
    {
        var node = shared.Node;
        Assert.Equal(0, (await Cli.RunAsync(node, "keystore", "create", "listed", "--prefix", "/listed")).ExitCode);
        var earlier = (await Cli.RunAsync(node, "keystore", "credential", "add", "listed", "--json")).Json.GetProperty("accessKeyId").GetString()!;

        var add = await Cli.RunAsync(node, "keystore", "credential", "add", "listed", "--json");
        var secret = add.Json.GetProperty("secretAccessKey").GetString()!;
        var accessKeyId = add.Json.GetProperty("accessKeyId").GetString()!;
        var table = await Cli.RunAsync(node, "keystore", "credential", "list", "listed");
        var json = await Cli.RunAsync(node, "keystore", "credential", "list", "listed", "--json");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Contains("shown only now", add.Error, StringComparison.Ordinal);
        Assert.Contains(accessKeyId, table.Out, StringComparison.Ordinal);
        Assert.Contains(earlier, table.Out, StringComparison.Ordinal);
        Assert.DoesNotContain(secret, table.Out + json.Out, StringComparison.Ordinal);
        Assert.Equal(2, json.Json.GetArrayLength());
        Assert.DoesNotContain(secret, node.Logs.All, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credential_add_table_shows_access_key_and_secret()
    {
        var node = shared.Node;

        var add = await Cli.RunAsync(node, "keystore", "credential", "add", "demo");

        Assert.True(add.ExitCode == 0, add.ToString());
        Assert.Matches(@"Access key ID\s+\S+", add.Out);
        Assert.Matches(@"Secret access key\s+\S+", add.Out);
        Assert.Contains("WARNING", add.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Credential_revoke_marks_it_revoked_and_a_second_revoke_fails()
    {
        var node = shared.Node;
        var id = (await Cli.RunAsync(node, "keystore", "credential", "add", "demo", "--json")).Json.GetProperty("id").GetString()!;

        var revoke = await Cli.RunAsync(node, "keystore", "credential", "revoke", "demo", id);
        var again = await Cli.RunAsync(node, "keystore", "credential", "revoke", "demo", id);
        var list = await Cli.RunAsync(node, "keystore", "credential", "list", "demo", "--json");

        Assert.True(revoke.ExitCode == 0, revoke.ToString());
        Assert.Contains($"Revoked credential {id}", revoke.Out, StringComparison.Ordinal);
        Assert.Equal(1, again.ExitCode);
        Assert.Contains("has no live credential", again.Error, StringComparison.Ordinal);
        Assert.Equal("revoked", list.Json.EnumerateArray().Single(c => c.GetProperty("id").GetString() == id).GetProperty("status").GetString());
    }

    [Fact]
    public async Task Export_config_prints_the_aws_console_file()
    {
        var node = shared.Node;
        var credential = await DevCredentialAsync(node);

        var export = await Cli.RunAsync(node, "keystore", "export-config", "demo", credential);

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.Equal("/demo/kms/xks/v1", export.Json.GetProperty("XksProxyUriPath").GetString());
        var auth = export.Json.GetProperty("XksProxyAuthenticationCredential");
        Assert.Equal(node.Info.AccessKeyId, auth.GetProperty("AccessKeyId").GetString());
        Assert.Equal(node.Info.SecretAccessKey, auth.GetProperty("RawSecretAccessKey").GetString());
    }

    [Fact]
    [System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
    public async Task Export_config_to_a_file_writes_it_readable_by_the_owner_only()
    {
        var node = shared.Node;
        var credential = await DevCredentialAsync(node);
        var env = Cli.Environment(node.Info.AdminUrl, node.Info.AdminToken, workingDirectory: Cli.EmptyDirectory());
        var path = Path.Combine(env.WorkingDirectory, "xks.json");
        await File.WriteAllTextAsync(path, "old");
        File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead);

        var export = await Cli.RunAsync(env, "keystore", "export-config", "demo", credential, "--output", "xks.json");

        Assert.True(export.ExitCode == 0, export.ToString());
        Assert.DoesNotContain(node.Info.SecretAccessKey, export.Out, StringComparison.Ordinal);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(path));
        using var file = System.Text.Json.JsonDocument.Parse(await File.ReadAllTextAsync(path));
        Assert.Equal("/demo/kms/xks/v1", file.RootElement.GetProperty("XksProxyUriPath").GetString());
        Assert.Equal(node.Info.SecretAccessKey, file.RootElement.GetProperty("XksProxyAuthenticationCredential").GetProperty("RawSecretAccessKey").GetString());
        Assert.Single(Directory.GetFiles(env.WorkingDirectory));
        Directory.Delete(env.WorkingDirectory, recursive: true);
    }

    [Fact]
    public async Task Export_config_of_a_revoked_credential_fails_with_the_problem_detail()
    {
        var node = shared.Node;
        var id = (await Cli.RunAsync(node, "keystore", "credential", "add", "demo", "--json")).Json.GetProperty("id").GetString()!;
        Assert.Equal(0, (await Cli.RunAsync(node, "keystore", "credential", "revoke", "demo", id)).ExitCode);

        var export = await Cli.RunAsync(node, "keystore", "export-config", "demo", id);

        Assert.Equal(1, export.ExitCode);
        Assert.Contains($"no live credential with id '{id}'", export.Error, StringComparison.Ordinal);
    }

    private static List<string> Names(System.Text.Json.JsonElement stores) =>
        [.. stores.EnumerateArray().Select(s => s.GetProperty("name").GetString()!)];

    /// <summary>The id of the credential the dev node made for <c>demo</c> (other tests add more).</summary>
    private static async Task<string> DevCredentialAsync(DevServer node) =>
        (await Cli.RunAsync(node, "keystore", "credential", "list", "demo", "--json")).Json.EnumerateArray()
            .Single(c => c.GetProperty("accessKeyId").GetString() == node.Info.AccessKeyId).GetProperty("id").GetString()!;
}
