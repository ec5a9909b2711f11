using Coffer.Testing;

namespace Coffer.Cli.Tests;

/// <summary><c>coffer policy ...</c> and <c>coffer region-set ...</c> against a dev node the class
/// shares: each test sets rules on a key store and key of its own.</summary>
public sealed class PolicyCommandTests(SharedNode shared) : IClassFixture<SharedNode>, IDisposable
{
    private readonly string _directory = Directory.CreateTempSubdirectory("coffer-policy-cli-").FullName;

    private DevServer Node => shared.Node;

    public void Dispose() => Directory.Delete(_directory, recursive: true);

    /// <summary>A new key store <paramref name="name"/> (at <c>/name</c>) holding one key, <c>name-key</c>.</summary>
    private async Task ScopeAsync(string name)
    {
        Assert.Equal(0, (await Cli.RunAsync(Node, "keystore", "create", name, "--prefix", "/" + name)).ExitCode);
        Assert.Equal(0, (await Cli.RunAsync(Node, "key", "create", name, "--name", name + "-key")).ExitCode);
    }

    private string Write(string name, string text)
    {
        var path = Path.Combine(_directory, name);
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public async Task Policy_set_then_show_prints_the_document_and_keeps_the_previous_version()
    {
        await ScopeAsync("versions");
        var first = Write("v1.json", """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""");
        var second = Write("v2.json", """{"rules":[{"name":"deny-all","effect":"deny"}]}""");

        var set1 = await Cli.RunAsync(Node, "policy", "set", "--keystore", "versions", "--file", first);
        var set2 = await Cli.RunAsync(Node, "policy", "set", "--keystore", "versions", "--file", second);
        var show = await Cli.RunAsync(Node, "policy", "show", "--keystore", "versions");
        var old = await Cli.RunAsync(Node, "policy", "show", "--keystore", "versions", "--version", "1", "--json");
        var versions = await Cli.RunAsync(Node, "policy", "show", "--keystore", "versions", "--versions");

        Assert.True(set1.ExitCode == 0, set1.ToString());
        Assert.True(set2.ExitCode == 0, set2.ToString());
        Assert.Matches(@"Version\s+2", set2.Out);
        Assert.True(show.ExitCode == 0, show.ToString());
        Assert.Contains("\"deny-all\"", show.Out, StringComparison.Ordinal);
        Assert.DoesNotContain("null", show.Out, StringComparison.Ordinal); // absent matchers are left out, not shown as null
        Assert.Equal("eea-only", old.Json.GetProperty("document").GetProperty("rules")[0].GetProperty("name").GetString());
        Assert.Matches(@"\n\s*1\s+1\s", versions.Out);
        Assert.Matches(@"\n\s*2\s+1\s", versions.Out);
    }

    [Fact]
    public async Task Policy_set_reads_YAML_the_same_as_JSON_and_a_YAML_error_changes_nothing()
    {
        await ScopeAsync("yaml");
        var yaml = Write("rules.yaml", """
            # Only calls for KMS keys in the EEA; never from the test account's sandbox role.
            rules:
              - name: eea-only
                effect: allow
                kmsKeyRegion: [eea]
              - name: no-sandbox
                effect: deny
                awsPrincipalArn:
                  - "arn:aws:iam::123456789012:role/sandbox-*"
            """);
        var broken = Write("broken.yml", "rules: [ {name: a, effect: allow\n");

        var set = await Cli.RunAsync(Node, "policy", "set", "--key", "yaml-key", "--file", yaml);
        var show = await Cli.RunAsync(Node, "policy", "show", "--key", "yaml-key", "--json");
        var bad = await Cli.RunAsync(Node, "policy", "set", "--key", "yaml-key", "--file", broken);
        var after = await Cli.RunAsync(Node, "policy", "show", "--key", "yaml-key", "--versions");

        Assert.True(set.ExitCode == 0, set.ToString());
        var rules = show.Json.GetProperty("document").GetProperty("rules");
        Assert.Equal("eea-only", rules[0].GetProperty("name").GetString());
        Assert.Equal("eea", rules[0].GetProperty("kmsKeyRegion")[0].GetString());
        Assert.Equal("arn:aws:iam::123456789012:role/sandbox-*", rules[1].GetProperty("awsPrincipalArn")[0].GetString());
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("broken.yml is not valid YAML", bad.Error, StringComparison.Ordinal);
        Assert.DoesNotMatch(@"\n\s*2\s", after.Out); // still one version
    }

    [Fact]
    public async Task Policy_set_with_a_bad_document_prints_the_field_and_fails()
    {
        await ScopeAsync("bad");
        var bad = Write("bad.json", """{"rules":[{"name":"a","effect":"allow","sourceIp":["10.0.0.1/8"]}]}""");

        var result = await Cli.RunAsync(Node, "policy", "set", "--key", "bad-key", "--file", bad);

        Assert.Equal(1, result.ExitCode);
        Assert.Contains("rules[0].sourceIp[0]", result.Error, StringComparison.Ordinal);
        var show = await Cli.RunAsync(Node, "policy", "show", "--key", "bad-key");
        Assert.Equal(1, show.ExitCode);
    }

    [Fact]
    public async Task Policy_simulate_shows_the_decision_and_the_deciding_rule_for_each_sample()
    {
        await ScopeAsync("simulate");
        var rules = Write("rules.json", """{"rules":[{"name":"all","effect":"allow"},{"name":"deny-us","effect":"deny","kmsKeyRegion":["us-*"]}]}""");
        var samples = Write("samples.json", """
            [{"operation":"encrypt","requestMetadata":{"kmsRequestId":"req-eu","kmsKeyArn":"arn:aws:kms:eu-central-1:111122223333:key/k"}},
             {"operation":"decrypt","requestMetadata":{"kmsRequestId":"req-us","kmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/k"}}]
            """);

        var result = await Cli.RunAsync(Node, "policy", "simulate", "--keystore", "simulate", "--file", rules, "--request", samples);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"allow\s+rule=all\s+allow\s+no\s+encrypt\s+req-eu", result.Out); // no stored rules: everything allowed
        Assert.Matches(@"deny\s+rule=deny-us\s+allow\s+yes\s+decrypt\s+req-us", result.Out);
        Assert.Contains("nothing was changed", result.Out, StringComparison.Ordinal);
        Assert.Equal(1, (await Cli.RunAsync(Node, "policy", "show", "--keystore", "simulate")).ExitCode);
    }

    [Fact]
    public async Task Policy_simulate_with_a_candidate_marks_the_calls_whose_decision_differs_and_counts_them()
    {
        await ScopeAsync("candidate");
        var stored = Write("stored.json", """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""");
        var candidate = Write("candidate.json", """{"rules":[{"name":"all","effect":"allow"}]}""");
        var samples = Write("samples.json", """
            [{"operation":"encrypt","requestMetadata":{"kmsRequestId":"req-eu","kmsKeyArn":"arn:aws:kms:eu-central-1:111122223333:key/k"}},
             {"operation":"encrypt","requestMetadata":{"kmsRequestId":"req-us","kmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/k"}}]
            """);
        Assert.Equal(0, (await Cli.RunAsync(Node, "policy", "set", "--keystore", "candidate", "--file", stored)).ExitCode);

        var result = await Cli.RunAsync(Node, "policy", "simulate", "--keystore", "candidate", "--file", candidate, "--request", samples);

        Assert.True(result.ExitCode == 0, result.ToString());
        Assert.Matches(@"STORED RULES\s+DIFFERS", result.Out);
        Assert.Matches(@"allow\s+rule=all\s+allow\s+no\s+encrypt\s+req-eu", result.Out);
        Assert.Matches(@"allow\s+rule=all\s+deny\s+yes\s+encrypt\s+req-us", result.Out);
        Assert.Contains("2 call(s) under 1 rule(s); 1 decision(s) differ from the stored rules'", result.Out, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Region_set_set_list_and_delete()
    {
        var set = await Cli.RunAsync(Node, "region-set", "set", "nordics", "eu-north-1");
        var list = await Cli.RunAsync(Node, "region-set", "list");
        var builtIn = await Cli.RunAsync(Node, "region-set", "set", "eea", "us-east-1");
        var delete = await Cli.RunAsync(Node, "region-set", "delete", "nordics");

        Assert.True(set.ExitCode == 0, set.ToString());
        Assert.Matches(@"nordics\s+user\s+eu-north-1", list.Out);
        Assert.Matches(@"eea\s+built-in\s+eu-central-1", list.Out);
        Assert.Equal(1, builtIn.ExitCode);
        Assert.Contains("read-only", builtIn.Error, StringComparison.Ordinal);
        Assert.True(delete.ExitCode == 0, delete.ToString());
    }

    [Fact]
    public async Task Policy_commands_need_exactly_one_scope()
    {
        await ScopeAsync("scope");
        var rules = Write("r.json", """{"rules":[]}""");

        var neither = await Cli.RunAsync(Node, "policy", "set", "--file", rules);
        var both = await Cli.RunAsync(Node, "policy", "show", "--keystore", "scope", "--key", "scope-key");

        Assert.Equal(2, neither.ExitCode);
        Assert.Equal(2, both.ExitCode);
        Assert.Contains("exactly one of --keystore and --key", both.Error, StringComparison.Ordinal);
    }
}
