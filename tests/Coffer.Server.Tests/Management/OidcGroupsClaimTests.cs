using System.Net;
using Coffer.Server.Management.Oidc;
using Coffer.Testing;
using Coffer.Testing.Oidc;
using Microsoft.Extensions.Time.Testing;
using Microsoft.IdentityModel.JsonWebTokens;

namespace Coffer.Server.Tests.Management;

/// <summary>Where the groups come from: a claim of the configured name, or a dotted path into an object
/// claim (Keycloak's <c>realm_access.roles</c>), read from tokens a real issuer signed.</summary>
public sealed class OidcGroupsClaimTests
{
    [Theory]
    [InlineData("realm_access.roles", new[] { "coffer-admins", "offline_access" })]
    [InlineData("resource_access.coffer.roles", new[] { "key-officers" })]
    [InlineData("https://claims.example.eu/groups", new[] { "ops" })] // a claim name with dots is a name, not a path
    [InlineData("groups", new[] { "plain" })]
    [InlineData("realm_access.missing", new string[0])]
    [InlineData("realm_access.level", new string[0])] // a number is no group
    [InlineData("realm_access", new string[0])]        // an object is no group either
    [InlineData("preferred_username.roles", new string[0])]
    public async Task Groups_are_read_from_the_named_claim_or_the_dotted_path_into_an_object_claim(string claim, string[] expected)
    {
        await using var issuer = await TestIssuer.StartAsync();
        var jwt = issuer.Token(new TokenSpec
        {
            Groups = ["plain"],
            OtherClaims = new Dictionary<string, object>
            {
                ["realm_access"] = new Dictionary<string, object> { ["roles"] = new[] { "coffer-admins", "offline_access", "coffer-admins" }, ["level"] = 3 },
                ["resource_access"] = new Dictionary<string, object> { ["coffer"] = new Dictionary<string, object> { ["roles"] = new[] { "key-officers" } } },
                ["https://claims.example.eu/groups"] = new[] { "ops" },
            },
        });

        Assert.Equal(expected, OidcTokenValidator.GroupsOf(new JsonWebToken(jwt), claim));
    }

    [Fact]
    public async Task A_keycloak_realm_role_logs_in_with_the_role_it_maps_to()
    {
        var time = new FakeTimeProvider(OidcNode.Start);
        await using var issuer = await TestIssuer.StartAsync(time);
        var options = OidcNode.Options(issuer);
        options.GroupsClaim = "realm_access.roles";
        await using var node = await DevServer.StartAsync(o => o.Oidc = options, time: time);
        var realmRoles = new Dictionary<string, object> { ["realm_access"] = new Dictionary<string, object> { ["roles"] = new[] { "coffer-auditors" } } };

        using var auditor = ManagementApi.ClientWith(node, "Bearer " + issuer.Token(new TokenSpec { Groups = null, OtherClaims = realmRoles }));
        using var reads = await auditor.GetAsync("/api/v1/audit/records?limit=1");
        using var writes = await auditor.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("kc") });

        Assert.Equal(HttpStatusCode.OK, reads.StatusCode);
        await writes.ProblemAsync(HttpStatusCode.Forbidden);
    }
}
