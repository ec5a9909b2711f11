using Coffer.Testing;
using System.Net;

namespace Coffer.Server.Tests.Management;

/// <summary>GET /api/v1/keys: filters (keystore, q, tag, enabled) and keyset paging (limit, next).</summary>
public sealed class KeyListingTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private HttpClient Admin => shared.Admin;

    [Fact]
    public async Task Paging_with_limit_10_walks_25_keys_in_three_pages_without_repeats()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var created = new HashSet<string>();
        for (var i = 0; i < 25; i++)
        {
            created.Add((string)(await Admin.CreateKeyAsync(store, new { name = $"paged-{i:D2}" }))["id"]!);
        }

        var seen = new List<string>();
        var sizes = new List<int>();
        string? next = null;
        do
        {
            var page = await Admin.GetJsonAsync($"/api/v1/keys?keystore={store}&limit=10" + (next is null ? "" : "&after=" + Uri.EscapeDataString(next)));
            var keys = page["keys"]!.AsArray();
            sizes.Add(keys.Count);
            seen.AddRange(keys.Select(k => (string)k!["id"]!));
            Assert.All(keys, k => Assert.Null(k!["versions"]));
            next = (string?)page["next"];
        }
        while (next is not null && sizes.Count < 10);

        Assert.Equal([10, 10, 5], sizes);
        Assert.Equal(25, seen.Distinct().Count());
        Assert.True(created.SetEquals(seen));
        Assert.Equal(seen.Order(StringComparer.Ordinal), seen);
    }

    [Fact]
    public async Task Exactly_a_full_last_page_has_no_next()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        for (var i = 0; i < 4; i++)
        {
            await Admin.CreateKeyAsync(store, new { name = $"k{i}" });
        }

        var first = await Admin.GetJsonAsync($"/api/v1/keys?keystore={store}&limit=2");
        var second = await Admin.GetJsonAsync($"/api/v1/keys?keystore={store}&limit=2&after={first["next"]}");
        Assert.Equal(2, second["keys"]!.AsArray().Count);
        Assert.Null(second["next"]);
        var all = await Admin.GetJsonAsync($"/api/v1/keys?keystore={store}&limit=4");
        Assert.Null(all["next"]);
    }

    [Fact]
    public async Task Filters_by_key_store_text_tag_and_enabled()
    {
        var store = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        var other = (string)(await Admin.CreateKeyStoreAsync())["id"]!;
        await Admin.CreateKeyAsync(store, new { name = "billing-prod", description = "Invoices", tags = new Dictionary<string, string> { ["env"] = "prod", ["team"] = "billing" } });
        var billingTest = await Admin.CreateKeyAsync(store, new { name = "billing-test", description = "invoices (test)", tags = new Dictionary<string, string> { ["env"] = "test" } });
        await Admin.CreateKeyAsync(store, new { name = "hr", description = "People data", tags = new Dictionary<string, string> { ["team"] = "hr" } });
        await Admin.CreateKeyAsync(other, new { name = "billing-prod", tags = new Dictionary<string, string> { ["env"] = "prod" } });
        using (var disable = await Admin.PostAsync($"/api/v1/keys/{billingTest["id"]}/disable", null))
        {
            await disable.JsonAsync(HttpStatusCode.OK);
        }

        async Task<string[]> Names(string query) =>
            [.. (await Admin.GetJsonAsync("/api/v1/keys?" + query))["keys"]!.AsArray().Select(k => $"{k!["keyStoreId"]}:{k["name"]}").Order()];
        string In(string s, string name) => $"{s}:{name}";

        Assert.Equal([In(store, "billing-prod"), In(store, "billing-test"), In(store, "hr")], await Names($"keystore={store}"));
        Assert.Equal([In(other, "billing-prod")], await Names($"keystore={other}"));
        Assert.Equal([In(store, "billing-prod"), In(store, "billing-test")], await Names($"keystore={store}&q=BILLING"));
        Assert.Equal([In(store, "billing-prod"), In(store, "billing-test")], await Names($"keystore={store}&q=invoices"));
        Assert.Equal([In(store, "hr")], await Names($"keystore={store}&q=people"));
        Assert.Empty(await Names($"keystore={store}&q=%25"));
        Assert.Empty(await Names($"keystore={store}&q=_"));
        Assert.Equal([In(store, "billing-prod"), In(store, "billing-test")], await Names($"keystore={store}&tag=env"));
        Assert.Equal([In(store, "billing-prod")], await Names($"keystore={store}&tag=" + Uri.EscapeDataString("env=prod")));
        Assert.Equal([In(store, "hr")], await Names($"keystore={store}&tag=" + Uri.EscapeDataString("team=hr")));
        Assert.Empty(await Names($"keystore={store}&tag=" + Uri.EscapeDataString("env=staging")));
        Assert.Equal([In(store, "billing-test")], await Names($"keystore={store}&enabled=false"));
        Assert.Equal([In(store, "billing-prod"), In(store, "hr")], await Names($"keystore={store}&enabled=true"));
        Assert.Equal([In(store, "billing-prod")], await Names($"keystore={store}&enabled=true&tag=env&q=bill"));

        // Without a key store filter both key stores' "billing-prod" appear (and the demo key too).
        var everywhere = await Names("q=billing-prod&tag=" + Uri.EscapeDataString("env=prod") + "&limit=1000");
        Assert.Contains(In(store, "billing-prod"), everywhere);
        Assert.Contains(In(other, "billing-prod"), everywhere);
    }

    [Fact]
    public async Task Unknown_key_store_filter_is_an_empty_list()
    {
        var page = await Admin.GetJsonAsync("/api/v1/keys?keystore=ks_doesnotexist");
        Assert.Empty(page["keys"]!.AsArray());
        Assert.Null(page["next"]);
    }

    [Theory]
    [InlineData("limit=0")]
    [InlineData("limit=1001")]
    [InlineData("limit=-5")]
    [InlineData("limit=ten")]
    [InlineData("enabled=maybe")]
    public async Task Bad_list_parameter_is_a_400_problem(string query)
    {
        using var response = await Admin.GetAsync("/api/v1/keys?" + query);
        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task Default_page_lists_the_demo_key()
    {
        var page = await Admin.GetJsonAsync("/api/v1/keys");
        Assert.Contains(page["keys"]!.AsArray(), k => (string?)k!["name"] == "demo-key");
    }
}
