using Coffer.Testing;
using System.Net;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Coffer.Server.Tests.Tls;

namespace Coffer.Server.Tests.Management;

/// <summary>/api/v1/keystores/{id}/credentials: the SigV4 credentials AWS KMS signs with (XKS spec,
/// "Authentication": access key id 20..30 of [A-Z2-7], secret 43..64 of [A-Za-z0-9+/=]; the
/// console imports {XksProxyUriPath, XksProxyAuthenticationCredential{AccessKeyId, RawSecretAccessKey}}).</summary>
public sealed partial class CredentialTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    [GeneratedRegex("^[A-Z2-7]{20,30}$")]
    private static partial Regex AccessKeyIdPattern();

    [GeneratedRegex("^[A-Za-z0-9+/=]{43,64}$")]
    private static partial Regex SecretPattern();

    [Fact]
    public async Task Adding_a_credential_returns_a_spec_shaped_access_key_id_and_secret_once()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        using var response = await Admin.PostAsync($"/api/v1/keystores/{id}/credentials", null);
        var created = await response.JsonAsync(HttpStatusCode.Created);

        var credentialId = (string)created["id"]!;
        Assert.Equal(id, (string?)created["keyStoreId"]);
        Assert.Matches(AccessKeyIdPattern(), (string)created["accessKeyId"]!);
        Assert.Matches(SecretPattern(), (string)created["secretAccessKey"]!);
        Assert.True(Convert.FromBase64String((string)created["secretAccessKey"]!).Length * 8 >= 256, "secret below 256 bits");
        Assert.Equal($"/api/v1/keystores/{id}/credentials/{credentialId}", response.Headers.Location?.OriginalString);

        var second = await Admin.AddCredentialAsync(id);
        Assert.NotEqual((string?)created["accessKeyId"], (string?)second["accessKeyId"]);
        Assert.NotEqual((string?)created["secretAccessKey"], (string?)second["secretAccessKey"]);
        Assert.Equal(2, (int?)(await Admin.GetJsonAsync($"/api/v1/keystores/{id}"))["liveCredentialCount"]);
    }

    [Fact]
    public async Task Listing_credentials_never_shows_a_secret()
    {
        var id = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var first = await Admin.AddCredentialAsync(id);
        var second = await Admin.AddCredentialAsync(id);

        using var response = await Admin.GetAsync($"/api/v1/keystores/{id}/credentials");
        var text = await response.Content.ReadAsStringAsync();
        var list = JsonNode.Parse(text)!.AsArray();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal(2, list.Count);
        foreach (var created in new[] { first, second })
        {
            var secret = (string)created["secretAccessKey"]!;
            Assert.DoesNotContain(secret, text, StringComparison.Ordinal);
            Assert.DoesNotContain(secret[..16], text, StringComparison.Ordinal);
            var listed = Assert.Single(list, c => (string?)c!["id"] == (string?)created["id"])!;
            Assert.Equal((string?)created["accessKeyId"], (string?)listed["accessKeyId"]);
            Assert.Equal("live", (string?)listed["status"]);
            Assert.Null(listed["revokedAt"]);
        }

        foreach (var listed in list)
        {
            var members = listed!.AsObject().Select(p => p.Key).ToHashSet(StringComparer.OrdinalIgnoreCase);
            Assert.DoesNotContain(members, m => m.Contains("secret", StringComparison.OrdinalIgnoreCase));
        }
    }

    [Fact]
    public async Task Credentials_of_an_unknown_key_store_are_a_404_problem()
    {
        using var list = await Admin.GetAsync("/api/v1/keystores/ks_doesnotexist/credentials");
        await list.ProblemAsync(HttpStatusCode.NotFound);
        using var add = await Admin.PostAsync("/api/v1/keystores/ks_doesnotexist/credentials", null);
        await add.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Aws_config_has_exactly_the_console_fields_with_the_secret_shown_at_creation()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        var created = await Admin.AddCredentialAsync(id);

        using var response = await Admin.GetAsync($"/api/v1/keystores/{id}/credentials/{created["id"]}/aws-config");
        var config = (await response.JsonAsync(HttpStatusCode.OK)).AsObject();

        Assert.Equal(["XksProxyUriPath", "XksProxyAuthenticationCredential"], config.Select(p => p.Key).ToArray());
        Assert.Equal((string?)store["uriPrefix"] + "/kms/xks/v1", (string?)config["XksProxyUriPath"]);
        var credential = config["XksProxyAuthenticationCredential"]!.AsObject();
        Assert.Equal(["AccessKeyId", "RawSecretAccessKey"], credential.Select(p => p.Key).ToArray());
        Assert.Equal((string?)created["accessKeyId"], (string?)credential["AccessKeyId"]);
        Assert.Equal((string?)created["secretAccessKey"], (string?)credential["RawSecretAccessKey"]);
    }

    [Fact]
    public async Task Aws_config_of_the_empty_prefix_is_the_bare_path()
    {
        // Only this test of the class takes the empty prefix (one key store can hold it).
        var id = (string)(await Admin.CreateKeyStoreAsync(ManagementApi.Unique("bare"), ""))["id"]!;
        var created = await Admin.AddCredentialAsync(id);

        var config = await Admin.GetJsonAsync($"/api/v1/keystores/{id}/credentials/{created["id"]}/aws-config");
        Assert.Equal("/kms/xks/v1", (string?)config["XksProxyUriPath"]);
    }

    [Fact]
    public async Task Revoking_a_credential_makes_it_not_live_and_a_second_revoke_is_a_404_problem()
    {
        var id = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var kept = await Admin.AddCredentialAsync(id);
        var revoked = await Admin.AddCredentialAsync(id);
        var path = $"/api/v1/keystores/{id}/credentials/{revoked["id"]}";

        using (var response = await Admin.DeleteAsync(path))
        {
            Assert.Equal(HttpStatusCode.NoContent, response.StatusCode);
        }

        var list = (await Admin.GetJsonAsync($"/api/v1/keystores/{id}/credentials")).AsArray();
        var listed = Assert.Single(list, c => (string?)c!["id"] == (string?)revoked["id"])!;
        Assert.Equal("revoked", (string?)listed["status"]);
        Assert.NotNull(listed["revokedAt"]);
        Assert.Equal("live", (string?)list.Single(c => (string?)c!["id"] == (string?)kept["id"])!["status"]);
        Assert.Equal(1, (int?)(await Admin.GetJsonAsync($"/api/v1/keystores/{id}"))["liveCredentialCount"]);

        using var again = await Admin.DeleteAsync(path);
        await again.ProblemAsync(HttpStatusCode.NotFound);
        using var config = await Admin.GetAsync(path + "/aws-config");
        await config.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task Revoking_an_unknown_credential_is_a_404_problem()
    {
        var id = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        using var response = await Admin.DeleteAsync($"/api/v1/keystores/{id}/credentials/cred_doesnotexist");
        await response.ProblemAsync(HttpStatusCode.NotFound);
        using var config = await Admin.GetAsync($"/api/v1/keystores/{id}/credentials/cred_doesnotexist/aws-config");
        await config.ProblemAsync(HttpStatusCode.NotFound);
    }

    [Fact]
    public async Task A_credential_is_reachable_only_through_its_own_key_store()
    {
        var a = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var b = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var ofB = await Admin.AddCredentialAsync(b);

        using var config = await Admin.GetAsync($"/api/v1/keystores/{a}/credentials/{ofB["id"]}/aws-config");
        await config.ProblemAsync(HttpStatusCode.NotFound);
        using var revoke = await Admin.DeleteAsync($"/api/v1/keystores/{a}/credentials/{ofB["id"]}");
        await revoke.ProblemAsync(HttpStatusCode.NotFound);
        Assert.Empty((await Admin.GetJsonAsync($"/api/v1/keystores/{a}/credentials")).AsArray());
        Assert.Equal("live", (string?)(await Admin.GetJsonAsync($"/api/v1/keystores/{b}/credentials")).AsArray().Single()!["status"]);
    }

    [Fact]
    public async Task New_credential_signs_XKS_calls_at_once_and_stops_when_revoked()
    {
        // XKS spec: at least two credentials per key store at once; changes take effect without restart.
        var store = await Admin.CreateKeyStoreAsync();
        var id = (string)store["id"]!;
        await Admin.CreateKeyAsync(id, new { name = "live-key" });
        var first = await Admin.AddCredentialAsync(id);
        var second = await Admin.AddCredentialAsync(id);
        var url = shared.Node.XksUrl.ToString().TrimEnd('/') + (string)store["xksProxyUriPath"]! + "/keys/live-key/metadata";

        foreach (var credential in new[] { first, second })
        {
            var ok = await Curl.XksAsync(url, (string)credential["accessKeyId"]!, (string)credential["secretAccessKey"]!, Curl.MetadataBody());
            Assert.True(ok.HttpStatus == 200, $"{ok.HttpStatus} {ok.Body} {ok.Error}");
        }

        using (var revoke = await Admin.DeleteAsync($"/api/v1/keystores/{id}/credentials/{first["id"]}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revoke.StatusCode);
        }

        var rejected = await Curl.XksAsync(url, (string)first["accessKeyId"]!, (string)first["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal(401, rejected.HttpStatus);
        Assert.Contains("AuthenticationFailedException", rejected.Body, StringComparison.Ordinal);
        var still = await Curl.XksAsync(url, (string)second["accessKeyId"]!, (string)second["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal(200, still.HttpStatus);
    }

    [Fact]
    public async Task A_credential_of_one_key_store_does_not_sign_for_another()
    {
        var a = await Admin.CreateKeyStoreAsync();
        var b = await Admin.CreateKeyStoreAsync();
        await Admin.CreateKeyAsync((string)b["id"]!, new { name = "k" });
        var ofA = await Admin.AddCredentialAsync((string)a["id"]!);
        var url = shared.Node.XksUrl.ToString().TrimEnd('/') + (string)b["xksProxyUriPath"]! + "/keys/k/metadata";

        var result = await Curl.XksAsync(url, (string)ofA["accessKeyId"]!, (string)ofA["secretAccessKey"]!, Curl.MetadataBody());
        Assert.Equal(401, result.HttpStatus);
    }
}
