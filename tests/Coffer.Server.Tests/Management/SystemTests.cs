using Coffer.Testing;
using System.Net;

namespace Coffer.Server.Tests.Management;

/// <summary>/api/v1/sys, the OpenAPI document, /healthz, /readyz and problem answers of the
/// management listener in general (RFC 7807).</summary>
public sealed class SystemTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    [Fact]
    public async Task OpenAPI_document_names_the_audit_filters_as_the_query_string_does()
    {
        using var anonymous = ManagementApi.ClientWith(shared.Node, null);
        var document = await (await anonymous.GetAsync("/api/v1/openapi.json")).JsonAsync(HttpStatusCode.OK);
        string[] filters = ["from", "to", "keyId", "keyStore", "actor", "action", "outcome", "kmsRequestId", "region", "account"];
        foreach (var path in new[] { "/api/v1/audit/records", "/api/v1/audit/export" })
        {
            var names = document["paths"]![path]!["get"]!["parameters"]!.AsArray().Select(p => (string)p!["name"]!).ToList();
            Assert.All(filters, f => Assert.Contains(f, names));
        }
    }

    [Fact]
    public async Task OpenAPI_document_is_JSON_listing_every_api_v1_path()
    {
        using var anonymous = ManagementApi.ClientWith(shared.Node, null);
        var document = await (await anonymous.GetAsync("/api/v1/openapi.json")).JsonAsync(HttpStatusCode.OK);

        Assert.StartsWith("3.", (string?)document["openapi"], StringComparison.Ordinal);
        var paths = document["paths"]!.AsObject();
        string[] expected =
        [
            "/api/v1/keystores",
            "/api/v1/keystores/{id}",
            "/api/v1/keystores/{id}/credentials",
            "/api/v1/keystores/{id}/credentials/{credentialId}",
            "/api/v1/keystores/{id}/credentials/{credentialId}/aws-config",
            "/api/v1/keystores/{id}/keys",
            "/api/v1/keys",
            "/api/v1/keys/{keyId}",
            "/api/v1/keys/{keyId}/enable",
            "/api/v1/keys/{keyId}/disable",
            "/api/v1/sys/status",
            "/api/v1/sys/init",
            "/api/v1/sys/unseal",
            "/api/v1/sys/seal",
        ];
        foreach (var path in expected)
        {
            Assert.True(paths.ContainsKey(path), $"OpenAPI lacks {path}; it has {string.Join(", ", paths.Select(p => p.Key))}");
        }

        Assert.All(paths, p => Assert.StartsWith("/api/v1/", p.Key, StringComparison.Ordinal));
        Assert.NotNull(paths["/api/v1/keystores"]!["get"]);
        Assert.NotNull(paths["/api/v1/keystores"]!["post"]);
        Assert.NotNull(paths["/api/v1/keystores/{id}"]!["delete"]);
        Assert.NotNull(paths["/api/v1/keystores/{id}/credentials/{credentialId}"]!["delete"]);
    }

    [Fact]
    public async Task Healthz_and_readyz_answer_200_while_unsealed()
    {
        using var health = await Admin.GetAsync("/healthz");
        Assert.Equal(HttpStatusCode.OK, health.StatusCode);
        using var ready = await Admin.GetAsync("/readyz");
        Assert.Equal(HttpStatusCode.OK, ready.StatusCode);
    }

    [Theory]
    [InlineData("{\"name\": ")]
    [InlineData("{\"name\": \"x\", \"uriPrefix\": }")]
    [InlineData("[1,2,3]")]
    [InlineData("not json")]
    [InlineData("{\"name\": 5, \"uriPrefix\": \"/x\"}")]
    public async Task Malformed_JSON_body_is_a_400_problem(string body)
    {
        using var response = await Admin.PostRawAsync("/api/v1/keystores", body);
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Malformed_JSON_body_for_a_key_is_a_400_problem()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var response = await Admin.PostRawAsync($"/api/v1/keystores/{store}/keys", "{\"name\": \"k\", \"tags\": [\"not-an-object\"]}");
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Empty_body_where_JSON_is_required_is_a_400_problem()
    {
        using var response = await Admin.PostRawAsync("/api/v1/keystores", "");
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Non_JSON_content_type_is_a_415_problem()
    {
        using var response = await Admin.PostRawAsync("/api/v1/keystores", "{\"name\":\"x\",\"uriPrefix\":\"/x\"}", "text/plain");
        await response.ProblemAsync(HttpStatusCode.UnsupportedMediaType);
    }

    [Fact]
    public async Task Unknown_api_path_is_a_404_problem()
    {
        using var response = await Admin.GetAsync("/api/v1/nothing-here");
        await response.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Wrong_method_is_a_405_problem()
    {
        using var response = await Admin.PutAsync("/api/v1/keystores", new StringContent("{}"));
        await response.ProblemAsync(HttpStatusCode.MethodNotAllowed);
    }

    [Fact]
    public async Task Init_of_an_initialised_node_is_a_409_problem()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/sys/init", new { shares = 3, threshold = 2 });
        await response.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData(0, 1)]
    [InlineData(3, 4)]
    [InlineData(256, 2)]
    [InlineData(3, 0)]
    public async Task Init_with_impossible_shares_is_a_400_problem(int shares, int threshold)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/sys/init", new { shares, threshold });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Unseal_without_a_share_on_the_dev_seal_answers_the_status()
    {
        // The dev seal takes no share: it reads its key file (a no-op here, the node is unsealed).
        var status = await (await Admin.PostJsonAsync("/api/v1/sys/unseal", new { })).JsonAsync(HttpStatusCode.OK);
        Assert.False((bool)status["sealed"]!);
    }

    [Fact]
    public async Task Unseal_share_on_the_dev_seal_is_a_409_problem()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/sys/unseal", new { share = "coffer-share-v1-AAAA" });
        await response.ProblemAsync(HttpStatusCode.Conflict);
        Assert.False((bool)(await Admin.GetJsonAsync("/api/v1/sys/status"))["sealed"]!);
    }

    [Fact]
    public async Task Unseal_reset_answers_the_status()
    {
        var status = await (await Admin.PostJsonAsync("/api/v1/sys/unseal", new { reset = true })).JsonAsync(HttpStatusCode.OK);
        Assert.False((bool)status["sealed"]!);
        Assert.Equal(0, (int?)status["progress"]);
    }
}
