using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// Rotation policies and version dates through the management API: set, show, clear, a
/// key's own policy over its key store's, input refused as a 400 problem that changes nothing, state
/// refusals as 409, and every change an audit record.
/// </summary>
public sealed class RotationPolicyTests(FakeClockNode shared) : IClassFixture<FakeClockNode>
{
    private HttpClient Admin => shared.Node.Admin;

    private async Task<(string Store, string Key)> NewKeyAsync()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        return (store, (string)(await Admin.CreateKeyAsync(store, new { name = ManagementApi.Unique("rot") }))["id"]!);
    }

    private static JsonNode Version(JsonNode key, int version) => key["versions"]!.AsArray().Single(v => (int)v!["version"]! == version)!;

    [Fact]
    public async Task A_keys_policy_is_set_shown_with_its_next_rotation_and_cleared()
    {
        var (_, key) = await NewKeyAsync();
        var now = shared.Time.GetUtcNow();

        using var put = await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/rotation-policy", new { intervalDays = 30, rotateBeforeExpiryDays = 5 });
        var set = await put.JsonAsync(HttpStatusCode.OK);
        var shown = await Admin.GetJsonAsync($"/api/v1/keys/{key}/rotation-policy");

        Assert.Equal(set.ToJsonString(), shown.ToJsonString());
        Assert.Equal("key", (string?)shown["scope"]);
        Assert.Equal(key, (string?)shown["targetId"]);
        Assert.Equal(30, (int)shown["intervalDays"]!);
        Assert.Equal(5, (int)shown["rotateBeforeExpiryDays"]!);
        Assert.Equal("every 30 days, 5 days before expiry", (string?)shown["description"]);
        Assert.Equal(now.AddDays(30), (DateTimeOffset)shown["nextRotationAt"]!);

        using var delete = await Admin.DeleteAsync($"/api/v1/keys/{key}/rotation-policy");
        Assert.Equal(HttpStatusCode.NoContent, delete.StatusCode);
        using var gone = await Admin.GetAsync($"/api/v1/keys/{key}/rotation-policy");
        Assert.Contains("no rotation policy", (string?)(await gone.ProblemAsync(HttpStatusCode.NotFound))["detail"], StringComparison.Ordinal);
        using var again = await Admin.DeleteAsync($"/api/v1/keys/{key}/rotation-policy");
        await again.ProblemAsync(HttpStatusCode.NotFound);

        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?keyId={key}&limit=100"))["records"]!.AsArray();
        Assert.Contains(records, r => (string?)r!["action"] == "key.rotation-policy.set" && (string?)r["outcome"] == "ok");
        Assert.Contains(records, r => (string?)r!["action"] == "key.rotation-policy.clear" && (string?)r["outcome"] == "ok");
    }

    [Fact]
    public async Task A_key_follows_its_key_stores_policy_until_it_has_its_own()
    {
        var (store, key) = await NewKeyAsync();
        using (var put = await Admin.PutAsJsonAsync($"/api/v1/keystores/{store}/rotation-policy", new { timeOfDay = "02:30", dayOfWeek = "sunday" }))
        {
            var view = await put.JsonAsync(HttpStatusCode.OK);
            Assert.Equal("on Sunday at 02:30 UTC", (string?)view["description"]);
            Assert.Equal("Sunday", (string?)view["dayOfWeek"]);
        }

        var inherited = await Admin.GetJsonAsync($"/api/v1/keys/{key}/rotation-policy");
        Assert.Equal("keystore", (string?)inherited["scope"]);
        Assert.Equal(store, (string?)inherited["targetId"]);
        // FakeClockNode starts on Saturday 2026-11-28.
        Assert.Equal(new DateTimeOffset(2026, 11, 29, 2, 30, 0, TimeSpan.Zero), (DateTimeOffset)inherited["nextRotationAt"]!);

        (await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/rotation-policy", new { intervalDays = 1 })).Dispose();
        Assert.Equal("key", (string?)(await Admin.GetJsonAsync($"/api/v1/keys/{key}/rotation-policy"))["scope"]);
        (await Admin.DeleteAsync($"/api/v1/keys/{key}/rotation-policy")).Dispose();
        Assert.Equal("keystore", (string?)(await Admin.GetJsonAsync($"/api/v1/keys/{key}/rotation-policy"))["scope"]);

        using var deleteStore = await Admin.DeleteAsync($"/api/v1/keystores/{store}/rotation-policy");
        Assert.Equal(HttpStatusCode.NoContent, deleteStore.StatusCode);
        using var none = await Admin.GetAsync($"/api/v1/keystores/{store}/rotation-policy");
        await none.ProblemAsync(HttpStatusCode.NotFound);
        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?keyStore={store}&limit=100"))["records"]!.AsArray();
        Assert.Contains(records, r => (string?)r!["action"] == "keystore.rotation-policy.set" && (string?)r["outcome"] == "ok");
    }

    [Theory]
    [InlineData("{\"intervalDays\":0}", "intervalDays is 1")]
    [InlineData("{\"intervalDays\":-3}", "intervalDays is 1")]
    [InlineData("{\"intervalDays\":7,\"timeOfDay\":\"02:00\"}", "not both")]
    [InlineData("{\"timeOfDay\":\"25:00\"}", "timeOfDay is \"HH:mm\"")]
    [InlineData("{\"timeOfDay\":\"2am\"}", "timeOfDay is \"HH:mm\"")]
    [InlineData("{\"timeOfDay\":\"02:00\",\"dayOfWeek\":\"Funday\"}", "dayOfWeek is one of")]
    [InlineData("{\"dayOfWeek\":\"3\"}", "dayOfWeek is one of")]
    [InlineData("{\"rotateBeforeExpiryDays\":0}", "rotateBeforeExpiryDays is 1")]
    [InlineData("{}", "needs intervalDays")]
    public async Task A_bad_policy_is_a_400_problem_and_changes_nothing(string body, string reason)
    {
        var (store, key) = await NewKeyAsync();

        foreach (var path in new[] { $"/api/v1/keys/{key}/rotation-policy", $"/api/v1/keystores/{store}/rotation-policy" })
        {
            using var response = await Admin.PutAsync(path, new StringContent(body, System.Text.Encoding.UTF8, "application/json"));
            Assert.Contains(reason, (string?)(await response.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
            using var after = await Admin.GetAsync(path);
            await after.ProblemAsync(HttpStatusCode.NotFound);
        }
    }

    [Fact]
    public async Task Policies_of_unknown_keys_and_key_stores_are_404_problems()
    {
        using var key = await Admin.PutAsJsonAsync("/api/v1/keys/key_none/rotation-policy", new { intervalDays = 1 });
        Assert.Contains("No key with id", (string?)(await key.ProblemAsync(HttpStatusCode.NotFound))["detail"], StringComparison.Ordinal);
        using var store = await Admin.GetAsync("/api/v1/keystores/ks_none/rotation-policy");
        Assert.Contains("No key store with id", (string?)(await store.ProblemAsync(HttpStatusCode.NotFound))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Dates_are_set_and_cleared_and_nonsense_is_refused_without_a_change()
    {
        var (_, key) = await NewKeyAsync();
        var now = shared.Time.GetUtcNow();

        using (var set = await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/versions/1/dates", new { deactivatesAt = now.AddDays(9) }))
        {
            var view = await set.JsonAsync(HttpStatusCode.OK);
            Assert.Equal(now.AddDays(9), (DateTimeOffset)Version(view, 1)["deactivatesAt"]!);
            Assert.True((bool)Version(view, 1)["encrypts"]!);
        }

        var before = (await Admin.GetJsonAsync($"/api/v1/keys/{key}")).ToJsonString();
        (object Body, HttpStatusCode Status, string Reason)[] refused =
        [
            (new { activatesAt = now.AddDays(2), deactivatesAt = now.AddDays(1) }, HttpStatusCode.BadRequest, "after activatesAt"),
            (new { deactivatesAt = now.AddDays(-1) }, HttpStatusCode.BadRequest, "in the future"),
            (new { activatesAt = now.AddDays(1) }, HttpStatusCode.Conflict, "Only a PreActive version has an activation date"),
        ];
        foreach (var (body, status, reason) in refused)
        {
            using var response = await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/versions/1/dates", body);
            Assert.Contains(reason, (string?)(await response.ProblemAsync(status))["detail"], StringComparison.Ordinal);
        }

        Assert.Equal(before, (await Admin.GetJsonAsync($"/api/v1/keys/{key}")).ToJsonString());

        using var clear = await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/versions/1/dates", new { });
        Assert.Null(Version(await clear.JsonAsync(HttpStatusCode.OK), 1)["deactivatesAt"]);
        var records = (await Admin.GetJsonAsync($"/api/v1/audit/records?keyId={key}&action=key.version.dates&limit=100"))["records"]!.AsArray();
        Assert.Contains(records, r => (string?)r!["outcome"] == "ok" && (int?)r["keyVersion"] == 1);
    }

    [Fact]
    public async Task Dates_on_a_version_awaiting_destruction_are_a_409()
    {
        var (_, key) = await NewKeyAsync();
        (await Admin.PostAsync($"/api/v1/keys/{key}/rotate", null)).Dispose();
        (await Admin.PostAsync($"/api/v1/keys/{key}/versions/1/schedule-destruction", null)).Dispose();

        using var response = await Admin.PutAsJsonAsync($"/api/v1/keys/{key}/versions/1/dates", new { deactivatesAt = shared.Time.GetUtcNow().AddDays(1) });

        Assert.Contains("scheduled for destruction", (string?)(await response.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_policy_and_dates_routes_are_in_the_OpenAPI_document()
    {
        var document = (await Admin.GetJsonAsync("/api/v1/openapi.json"))["paths"]!.AsObject();

        foreach (var path in new[] { "/api/v1/keys/{keyId}/rotation-policy", "/api/v1/keystores/{id}/rotation-policy" })
        {
            foreach (var method in new[] { "get", "put", "delete" })
            {
                Assert.False(string.IsNullOrWhiteSpace((string?)document[path]?[method]?["summary"]), $"{method} {path}");
            }
        }

        Assert.False(string.IsNullOrWhiteSpace((string?)document["/api/v1/keys/{keyId}/versions/{version}/dates"]?["put"]?["summary"]));
    }
}
