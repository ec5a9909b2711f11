using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// Users and apps with roles (on every key store or on one) and groups, tokens issued to
/// them, custom roles, and the guard that keeps an administrator, all through the real server.
/// </summary>
public sealed class IdentityTests(SharedNode fixture) : IClassFixture<SharedNode>
{
    private HttpClient Admin => fixture.Admin;

    [Fact]
    public async Task A_users_token_acts_as_the_user_with_its_roles_and_the_audit_record_names_the_user()
    {
        var user = await CreateAsync("users", new { name = "Alice", roles = new[] { new { role = "key-officer" } }, groups = new[] { "custodians" } });
        using var alice = await TokenClientAsync(user);

        var store = await alice.CreateKeyStoreAsync();
        using var engage = await alice.PostJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "not hers" });

        Assert.Equal(HttpStatusCode.Forbidden, engage.StatusCode);
        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?action=keystore.create&keyStore={(string)store["id"]!}"))["records"]!.AsArray();
        var record = Assert.Single(records, r => (string?)r!["outcome"] == "ok")!;
        Assert.Equal("user", (string?)record["actorKind"]);
        Assert.Equal((string)user["id"]!, (string?)record["actorId"]);
    }

    [Fact]
    public async Task A_role_scoped_to_a_key_store_reaches_that_key_store_and_its_keys_only()
    {
        var mine = await Admin.CreateKeyStoreAsync();
        var theirs = await Admin.CreateKeyStoreAsync();
        var mineId = (string)mine["id"]!;
        var theirsId = (string)theirs["id"]!;
        var theirKey = await Admin.CreateKeyAsync(theirsId, new { name = ManagementApi.Unique("k") });
        var app = await CreateAsync("apps", new { name = "team-a", roles = new[] { new { role = "key-officer", keyStoreId = mineId } } });
        using var team = await TokenClientAsync(app);

        var key = await team.CreateKeyAsync(mineId, new { name = ManagementApi.Unique("k") });
        using var rotate = await team.PostAsync($"/api/v1/keys/{(string)key["id"]!}/rotate", null);
        using var ownList = await team.GetAsync($"/api/v1/keys?keystore={mineId}");
        using var otherKey = await team.GetAsync($"/api/v1/keys/{(string)theirKey["id"]!}");
        using var otherCreate = await team.PostJsonAsync($"/api/v1/keystores/{theirsId}/keys", new { name = "x" });
        using var allKeys = await team.GetAsync("/api/v1/keys");
        using var allStores = await team.GetAsync("/api/v1/keystores");

        Assert.Equal(HttpStatusCode.OK, rotate.StatusCode);
        Assert.True(ownList.StatusCode == HttpStatusCode.OK, await ownList.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Forbidden, otherKey.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, otherCreate.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, allKeys.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, allStores.StatusCode);
        Assert.Contains("key-officer on " + mineId, (string)(await otherKey.ProblemAsync(HttpStatusCode.Forbidden))["detail"]!, StringComparison.Ordinal);
        Assert.DoesNotContain((await Admin.GetJsonAsync($"/api/v1/keys?keystore={theirsId}"))["keys"]!.AsArray(), k => (string?)k!["name"] == "x");
    }

    [Fact]
    public async Task A_custom_role_grants_exactly_its_permissions_and_a_change_applies_at_the_next_call()
    {
        var name = "reader-" + Guid.NewGuid().ToString("N")[..8];
        using (var put = await Admin.PutAsJsonAsync($"/api/v1/roles/{name}", new { description = "reads keys", permissions = new[] { "keys.read" } }))
        {
            await put.JsonAsync(HttpStatusCode.OK);
        }

        var app = await CreateAsync("apps", new { name = "reader", roles = new[] { new { role = name } } });
        using var reader = await TokenClientAsync(app);
        using var keys = await reader.GetAsync("/api/v1/keys");
        using var stores = await reader.GetAsync("/api/v1/keystores");
        Assert.Equal(HttpStatusCode.OK, keys.StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, stores.StatusCode);

        using (var widen = await Admin.PutAsJsonAsync($"/api/v1/roles/{name}", new { permissions = new[] { "keys.read", "keystores.read" } }))
        {
            await widen.JsonAsync(HttpStatusCode.OK);
        }

        using var storesAfter = await reader.GetAsync("/api/v1/keystores");
        using var deleteHeld = await Admin.DeleteAsync($"/api/v1/roles/{name}");
        using var builtIn = await Admin.PutAsJsonAsync("/api/v1/roles/auditor", new { permissions = new[] { "keys.read" } });
        using var unknown = await Admin.PutAsJsonAsync("/api/v1/roles/other-role", new { permissions = new[] { "keys.everything" } });
        var listed = (await Admin.GetJsonAsync("/api/v1/roles")).AsArray();

        Assert.Equal(HttpStatusCode.OK, storesAfter.StatusCode);
        Assert.Contains(app["id"]!.ToString(), (string)(await deleteHeld.ProblemAsync(HttpStatusCode.Conflict))["detail"]!, StringComparison.Ordinal);
        await builtIn.ProblemAsync(HttpStatusCode.Conflict);
        Assert.Contains("keys.read", (string)(await unknown.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!, StringComparison.Ordinal);
        Assert.Contains(listed, r => (string?)r!["name"] == name && r["builtIn"]!.GetValue<bool>() == false);
        Assert.Contains(listed, r => (string?)r!["name"] == "administrator" && r["permissions"]!.AsArray().Count > 10);
        Assert.Equal(HttpStatusCode.NotFound, (await Admin.GetAsync("/api/v1/roles/other-role")).StatusCode);
    }

    [Fact]
    public async Task Bad_principals_and_tokens_are_refused_with_the_field_at_fault_and_nothing_is_stored()
    {
        var before = (await Admin.GetJsonAsync("/api/v1/apps")).AsArray().Count;
        var cases = new (string Path, object Body, string Says)[]
        {
            ("/api/v1/apps", new { name = "" }, "name is required"),
            ("/api/v1/apps", new { name = "x", roles = new[] { new { role = "superuser" } } }, "Unknown role 'superuser'"),
            ("/api/v1/apps", new { name = "x", roles = new[] { new { role = "auditor", keyStoreId = "ks_nosuch" } } }, "No key store with id 'ks_nosuch'"),
            ("/api/v1/apps", new { name = "x", groups = new[] { "Bad Group" } }, "not a valid name"),
            ("/api/v1/apps", new { name = "x", roles = new object?[] { null } }, "null is not one"),
            ("/api/v1/apps", new { name = "x", oidcSubject = "abc" }, "oidcSubject is for users only"),
            ("/api/v1/tokens", new { name = "x" }, "Give either role"),
            ("/api/v1/tokens", new { name = "x", role = "auditor", owner = "app_x" }, "Give either role"),
            ("/api/v1/tokens", new { name = "x", owner = "app_nosuchapp" }, "No user or app with id 'app_nosuchapp'"),
        };

        foreach (var (path, body, says) in cases)
        {
            using var response = await Admin.PostJsonAsync(path, body);
            var status = says.StartsWith("No user", StringComparison.Ordinal) ? HttpStatusCode.NotFound : HttpStatusCode.BadRequest;
            Assert.Contains(says, (string)(await response.ProblemAsync(status))["detail"]!, StringComparison.Ordinal);
        }

        Assert.Equal(before, (await Admin.GetJsonAsync("/api/v1/apps")).AsArray().Count);
    }

    [Fact]
    public async Task Two_users_cannot_share_an_identity_provider_subject()
    {
        var subject = "sub-" + Guid.NewGuid().ToString("N");
        await CreateAsync("users", new { name = "Bob", oidcSubject = subject });
        using var second = await Admin.PostJsonAsync("/api/v1/users", new { name = "Robert", oidcSubject = subject });
        Assert.Contains("identity-provider subject", (string)(await second.ProblemAsync(HttpStatusCode.Conflict))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_disabled_user_is_locked_out_and_the_last_administrator_cannot_be_removed()
    {
        await using var node = await DevServer.StartAsync(); // its own: it revokes the root token
        var root = node.Admin;
        using var created = await root.PostJsonAsync("/api/v1/users", new { name = "Carol", roles = new[] { new { role = "administrator" } } });
        var carol = await created.JsonAsync(HttpStatusCode.Created);
        var carolId = (string)carol["id"]!;
        using var tokenResponse = await root.PostJsonAsync("/api/v1/tokens", new { name = "carol's laptop", owner = carolId });
        var token = await tokenResponse.JsonAsync(HttpStatusCode.Created);
        using var asCarol = ManagementApi.ClientWith(node, "Bearer " + (string)token["token"]!);

        // Carol is an administrator, so the root token may go; then Carol is the last one.
        var rootToken = (await asCarol.GetJsonAsync("/api/v1/tokens")).AsArray().Single(t => (string?)t!["role"] == "administrator")!;
        using (var revokeRoot = await asCarol.DeleteAsync($"/api/v1/tokens/{(string)rootToken["id"]!}"))
        {
            Assert.Equal(HttpStatusCode.NoContent, revokeRoot.StatusCode);
        }

        using var demote = await asCarol.PutAsJsonAsync($"/api/v1/users/{carolId}", new { name = "Carol", roles = new[] { new { role = "auditor" } } });
        using var disableSelf = await asCarol.PostAsync($"/api/v1/users/{carolId}/disable", null);
        using var revokeOwn = await asCarol.DeleteAsync($"/api/v1/tokens/{(string)token["id"]!}");
        await demote.ProblemAsync(HttpStatusCode.Conflict);
        await disableSelf.ProblemAsync(HttpStatusCode.Conflict);
        await revokeOwn.ProblemAsync(HttpStatusCode.Conflict);

        // A second administrator app lets Carol go; her token stops working at once.
        using var appResponse = await asCarol.PostJsonAsync("/api/v1/apps", new { name = "break-glass", roles = new[] { new { role = "administrator" } } });
        var app = await appResponse.JsonAsync(HttpStatusCode.Created);
        using var appToken = await asCarol.PostJsonAsync("/api/v1/tokens", new { name = "vault", owner = (string)app["id"]! });
        using var asApp = ManagementApi.ClientWith(node, "Bearer " + (string)(await appToken.JsonAsync(HttpStatusCode.Created))["token"]!);
        var disabled = await (await asApp.PostAsync($"/api/v1/users/{carolId}/disable", null)).JsonAsync(HttpStatusCode.OK);
        using var locked = await asCarol.GetAsync("/api/v1/keystores");
        using var noNewToken = await asApp.PostJsonAsync("/api/v1/tokens", new { name = "again", owner = carolId });

        Assert.NotNull((string?)disabled["disabledAt"]);
        Assert.Equal(HttpStatusCode.Unauthorized, locked.StatusCode);
        await noNewToken.ProblemAsync(HttpStatusCode.Conflict);
        var tokens = (await asApp.GetJsonAsync("/api/v1/tokens")).AsArray();
        Assert.NotNull(tokens.Single(t => (string?)t!["id"] == (string)token["id"]!)!["revokedAt"]);
        var failures = (await asApp.GetJsonAsync("/api/v1/audit/records?action=auth.failed"))["records"]!.AsArray();
        Assert.Contains(failures, r => (string?)r!["reason"] == "expired or revoked token");
    }

    [Fact]
    public async Task Whoami_answers_any_caller_with_its_roles_and_their_key_stores_names_and_no_secret()
    {
        var store = await Admin.CreateKeyStoreAsync();
        var storeId = (string)store["id"]!;
        var user = await CreateAsync("users", new
        {
            name = "Dora",
            roles = new object[] { new { role = "key-officer", keyStoreId = storeId }, new { role = "auditor" } },
            groups = new[] { "custodians" },
        });
        using var issued = await Admin.PostJsonAsync("/api/v1/tokens", new { name = "dora's laptop", owner = (string)user["id"]! });
        var token = await issued.JsonAsync(HttpStatusCode.Created);
        using var dora = ManagementApi.ClientWith(fixture.Node, "Bearer " + (string)token["token"]!);

        using var response = await dora.GetAsync("/api/v1/sys/whoami");
        var text = await response.Content.ReadAsStringAsync();

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var expected = new JsonObject
        {
            ["id"] = (string)user["id"]!,
            ["kind"] = "user",
            ["name"] = "Dora",
            ["grants"] = new JsonArray(
                new JsonObject { ["role"] = "key-officer", ["keyStoreId"] = storeId, ["keyStoreName"] = (string)store["name"]!, ["permissions"] = PermissionsOf("key-officer") },
                new JsonObject { ["role"] = "auditor", ["permissions"] = PermissionsOf("auditor") }),
            ["groups"] = new JsonArray("custodians"),
            ["tokenId"] = (string)token["id"]!,
        };
        Assert.True(JsonNode.DeepEquals(expected, JsonNode.Parse(text)), text);
        Assert.DoesNotContain((string)token["token"]!, text, StringComparison.Ordinal);
    }

    // The role tables themselves are checked against every endpoint by PermissionMatrixTests.
    private static JsonArray PermissionsOf(string role) =>
        new([.. Coffer.Auth.Roles.PermissionsOf(role).Order(StringComparer.Ordinal).Select(p => (JsonNode)p)]);

    [Fact]
    public async Task Whoami_of_a_bare_token_is_the_token_and_without_a_token_is_refused()
    {
        using var issued = await Admin.PostJsonAsync("/api/v1/tokens", new { name = "night shift", role = "operator" });
        var token = await issued.JsonAsync(HttpStatusCode.Created);
        using var bare = ManagementApi.ClientWith(fixture.Node, "Bearer " + (string)token["token"]!);
        using var anonymous = ManagementApi.ClientWith(fixture.Node, null);

        var me = await (await bare.GetAsync("/api/v1/sys/whoami")).JsonAsync(HttpStatusCode.OK);
        using var refused = await anonymous.GetAsync("/api/v1/sys/whoami");

        Assert.Equal((string)token["id"]!, (string?)me["id"]);
        Assert.Equal("token", (string?)me["kind"]);
        Assert.Equal("night shift", (string?)me["name"]);
        Assert.Equal("operator", (string?)me["grants"]![0]!["role"]);
        Assert.Equal((string)token["id"]!, (string?)me["tokenId"]);
        Assert.Contains("valid management token", (string)(await refused.ProblemAsync(HttpStatusCode.Unauthorized))["detail"]!, StringComparison.Ordinal);
    }

    private async Task<JsonNode> CreateAsync(string kind, object body)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/" + kind, body);
        return await response.JsonAsync(HttpStatusCode.Created);
    }

    private async Task<HttpClient> TokenClientAsync(JsonNode owner)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/tokens", new { name = "test", owner = (string)owner["id"]! });
        var created = await response.JsonAsync(HttpStatusCode.Created);
        Assert.Equal((string)owner["id"]!, (string?)created["owner"]);
        return ManagementApi.ClientWith(fixture.Node, "Bearer " + (string)created["token"]!);
    }
}
