using System.Net;
using System.Text;
using System.Text.Json.Nodes;
using Coffer.Audit;
using Coffer.Storage;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>/api/v1/keystores/{id}/policy, /api/v1/keys/{keyId}/policy, /api/v1/policy/simulate and
/// /api/v1/region-sets: versioned rule documents, refused whole with the field named, audited.</summary>
public sealed class PolicyApiTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private const string EeaOnly = """{"rules":[{"name":"eea-only","effect":"allow","kmsKeyRegion":["eea"]}]}""";

    private HttpClient Admin => shared.Admin;

    private async Task<string> NewKeyStoreAsync() => (string)(await Admin.CreateKeyStoreAsync())["id"]!;

    private Task<HttpResponseMessage> PutAsync(string path, string json) =>
        Admin.PutAsync(path, new StringContent(json, Encoding.UTF8, "application/json"));

    [Fact]
    public async Task Each_PUT_makes_a_new_version_and_earlier_versions_stay_readable()
    {
        var id = await NewKeyStoreAsync();
        using var first = await PutAsync($"/api/v1/keystores/{id}/policy", EeaOnly);
        using var second = await PutAsync($"/api/v1/keystores/{id}/policy", """{"rules":[{"name":"deny-all","effect":"deny"}]}""");

        var v1 = await first.JsonAsync(HttpStatusCode.OK);
        var v2 = await second.JsonAsync(HttpStatusCode.OK);
        Assert.Equal(1, (int?)v1["version"]);
        Assert.Equal(2, (int?)v2["version"]);
        Assert.Equal("keystore", (string?)v2["scope"]);
        Assert.Equal("deny-all", (string?)(await Admin.GetJsonAsync($"/api/v1/keystores/{id}/policy"))["document"]!["rules"]![0]!["name"]);
        var old = await Admin.GetJsonAsync($"/api/v1/keystores/{id}/policy?version=1");
        Assert.Equal("eea", (string?)old["document"]!["rules"]![0]!["kmsKeyRegion"]![0]);
        var versions = (await Admin.GetJsonAsync($"/api/v1/keystores/{id}/policy/versions"))["versions"]!.AsArray();
        Assert.Equal([1, 2], versions.Select(v => (int)v!["version"]!));
    }

    [Fact]
    public async Task Show_leaves_out_the_fields_a_rule_does_not_have()
    {
        var id = await NewKeyStoreAsync();
        using (var put = await PutAsync($"/api/v1/keystores/{id}/policy", EeaOnly))
        {
            await put.JsonAsync(HttpStatusCode.OK);
        }

        using var response = await Admin.GetAsync($"/api/v1/keystores/{id}/policy");
        var text = await response.Content.ReadAsStringAsync();

        Assert.DoesNotContain("null", text, StringComparison.Ordinal);
        var rule = JsonNode.Parse(text)!["document"]!["rules"]![0]!.AsObject();
        Assert.Equal(["name", "effect", "kmsKeyRegion"], rule.Select(p => p.Key));
    }

    [Fact]
    public async Task Clearing_adds_a_cleared_version_and_keeps_the_history()
    {
        var id = await NewKeyStoreAsync();
        (await PutAsync($"/api/v1/keystores/{id}/policy", EeaOnly)).Dispose();

        using var cleared = await Admin.DeleteAsync($"/api/v1/keystores/{id}/policy");

        var view = await cleared.JsonAsync(HttpStatusCode.OK);
        Assert.True((bool)view["cleared"]!);
        Assert.Equal(2, (int?)view["version"]);
        Assert.True((bool)(await Admin.GetJsonAsync($"/api/v1/keystores/{id}/policy"))["cleared"]!);
        using var again = await Admin.DeleteAsync($"/api/v1/keystores/{id}/policy");
        await again.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("""{"rules":[{"name":"a","effect":"allow","sourceIP":["10.0.0.0/8"]}]}""", "sourceIP")]
    [InlineData("""{"rules":[{"name":"a","effect":"allow","sourceIp":["10.0.0.1/8"]}]}""", "rules[0].sourceIp[0]")]
    [InlineData("""{"rules":[{"name":"a","effect":"allow","sourceIp":["2001:db8::/200"]}]}""", "rules[0].sourceIp[0]")]
    [InlineData("""{"rules":[{"name":"a","effect":"allow"},{"name":"b","effect":"allow","kmsKeyRegion":["narnia"]}]}""", "rules[1].kmsKeyRegion[0]")]
    [InlineData("""{"rules":[{"name":"a","effect":"permit"}]}""", "rules[0].effect")]
    [InlineData("""{"rules":[{"name":"a","effect":"allow","awsPrincipalArn":["arn:aws:iam::1:role/with space"]}]}""", "rules[0].awsPrincipalArn[0]")]
    [InlineData("""{"rules":[{"name":"a","effect":"allow","notBefore":"yesterday"}]}""", "notBefore")]
    [InlineData("""{"rules":""", "$")]
    [InlineData("""{}""", "rules")]
    public async Task A_bad_document_is_400_naming_the_field_and_changes_nothing(string json, string field)
    {
        var id = await NewKeyStoreAsync();
        (await PutAsync($"/api/v1/keystores/{id}/policy", EeaOnly)).Dispose();

        using var response = await PutAsync($"/api/v1/keystores/{id}/policy", json);

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(field, (string)problem["detail"]!, StringComparison.Ordinal);
        var current = await Admin.GetJsonAsync($"/api/v1/keystores/{id}/policy");
        Assert.Equal(1, (int?)current["version"]);
    }

    [Fact]
    public async Task Policies_of_unknown_key_stores_and_keys_are_404()
    {
        using var store = await PutAsync("/api/v1/keystores/ks_nope/policy", EeaOnly);
        using var key = await PutAsync("/api/v1/keys/key_nope/policy", EeaOnly);
        using var get = await Admin.GetAsync("/api/v1/keys/key_nope/policy");

        await store.ProblemAsync(HttpStatusCode.NotFound);
        await key.ProblemAsync(HttpStatusCode.NotFound);
        await get.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Setting_rules_is_audited_as_policy_set_with_the_version()
    {
        var id = await NewKeyStoreAsync();
        (await PutAsync($"/api/v1/keystores/{id}/policy", EeaOnly)).Dispose();

        var records = (await shared.Node.Server.Seal.Storage.Audit.QueryAsync(new AuditQuery { Action = AuditActions.PolicySet, KeyStore = id })).Records;

        Assert.Contains(records, r => r.Event.Outcome == AuditOutcome.Requested);
        var done = Assert.Single(records, r => r.Event.Outcome == AuditOutcome.Ok).Event;
        Assert.Contains("access rules version 1 with 1 rules", done.Details, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Simulate_decides_samples_under_a_candidate_document_without_storing_it()
    {
        var id = await NewKeyStoreAsync();
        using var response = await Admin.PostJsonAsync("/api/v1/policy/simulate", JsonNode.Parse($$$"""
            {"keyStoreId":"{{{id}}}","document":{{{EeaOnly}}},"requests":[
              {"operation":"encrypt","requestMetadata":{"kmsKeyArn":"arn:aws:kms:eu-central-1:111122223333:key/k","kmsRequestId":"a"}},
              {"operation":"encrypt","requestMetadata":{"kmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/k","kmsRequestId":"b"}}]}
            """)!);

        var results = (await response.JsonAsync(HttpStatusCode.OK))["results"]!.AsArray();
        Assert.Equal(["allow", "deny"], results.Select(r => (string)r!["decision"]!));
        Assert.Equal("eea-only", (string?)results[0]!["rule"]);
        Assert.Equal("no rule allowed", (string?)results[1]!["reason"]);
        using var stored = await Admin.GetAsync($"/api/v1/keystores/{id}/policy");
        await stored.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Simulate_with_a_candidate_shows_where_its_decision_differs_from_the_stored_rules()
    {
        var id = await NewKeyStoreAsync();
        using (var put = await Admin.PutAsync($"/api/v1/keystores/{id}/policy", new StringContent(EeaOnly, System.Text.Encoding.UTF8, "application/json")))
        {
            await put.JsonAsync(HttpStatusCode.OK);
        }

        const string Samples = """
            [{"operation":"encrypt","requestMetadata":{"kmsKeyArn":"arn:aws:kms:eu-central-1:111122223333:key/k"}},
             {"operation":"encrypt","requestMetadata":{"kmsKeyArn":"arn:aws:kms:us-east-1:111122223333:key/k"}},
             {"operation":"decrypt","requestMetadata":{"kmsKeyArn":"arn:aws:kms:eu-west-1:111122223333:key/k"}}]
            """;
        using var candidate = await Admin.PostJsonAsync("/api/v1/policy/simulate", JsonNode.Parse($$$"""
            {"keyStoreId":"{{{id}}}","document":{"rules":[{"name":"encrypt-anywhere","effect":"allow","operation":["encrypt"]}]},"requests":{{{Samples}}}}
            """)!);
        using var stored = await Admin.PostJsonAsync("/api/v1/policy/simulate", JsonNode.Parse($$$"""{"keyStoreId":"{{{id}}}","requests":{{{Samples}}}}""")!);

        var body = await candidate.JsonAsync(HttpStatusCode.OK);
        var results = body["results"]!.AsArray();
        Assert.Equal(["allow", "allow", "deny"], results.Select(r => (string)r!["decision"]!));
        Assert.Equal(["allow", "deny", "allow"], results.Select(r => (string)r!["storedDecision"]!));
        Assert.Equal([false, true, true], results.Select(r => (bool)r!["differs"]!));
        Assert.Equal(2, (int)body["differing"]!);
        var plain = await stored.JsonAsync(HttpStatusCode.OK);
        Assert.Null(plain["differing"]); // no candidate: nothing to compare, and no empty fields
        Assert.All(plain["results"]!.AsArray(), r => Assert.False(r!.AsObject().ContainsKey("differs")));
    }

    [Fact]
    public async Task Simulate_replays_recent_XKS_calls_from_the_audit_log()
    {
        var node = shared.Node;
        var storeId = await Xks.Admin.KeyStoreIdAsync(node, node.Info.UriPrefix);
        var requestId = XksRequests.NewRequestId();
        Assert.Equal(200, (await XksClient.For(node).EncryptAsync(node.Info.KeyId, [1, 2], kmsRequestId: requestId)).Status);

        using var response = await Admin.PostJsonAsync("/api/v1/policy/simulate", JsonNode.Parse($$$"""
            {"keyStoreId":"{{{storeId}}}","replay":5,"document":{"rules":[{"name":"deny-eu-west-1","effect":"deny","kmsKeyRegion":["eu-west-1"]}]}}
            """)!);

        var results = (await response.JsonAsync(HttpStatusCode.OK))["results"]!.AsArray();
        var replayed = Assert.Single(results, r => (string?)r!["kmsRequestId"] == requestId)!;
        Assert.Equal("deny", (string?)replayed["decision"]);
        Assert.Equal("deny-eu-west-1", (string?)replayed["rule"]);
        Assert.NotNull((long?)replayed["auditSequence"]);
    }

    [Theory]
    [InlineData("""{"keyStoreId":"KS","requests":[{"operation":"health"}]}""", "requests[0].operation")]
    [InlineData("""{"keyStoreId":"KS","requests":[{"operation":"encrypt","sourceIp":"nope"}]}""", "requests[0].sourceIp")]
    [InlineData("""{"keyStoreId":"KS"}""", "replay")]
    [InlineData("""{"keyStoreId":"KS","replay":1,"document":{"rules":[{"name":"a","effect":"allow","region":["eea"]}]}}""", "document.rules[0].region")]
    public async Task Simulate_refuses_bad_input_naming_the_field(string json, string field)
    {
        var id = await NewKeyStoreAsync();
        using var response = await Admin.PostRawAsync("/api/v1/policy/simulate", json.Replace("KS", id, StringComparison.Ordinal));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(field, (string)problem["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Region_sets_are_listed_defined_used_and_deleted_only_when_unused()
    {
        var name = "mine-" + Guid.NewGuid().ToString("N")[..8];
        var id = await NewKeyStoreAsync();
        using (var put = await PutAsync($"/api/v1/region-sets/{name}", """{"regions":["eu-central-1","eu-north-1"]}"""))
        {
            await put.JsonAsync(HttpStatusCode.OK);
        }

        var list = (await Admin.GetJsonAsync("/api/v1/region-sets")).AsArray();
        Assert.Contains(list, s => (string?)s!["name"] == "eea" && (bool)s["builtIn"]!);
        Assert.Contains(list, s => (string?)s!["name"] == name && !(bool)s["builtIn"]!);
        using (var rule = await PutAsync($"/api/v1/keystores/{id}/policy", $$"""{"rules":[{"name":"mine","effect":"allow","kmsKeyRegion":["{{name}}"]}]}"""))
        {
            await rule.JsonAsync(HttpStatusCode.OK);
        }

        using (var inUse = await Admin.DeleteAsync($"/api/v1/region-sets/{name}"))
        {
            await inUse.ProblemAsync(HttpStatusCode.Conflict);
        }

        (await Admin.DeleteAsync($"/api/v1/keystores/{id}/policy")).Dispose();
        using var deleted = await Admin.DeleteAsync($"/api/v1/region-sets/{name}");
        Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        using var gone = await Admin.GetAsync($"/api/v1/region-sets/{name}");
        await gone.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Theory]
    [InlineData("eea", """{"regions":["us-east-1"]}""", HttpStatusCode.Conflict)]
    [InlineData("eu-west-1", """{"regions":["eu-west-1"]}""", HttpStatusCode.BadRequest)]
    [InlineData("ok-name", """{"regions":["eea"]}""", HttpStatusCode.BadRequest)]
    [InlineData("ok-name", """{"regions":[]}""", HttpStatusCode.BadRequest)]
    [InlineData("ok-name", """{"regions":["eu-west-1"],"extra":1}""", HttpStatusCode.BadRequest)]
    public async Task Bad_region_sets_and_built_ins_are_refused(string name, string json, HttpStatusCode status)
    {
        using var response = await PutAsync($"/api/v1/region-sets/{name}", json);

        await response.ProblemAsync(status);
        using var check = await Admin.GetAsync("/api/v1/region-sets/ok-name");
        await check.ProblemAsync(HttpStatusCode.NotFound);
    }
}
