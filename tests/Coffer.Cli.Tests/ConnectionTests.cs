using Coffer.Cli.Client;
using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary>How every client verb finds Coffer: options, COFFER_ADDR/COFFER_TOKEN, or a dev.json. The
/// class shares one dev node, which no test changes (the status counts its one key store).</summary>
public sealed class ConnectionTests(SharedNode shared) : IClassFixture<SharedNode>
{
    [Fact]
    public async Task Status_on_a_dev_node_shows_the_dev_seal_unsealed_with_a_key_store_count()
    {
        var node = shared.Node;

        var status = await Cli.RunAsync(node, "status");
        var json = await Cli.RunAsync(node, "status", "--json");

        Assert.True(status.ExitCode == 0, status.ToString());
        Assert.Matches(@"Initialized\s+yes", status.Out);
        Assert.Matches(@"Sealed\s+no", status.Out);
        Assert.Matches(@"Seal\s+dev", status.Out);
        Assert.Matches(@"Key stores\s+1", status.Out);
        Assert.Matches(@"Version\s+\S+", status.Out);
        Assert.Equal("dev", json.Json.GetProperty("sealKind").GetString());
        Assert.Equal(1, json.Json.GetProperty("keyStoreCount").GetInt32());
    }

    [Fact]
    public async Task Status_without_a_token_hides_the_key_store_count()
    {
        var node = shared.Node;

        var status = await Cli.RunAsync(Cli.Environment(node.Info.AdminUrl, null), "status");

        Assert.Equal(0, status.ExitCode);
        Assert.Contains("(shown with a token)", status.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dev_json_in_the_working_directory_is_found_without_settings()
    {
        var node = shared.Node;
        var cwd = Cli.EmptyDirectory();
        Directory.CreateDirectory(Path.Combine(cwd, ".coffer-dev"));
        File.Copy(Path.Combine(node.DataDirectory, "dev.json"), Path.Combine(cwd, ".coffer-dev", "dev.json"));

        var list = await Cli.RunAsync(Cli.Environment(null, null, workingDirectory: cwd), "key", "list");

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("demo-key", list.Out, StringComparison.Ordinal);
        Directory.Delete(cwd, recursive: true);
    }

    [Fact]
    public async Task Data_option_names_the_dev_directory_to_read()
    {
        var node = shared.Node;

        var list = await Cli.RunAsync(Cli.Environment(null, null), "keystore", "list", "--data", node.DataDirectory);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("/demo/kms/xks/v1", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Data_option_without_dev_json_is_a_usage_error()
    {
        var list = await Cli.RunAsync(Cli.Environment(null, null), "keystore", "list", "--data", "nowhere");

        Assert.Equal(2, list.ExitCode);
        Assert.Contains("dev.json does not exist", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Addr_and_token_options_override_the_environment()
    {
        var node = shared.Node;

        var list = await Cli.RunAsync(Cli.Environment("http://127.0.0.1:1", "wrong"),
            "keystore", "list", "--addr", node.Info.AdminUrl, "--token", node.Info.AdminToken);

        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains("demo", list.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Missing_token_says_to_set_COFFER_TOKEN_before_calling()
    {
        var list = await Cli.RunAsync(Cli.Environment("http://127.0.0.1:1", null), "key", "list");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("no management token: set COFFER_TOKEN", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Wrong_token_shows_the_server_detail()
    {
        var node = shared.Node;

        var list = await Cli.RunAsync(Cli.Environment(node.Info.AdminUrl, "not-a-token"), "keystore", "list");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("A valid management token is required", list.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Connection_refused_asks_whether_the_server_runs()
    {
        var status = await Cli.RunAsync(Cli.Environment("http://127.0.0.1:1", "t"), "status");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("cannot reach Coffer at http://127.0.0.1:1/: is `coffer server` running?", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_answer_that_is_not_problem_json_is_reported_with_its_status()
    {
        var node = shared.Node;

        // The XKS listener is not the management API: its answer to /api/v1/... is not Coffer's problem+json.
        var status = await Cli.RunAsync(Cli.Environment(node.XksUrl.ToString(), "t"), "keystore", "list");

        Assert.Equal(1, status.ExitCode);
        Assert.Contains("not as Coffer's management API does", status.Error, StringComparison.Ordinal);
        Assert.Contains("COFFER_ADDR", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Addr_that_is_not_a_url_is_a_usage_error()
    {
        var status = await Cli.RunAsync(Cli.Environment("localhost:8444", null), "status");

        Assert.Equal(2, status.ExitCode);
        Assert.Contains("is not an http(s) URL", status.Error, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_prefers_the_token_from_the_environment()
    {
        var help = await Cli.RunAsync(Cli.Environment(null, null), "key", "list", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains(ClientSettings.TokenVariable, help.Out, StringComparison.Ordinal);
        Assert.Contains("shell history", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Help_of_a_verb_with_required_arguments_is_not_an_error()
    {
        var help = await Cli.RunAsync(Cli.Environment(null, null), "keystore", "export-config", "--help");

        Assert.Equal(0, help.ExitCode);
        Assert.Contains("mode 0600", help.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Unknown_verb_is_a_usage_error()
    {
        var result = await Cli.RunAsync(Cli.Environment(null, null), "key", "rotate-everything");

        Assert.Equal(2, result.ExitCode);
        Assert.Contains("coffer key --help", result.Error, StringComparison.Ordinal);
    }
}
