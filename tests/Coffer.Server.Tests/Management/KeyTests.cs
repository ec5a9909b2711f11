using Coffer.Testing;
using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Tls;

namespace Coffer.Server.Tests.Management;

/// <summary>/api/v1/keystores/{id}/keys and /api/v1/keys/{id}: AES-256 keys whose name is the XKS
/// externalKeyId (XKS spec: 1..128 of [A-Za-z0-9._-], unique per endpoint).</summary>
public sealed class KeyTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    [Fact]
    public async Task Creating_a_key_returns_it_with_name_description_tags_usage_and_version_1()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var response = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new
        {
            name = "orders.db-key_1",
            description = "Orders database",
            tags = new Dictionary<string, string> { ["env"] = "prod", ["team"] = "payments" },
        });
        var key = await response.JsonAsync(HttpStatusCode.Created);

        var id = (string)key["id"]!;
        Assert.Equal($"/api/v1/keys/{id}", response.Headers.Location?.OriginalString);
        Assert.Equal(store, (string?)key["keyStoreId"]);
        Assert.Equal("orders.db-key_1", (string?)key["name"]);
        Assert.Equal("Orders database", (string?)key["description"]);
        Assert.Equal("prod", (string?)key["tags"]!["env"]);
        Assert.Equal("payments", (string?)key["tags"]!["team"]);
        Assert.Equal(["ENCRYPT", "DECRYPT"], ManagementApi.Strings(key["usage"]));
        Assert.Equal("enabled", (string?)key["status"]);
        Assert.Equal(1, (int?)key["currentVersion"]);
        Assert.Equal(1, (int?)(await Admin.GetJsonAsync($"/api/v1/keystores/{store}"))["keyCount"]);
    }

    [Fact]
    public async Task Show_includes_version_1_active_on_the_software_backend()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var id = (string)(await Admin.CreateKeyAsync(store, new { name = "shown" }))["id"]!;

        var key = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        var version = Assert.Single(key["versions"]!.AsArray())!;
        Assert.Equal(1, (int?)version["version"]);
        Assert.Equal("Active", (string?)version["state"]);
        Assert.Equal("software", (string?)version["backend"]);
        Assert.NotNull(version["createdAt"]);
        Assert.DoesNotContain("material", key.ToJsonString(), StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public async Task Key_without_a_name_is_named_by_its_id()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var key = await Admin.CreateKeyAsync(store, new { });
        Assert.Equal((string?)key["id"], (string?)key["name"]);
        Assert.Equal("", (string?)key["description"]);
        Assert.Empty(key["tags"]!.AsObject());
    }

    [Theory]
    [InlineData(new[] { "ENCRYPT" }, new[] { "ENCRYPT" })]
    [InlineData(new[] { "DECRYPT" }, new[] { "DECRYPT" })]
    [InlineData(new[] { "NONE" }, new string[0])]
    [InlineData(new[] { "ENCRYPT", "DECRYPT" }, new[] { "ENCRYPT", "DECRYPT" })]
    [InlineData(new[] { "decrypt", "encrypt" }, new[] { "ENCRYPT", "DECRYPT" })]
    [InlineData(null, new[] { "ENCRYPT", "DECRYPT" })]
    public async Task Usage_is_stored_as_given_and_defaults_to_both(string[]? usage, string[] expected)
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var key = await Admin.CreateKeyAsync(store, new { name = "k", usage });
        Assert.Equal(expected, ManagementApi.Strings(key["usage"]));
        Assert.Equal(expected, ManagementApi.Strings((await Admin.GetJsonAsync($"/api/v1/keys/{key["id"]}"))["usage"]));
    }

    [Fact]
    public async Task Usage_reaches_the_XKS_metadata_and_disable_shows_as_DISABLED()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var credential = await Admin.AddCredentialAsync(storeId);
        var id = (string)(await Admin.CreateKeyAsync(storeId, new { name = "enc-only", usage = new[] { "ENCRYPT" } }))["id"]!;
        var url = shared.Node.XksUrl.ToString().TrimEnd('/') + (string)store["xksProxyUriPath"]! + "/keys/enc-only/metadata";

        var metadata = await Curl.XksAsync(url, (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!, Curl.MetadataBody());
        Assert.True(metadata.HttpStatus == 200, $"{metadata.HttpStatus} {metadata.Body} {metadata.Error}");
        var body = JsonNode.Parse(metadata.Body)!;
        Assert.Equal(["ENCRYPT"], ManagementApi.Strings(body["keyUsage"]));
        Assert.Equal("ENABLED", (string?)body["keyStatus"]);

        using (var disable = await Admin.PostAsync($"/api/v1/keys/{id}/disable", null))
        {
            await disable.JsonAsync(HttpStatusCode.OK);
        }

        var disabled = await Curl.XksAsync(url, (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal("DISABLED", (string?)JsonNode.Parse(disabled.Body)!["keyStatus"]);
    }

    [Theory]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("slash/name")]
    [InlineData("colon:name")]
    [InlineData("ключ")]
    [InlineData("a+b")]
    public async Task Invalid_name_is_a_400_problem(string name)
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var response = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new { name });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Name_of_128_characters_is_accepted_and_of_129_is_a_400_problem()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var key = await Admin.CreateKeyAsync(store, new { name = new string('k', 128) });
        Assert.Equal(128, ((string)key["name"]!).Length);

        using var response = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new { name = new string('k', 129) });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Duplicate_name_in_the_same_key_store_is_a_409_problem_but_allowed_in_another()
    {
        var first = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var second = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        await Admin.CreateKeyAsync(first, new { name = "shared-name" });

        using var duplicate = await Admin.PostJsonAsync($"/api/v1/keystores/{first}/keys", new { name = "shared-name" });
        await duplicate.ProblemAsync(HttpStatusCode.Conflict);
        var other = await Admin.CreateKeyAsync(second, new { name = "shared-name" });
        Assert.Equal(second, (string?)other["keyStoreId"]);
        Assert.Equal(1, (int?)(await Admin.GetJsonAsync($"/api/v1/keystores/{first}"))["keyCount"]);
    }

    [Theory]
    [InlineData("[\"SIGN\"]")]
    [InlineData("[\"ENCRYPT\",\"WRAP\"]")]
    [InlineData("[\"\"]")]
    [InlineData("\"ENCRYPT\"")]
    [InlineData("42")]
    public async Task Bad_usage_is_a_400_problem(string usageJson)
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var response = await Admin.PostRawAsync($"/api/v1/keystores/{store}/keys", "{\"name\":\"k\",\"usage\":" + usageJson + "}");
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Too_many_tags_or_a_too_long_description_is_a_400_problem()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var tags = Enumerable.Range(0, 51).ToDictionary(i => $"t{i}", i => "v");
        using var manyTags = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new { name = "k", tags });
        await manyTags.ProblemAsync(HttpStatusCode.BadRequest);
        using var emptyTagKey = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new { name = "k", tags = new Dictionary<string, string> { [""] = "v" } });
        await emptyTagKey.ProblemAsync(HttpStatusCode.BadRequest);
        using var longDescription = await Admin.PostJsonAsync($"/api/v1/keystores/{store}/keys", new { name = "k", description = new string('d', 1025) });
        await longDescription.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Equal(0, (int?)(await Admin.GetJsonAsync($"/api/v1/keystores/{store}"))["keyCount"]);
    }

    [Fact]
    public async Task Creating_a_key_in_an_unknown_key_store_is_a_404_problem()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keystores/ks_doesnotexist/keys", new { name = "k" });
        await response.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Disable_and_enable_round_trip()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var id = (string)(await Admin.CreateKeyAsync(store, new { name = "toggled" }))["id"]!;

        using (var disable = await Admin.PostAsync($"/api/v1/keys/{id}/disable", null))
        {
            Assert.Equal("disabled", (string?)(await disable.JsonAsync(HttpStatusCode.OK))["status"]);
        }

        Assert.Equal("disabled", (string?)(await Admin.GetJsonAsync($"/api/v1/keys/{id}"))["status"]);
        using (var again = await Admin.PostAsync($"/api/v1/keys/{id}/disable", null))
        {
            Assert.Equal("disabled", (string?)(await again.JsonAsync(HttpStatusCode.OK))["status"]);
        }

        using (var enable = await Admin.PostAsync($"/api/v1/keys/{id}/enable", null))
        {
            Assert.Equal("enabled", (string?)(await enable.JsonAsync(HttpStatusCode.OK))["status"]);
        }

        var shown = await Admin.GetJsonAsync($"/api/v1/keys/{id}");
        Assert.Equal("enabled", (string?)shown["status"]);
        Assert.Single(shown["versions"]!.AsArray());
    }

    [Theory]
    [InlineData("GET", "/api/v1/keys/key_doesnotexist")]
    [InlineData("POST", "/api/v1/keys/key_doesnotexist/enable")]
    [InlineData("POST", "/api/v1/keys/key_doesnotexist/disable")]
    public async Task Unknown_key_is_a_404_problem(string method, string path)
    {
        using var response = await Admin.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
        await response.ProblemAsync(HttpStatusCode.NotFound);
    }
}
