using Coffer.Server.Hosting;
using Coffer.Testing;
using Coffer.Testing.Oidc;

namespace Coffer.Cli.Tests;

/// <summary>The CLI with an identity-provider token in COFFER_TOKEN: nothing to configure beyond it.</summary>
public sealed class OidcTokenTests
{
    [Fact]
    public async Task Cli_with_an_identity_provider_token_in_COFFER_TOKEN_lists_and_creates_key_stores()
    {
        await using var issuer = await TestIssuer.StartAsync();
        await using var node = await DevServer.StartAsync(o => o.Oidc = Options(issuer));
        var env = Cli.Environment(node.Info.AdminUrl, issuer.Token(new TokenSpec { Groups = ["kms-admins"] }));

        var create = await Cli.RunAsync(env, "keystore", "create", "from-oidc", "--prefix", "/from-oidc");
        var list = await Cli.RunAsync(env, "keystore", "list", "--json");

        Assert.True(create.ExitCode == 0, create.ToString());
        Assert.True(list.ExitCode == 0, list.ToString());
        Assert.Contains(list.Json.EnumerateArray(), s => s.GetProperty("name").GetString() == "from-oidc");
    }

    [Fact]
    public async Task Cli_with_a_token_for_another_audience_shows_why_it_was_refused()
    {
        await using var issuer = await TestIssuer.StartAsync();
        await using var node = await DevServer.StartAsync(o => o.Oidc = Options(issuer));
        var env = Cli.Environment(node.Info.AdminUrl, issuer.Token(new TokenSpec { Groups = ["kms-admins"], Audience = "api://another-app" }));

        var list = await Cli.RunAsync(env, "keystore", "list");

        Assert.Equal(1, list.ExitCode);
        Assert.Contains("wrong audience", list.Error, StringComparison.Ordinal);
    }

    private static OidcOptions Options(TestIssuer issuer) => new()
    {
        Issuer = issuer.Issuer,
        Audience = TestIssuer.DefaultAudience,
        GroupRoles = [new OidcGroupRole { Group = "kms-admins", Role = "administrator" }],
    };
}
