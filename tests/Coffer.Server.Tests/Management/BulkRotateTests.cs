using Coffer.Testing;
using System.Net;
using System.Text.Json.Nodes;

namespace Coffer.Server.Tests.Management;

/// <summary>
/// POST /api/v1/keys/rotate ("rotate many at once … with a dry-run that lists what would
/// rotate"): the filter picks exactly the keys it names, a dry run changes nothing, and each rotation
/// is its own audited change with a per-key outcome.
/// </summary>
public sealed class BulkRotateTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    /// <summary>Two key stores; keys a1 and b1 carry the tag team=T, a2 carries team=other.</summary>
    private async Task<(string StoreA, string Team, string A1, string A2, string B1)> KeysAsync()
    {
        var team = ManagementApi.Unique("team");
        var storeA = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var storeB = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        async Task<string> KeyAsync(string store, string name, string value) =>
            (string)(await Admin.CreateKeyAsync(store, new { name = ManagementApi.Unique(name), tags = new Dictionary<string, string> { ["team"] = value } }))["id"]!;
        return (storeA, team, await KeyAsync(storeA, "a1", team), await KeyAsync(storeA, "a2", "other-" + team), await KeyAsync(storeB, "b1", team));
    }

    private async Task<JsonNode> RotateAsync(object body, HttpStatusCode expected = HttpStatusCode.OK)
    {
        using var response = await Admin.PostJsonAsync("/api/v1/keys/rotate", body);
        return expected == HttpStatusCode.OK ? await response.JsonAsync(expected) : await response.ProblemAsync(expected);
    }

    private async Task<int> CurrentVersionAsync(string keyId) => (int)(await Admin.GetJsonAsync($"/api/v1/keys/{keyId}"))["currentVersion"]!;

    private async Task<JsonArray> RecordsAsync(string keyId) =>
        (await Admin.GetJsonAsync($"/api/v1/audit/records?keyId={keyId}&limit=1000"))["records"]!.AsArray();

    [Fact]
    public async Task A_dry_run_lists_what_would_rotate_and_changes_nothing()
    {
        var (storeA, team, a1, _, b1) = await KeysAsync();

        var answer = await RotateAsync(new { keyStoreId = storeA, tag = "team=" + team, dryRun = true });

        Assert.True((bool)answer["dryRun"]!);
        var item = Assert.Single(answer["keys"]!.AsArray())!;
        Assert.Equal((a1, 1, 2, "would-rotate"), ((string)item["keyId"]!, (int)item["fromVersion"]!, (int)item["toVersion"]!, (string)item["outcome"]!));
        Assert.Equal(0, (int)answer["rotated"]!);
        Assert.Equal(1, await CurrentVersionAsync(a1));
        Assert.Equal(1, await CurrentVersionAsync(b1));
        Assert.DoesNotContain(await RecordsAsync(a1), r => (string?)r!["action"] == "key.rotate");
    }

    [Fact]
    public async Task A_real_run_rotates_exactly_the_matching_keys_across_key_stores_each_its_own_audited_change()
    {
        var (_, team, a1, a2, b1) = await KeysAsync();

        var answer = await RotateAsync(new { tag = "team=" + team });

        Assert.Equal(2, (int)answer["rotated"]!);
        Assert.Equal(0, (int)answer["failed"]!);
        Assert.Equal(new[] { a1, b1 }.Order(StringComparer.Ordinal), answer["keys"]!.AsArray().Select(k => (string)k!["keyId"]!));
        Assert.All(answer["keys"]!.AsArray(), k => Assert.Equal(("rotated", 2), ((string)k!["outcome"]!, (int)k["toVersion"]!)));
        Assert.Equal((2, 1, 2), (await CurrentVersionAsync(a1), await CurrentVersionAsync(a2), await CurrentVersionAsync(b1)));
        foreach (var key in new[] { a1, b1 })
        {
            var rotations = (await RecordsAsync(key)).Where(r => (string?)r!["action"] == "key.rotate").ToList();
            Assert.Equal(["ok", "requested"], rotations.Select(r => (string?)r!["outcome"]));
            Assert.Equal(2, (int?)rotations[0]!["keyVersion"]);
        }

        Assert.DoesNotContain(await RecordsAsync(a2), r => (string?)r!["action"] == "key.rotate");
    }

    [Fact]
    public async Task Key_ids_and_a_name_prefix_narrow_the_choice_and_a_key_waiting_for_destruction_is_skipped()
    {
        var (storeA, _, a1, a2, _) = await KeysAsync();
        using (var schedule = await Admin.PostJsonAsync($"/api/v1/keys/{a2}/schedule-destruction", new { waitingPeriodDays = 7 }))
        {
            await schedule.JsonAsync(HttpStatusCode.OK);
        }

        var answer = await RotateAsync(new { keyStoreId = storeA, keyIds = new[] { a1, a2 } });
        var byPrefix = await RotateAsync(new { keyStoreId = storeA, namePrefix = "a1-", dryRun = true });

        var skipped = answer["keys"]!.AsArray().Single(k => (string?)k!["keyId"] == a2)!;
        Assert.Equal("skipped", (string?)skipped["outcome"]);
        Assert.Contains("scheduled for destruction", (string?)skipped["error"], StringComparison.Ordinal);
        Assert.Equal((1, 1), ((int)answer["rotated"]!, (int)answer["skipped"]!));
        Assert.Equal(1, await CurrentVersionAsync(a2));
        Assert.Equal(a1, (string?)Assert.Single(byPrefix["keys"]!.AsArray())!["keyId"]);
    }

    [Fact]
    public async Task A_request_without_a_clear_filter_or_naming_what_does_not_exist_is_refused_and_changes_nothing()
    {
        var (storeA, _, a1, _, _) = await KeysAsync();

        await RotateAsync(new { dryRun = false }, HttpStatusCode.BadRequest);
        await RotateAsync(new { all = true, keyStoreId = storeA }, HttpStatusCode.BadRequest);
        await RotateAsync(new { keyStoreId = storeA, tag = "" }, HttpStatusCode.BadRequest);
        await RotateAsync(new { keyIds = Array.Empty<string>() }, HttpStatusCode.BadRequest);
        await RotateAsync(new { keyStoreId = "ks_nope" }, HttpStatusCode.NotFound);
        var unknown = await RotateAsync(new { keyIds = new[] { a1, "key_nope" } }, HttpStatusCode.NotFound);

        Assert.Contains("key_nope", (string?)unknown["detail"], StringComparison.Ordinal);
        Assert.Equal(1, await CurrentVersionAsync(a1));
    }

    [Fact]
    public async Task All_true_takes_every_key_in_a_dry_run()
    {
        var (_, _, a1, a2, b1) = await KeysAsync();

        var answer = await RotateAsync(new { all = true, dryRun = true });

        var ids = answer["keys"]!.AsArray().Select(k => (string)k!["keyId"]!).ToHashSet();
        Assert.Superset(new HashSet<string> { a1, a2, b1 }, ids);
        Assert.Equal(1, await CurrentVersionAsync(a1));
    }
}
