using Coffer.Testing;
using System.Net;

namespace Coffer.Server.Tests.Management;

/// <summary>/api/v1/keystores: create, list, show and delete logical key stores (XKS spec,
/// "Transport": the prefix selects a logical key store; XksProxyUriPath is at most 128 characters
/// of [A-Za-z0-9/_-]).</summary>
public sealed class KeyStoreTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    [Theory]
    [InlineData("{0}", "/{0}")]
    [InlineData("/{0}/", "/{0}")]
    [InlineData("  /{0}//  ", "/{0}")]
    [InlineData("/{0}/sub_path/x-1", "/{0}/sub_path/x-1")]
    [InlineData("{0}/a/", "/{0}/a")]
    public async Task Creating_a_key_store_normalises_its_prefix(string given, string normalised)
    {
        var name = ManagementApi.Unique("ks");
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = string.Format(null, given, name) });
        var store = await response.JsonAsync(HttpStatusCode.Created);

        var prefix = string.Format(null, normalised, name);
        Assert.Equal(name, (string?)store["name"]);
        Assert.Equal(prefix, (string?)store["uriPrefix"]);
        Assert.Equal(prefix + "/kms/xks/v1", (string?)store["xksProxyUriPath"]);
        Assert.Equal(0, (int?)store["keyCount"]);
        Assert.Equal(0, (int?)store["liveCredentialCount"]);
        var id = (string)store["id"]!;
        Assert.Equal($"/api/v1/keystores/{id}", response.Headers.Location?.OriginalString);

        var shown = await Admin.GetJsonAsync($"/api/v1/keystores/{id}");
        Assert.Equal(prefix, (string?)shown["uriPrefix"]);
    }

    [Fact]
    public async Task The_empty_prefix_is_one_key_store_and_slash_is_the_same_prefix()
    {
        var store = await Admin.CreateKeyStoreAsync(ManagementApi.Unique("root"), "");
        Assert.Equal("", (string?)store["uriPrefix"]);
        Assert.Equal("/kms/xks/v1", (string?)store["xksProxyUriPath"]);

        using var again = await Admin.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("root"), uriPrefix = "/" });
        await again.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task A_key_store_keeps_its_keys_in_software_unless_told_otherwise()
    {
        var store = await Admin.CreateKeyStoreAsync(ManagementApi.Unique("sw"), "/" + ManagementApi.Unique("sw"));
        Assert.Equal("software", (string?)store["backend"]);
    }

    [Fact]
    public async Task An_unknown_backend_is_a_400_problem_and_creates_nothing()
    {
        var name = ManagementApi.Unique("bk");
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name, backend = "tpm" });
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("pkcs11", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain(name, (await Admin.GetStringAsync("/api/v1/keystores")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_pkcs11_key_store_on_a_node_without_a_token_is_a_400_problem_and_creates_nothing()
    {
        var name = ManagementApi.Unique("hsm");
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name, backend = "pkcs11" });
        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains("no 'pkcs11' backend", (string?)problem["detail"], StringComparison.Ordinal);
        Assert.DoesNotContain(name, (await Admin.GetStringAsync("/api/v1/keystores")), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Duplicate_name_is_a_409_problem()
    {
        var name = ManagementApi.Unique("dup");
        await Admin.CreateKeyStoreAsync(name, "/" + name);
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name + "-other" });
        await response.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task Duplicate_prefix_is_a_409_problem()
    {
        var name = ManagementApi.Unique("dup");
        await Admin.CreateKeyStoreAsync(name, "/" + name);
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name = name + "-other", uriPrefix = name + "/" });
        await response.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Fact]
    public async Task The_demo_prefix_cannot_be_taken_again()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("ks"), uriPrefix = "/demo" });
        await response.ProblemAsync(HttpStatusCode.Conflict);
    }

    [Theory]
    [InlineData("/a b")]
    [InlineData("/a.b")]
    [InlineData("/a//b")]
    [InlineData("/a?b=1")]
    [InlineData("/a%2Fb")]
    [InlineData("/ä")]
    [InlineData("/a\\b")]
    [InlineData("/tenant/kms/xks/v1")]
    public async Task Invalid_prefix_is_a_400_problem(string prefix)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("bad"), uriPrefix = prefix });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task XksProxyUriPath_of_128_characters_is_accepted_and_of_129_is_a_400_problem()
    {
        // 128 = "/" + 116 characters + "/kms/xks/v1" (11).
        var longest = "/" + ManagementApi.Unique("p").PadRight(116, 'x');
        var store = await Admin.CreateKeyStoreAsync(ManagementApi.Unique("long"), longest);
        Assert.Equal(128, ((string)store["xksProxyUriPath"]!).Length);

        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("long"), uriPrefix = "/" + ManagementApi.Unique("p").PadRight(117, 'x') });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Missing_uriPrefix_is_a_400_problem()
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("ks") });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("with space")]
    [InlineData("slash/name")]
    [InlineData("ünïcode")]
    [InlineData("n-6789012345678901234567890123456789012345678901234567890123456789")]
    public async Task Invalid_name_is_a_400_problem(string? name)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + ManagementApi.Unique("p") });
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task List_shows_created_key_stores_with_their_counts()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        await Admin.AddCredentialAsync(id);
        await Admin.CreateKeyAsync(id, new { name = "k1" });

        var listed = (await Admin.GetJsonAsync("/api/v1/keystores")).AsArray();
        var mine = Assert.Single(listed, s => (string?)s!["id"] == id)!;
        Assert.Equal((string?)store["name"], (string?)mine["name"]);
        Assert.Equal(1, (int?)mine["keyCount"]);
        Assert.Equal(1, (int?)mine["liveCredentialCount"]);
        Assert.Contains(listed, s => (string?)s!["name"] == "demo" && (string?)s["uriPrefix"] == "/demo");
    }

    [Fact]
    public async Task Show_unknown_key_store_is_a_404_problem()
    {
        using var response = await Admin.GetAsync("/api/v1/keystores/ks_doesnotexist");
        await response.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_an_empty_key_store_removes_it_and_its_credentials()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        await Admin.AddCredentialAsync(id);

        using (var deleted = await Admin.DeleteAsync($"/api/v1/keystores/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        using var shown = await Admin.GetAsync($"/api/v1/keystores/{id}");
        await shown.ProblemAsync(HttpStatusCode.NotFound);
        using var credentials = await Admin.GetAsync($"/api/v1/keystores/{id}/credentials");
        await credentials.ProblemAsync(HttpStatusCode.NotFound);

        // Its prefix is free again.
        await Admin.CreateKeyStoreAsync(ManagementApi.Unique("again"), (string)store["uriPrefix"]!);
    }

    [Fact]
    public async Task Deleting_a_key_store_with_keys_is_a_409_problem()
    {
        var id = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        await Admin.CreateKeyAsync(id, new { name = "keeps-the-store" });

        using var response = await Admin.DeleteAsync($"/api/v1/keystores/{id}");
        await response.ProblemAsync(HttpStatusCode.Conflict);
        await Admin.GetJsonAsync($"/api/v1/keystores/{id}");
    }

    [Fact]
    public async Task Deleting_an_unknown_key_store_is_a_404_problem()
    {
        using var response = await Admin.DeleteAsync("/api/v1/keystores/ks_doesnotexist");
        await response.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Deleting_a_key_store_twice_is_a_404_problem_the_second_time()
    {
        var id = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using (var first = await Admin.DeleteAsync($"/api/v1/keystores/{id}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, first.StatusCode);
        }

        using var second = await Admin.DeleteAsync($"/api/v1/keystores/{id}");
        await second.ProblemAsync(HttpStatusCode.NotFound);
    }
}
