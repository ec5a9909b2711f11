using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    /// <summary>Follows NextAfter to the end, checking every page on the way.</summary>
    protected async Task<List<ManagedKey>> ReadAllPagesAsync(KeyQuery query, int expectedPages)
    {
        var keys = new List<ManagedKey>();
        var pages = 0;
        string? after = null;
        do
        {
            var page = await Keys.ListKeysAsync(query with { After = after });
            pages++;
            Assert.True(page.Keys.Count <= Math.Max(1, query.Limit), "a page is never longer than the limit");
            if (page.NextAfter is not null)
            {
                Assert.Equal(page.Keys[^1].Id, page.NextAfter);
                Assert.Equal(Math.Max(1, query.Limit), page.Keys.Count);
            }

            keys.AddRange(page.Keys);
            after = page.NextAfter;
            Assert.True(pages <= expectedPages, "paging must end");
        }
        while (after is not null);

        Assert.Equal(expectedPages, pages);
        Assert.Equal(keys.Select(k => k.Id).Order(StringComparer.Ordinal), keys.Select(k => k.Id));
        Assert.Equal(keys.Count, keys.Select(k => k.Id).Distinct(StringComparer.Ordinal).Count());
        return keys;
    }

    [Fact]
    public async Task Listing_with_no_keys_is_one_empty_last_page()
    {
        var page = await Keys.ListKeysAsync(new KeyQuery());

        Assert.Empty(page.Keys);
        Assert.Null(page.NextAfter);
    }

    [Fact]
    public async Task Listing_pages_through_every_key_in_id_order()
    {
        var keyStore = await CreateKeyStoreAsync();
        var created = new List<ManagedKey>();
        for (var i = 0; i < 23; i++)
        {
            created.Add(await CreateKeyAsync(keyStore.Id));
        }

        var listed = await ReadAllPagesAsync(new KeyQuery(Limit: 10), expectedPages: 3);

        Assert.Equal(created.Select(k => k.Id).Order(StringComparer.Ordinal), listed.Select(k => k.Id));
        AssertSame(created[5], listed.Single(k => k.Id == created[5].Id));
    }

    [Fact]
    public async Task A_page_that_ends_exactly_at_the_last_key_is_the_last_page()
    {
        var keyStore = await CreateKeyStoreAsync();
        for (var i = 0; i < 10; i++)
        {
            await CreateKeyAsync(keyStore.Id);
        }

        var listed = await ReadAllPagesAsync(new KeyQuery(Limit: 5), expectedPages: 2);

        Assert.Equal(10, listed.Count);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-5)]
    public async Task A_limit_below_one_is_raised_to_one(int limit)
    {
        var keyStore = await CreateKeyStoreAsync();
        await CreateKeyAsync(keyStore.Id);
        await CreateKeyAsync(keyStore.Id);

        var page = await Keys.ListKeysAsync(new KeyQuery(Limit: limit));

        Assert.Single(page.Keys);
        Assert.NotNull(page.NextAfter);
    }

    [Fact]
    public async Task Listing_filters_by_key_store_across_pages()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        var mine = new List<string>();
        for (var i = 0; i < 14; i++)
        {
            var key = await CreateKeyAsync(i % 2 == 0 ? first.Id : second.Id);
            if (i % 2 == 0)
            {
                mine.Add(key.Id);
            }
        }

        var listed = await ReadAllPagesAsync(new KeyQuery(KeyStoreId: first.Id, Limit: 3), expectedPages: 3);

        Assert.Equal(mine, listed.Select(k => k.Id));
    }

    [Fact]
    public async Task Listing_filters_by_enabled()
    {
        var keyStore = await CreateKeyStoreAsync();
        var on = await CreateKeyAsync(keyStore.Id, enabled: true);
        var off = await CreateKeyAsync(keyStore.Id, enabled: false);

        Assert.Equal([on.Id], (await Keys.ListKeysAsync(new KeyQuery(Enabled: true))).Keys.Select(k => k.Id));
        Assert.Equal([off.Id], (await Keys.ListKeysAsync(new KeyQuery(Enabled: false))).Keys.Select(k => k.Id));
        Assert.Equal(2, (await Keys.ListKeysAsync(new KeyQuery(Enabled: null))).Keys.Count);
    }

    [Fact]
    public async Task Listing_by_text_matches_external_id_or_description_ignoring_case()
    {
        var keyStore = await CreateKeyStoreAsync();
        var byExternalId = await CreateKeyAsync(keyStore.Id, externalId: "Payroll-2025");
        var byDescription = await CreateKeyAsync(keyStore.Id, externalId: "k2", description: "Keys for PAYROLL exports");
        await CreateKeyAsync(keyStore.Id, externalId: "orders", description: "unrelated");

        var page = await Keys.ListKeysAsync(new KeyQuery(Text: "payRoll"));

        Assert.Equal(new[] { byExternalId.Id, byDescription.Id }.Order(StringComparer.Ordinal), page.Keys.Select(k => k.Id));
    }

    [Fact]
    public async Task Listing_by_text_takes_like_wildcards_literally()
    {
        var keyStore = await CreateKeyStoreAsync();
        var percent = await CreateKeyAsync(keyStore.Id, description: "100% coverage");
        var underscore = await CreateKeyAsync(keyStore.Id, externalId: "a_b");
        await CreateKeyAsync(keyStore.Id, externalId: "axb", description: "100 percent");
        var backslash = await CreateKeyAsync(keyStore.Id, description: @"C:\keys");

        Assert.Equal([percent.Id], (await Keys.ListKeysAsync(new KeyQuery(Text: "0%"))).Keys.Select(k => k.Id));
        Assert.Equal([underscore.Id], (await Keys.ListKeysAsync(new KeyQuery(Text: "a_b"))).Keys.Select(k => k.Id));
        Assert.Equal([backslash.Id], (await Keys.ListKeysAsync(new KeyQuery(Text: @":\k"))).Keys.Select(k => k.Id));
    }

    [Fact]
    public async Task An_empty_text_filter_matches_everything()
    {
        var keyStore = await CreateKeyStoreAsync();
        await CreateKeyAsync(keyStore.Id);
        await CreateKeyAsync(keyStore.Id);

        Assert.Equal(2, (await Keys.ListKeysAsync(new KeyQuery(Text: ""))).Keys.Count);
    }

    [Fact]
    public async Task Listing_by_tag_name_matches_any_value_and_name_value_matches_exactly()
    {
        var keyStore = await CreateKeyStoreAsync();
        var payments = await CreateKeyAsync(keyStore.Id, tags: new Dictionary<string, string> { ["team"] = "payments", ["env"] = "prod" });
        var search = await CreateKeyAsync(keyStore.Id, tags: new Dictionary<string, string> { ["team"] = "search" });
        var equalsInValue = await CreateKeyAsync(keyStore.Id, tags: new Dictionary<string, string> { ["expr"] = "a=b" });
        await CreateKeyAsync(keyStore.Id, tags: new Dictionary<string, string> { ["payments"] = "team" });
        await CreateKeyAsync(keyStore.Id);

        Assert.Equal(new[] { payments.Id, search.Id }.Order(StringComparer.Ordinal), (await Keys.ListKeysAsync(new KeyQuery(Tag: "team"))).Keys.Select(k => k.Id));
        Assert.Equal([payments.Id], (await Keys.ListKeysAsync(new KeyQuery(Tag: "team=payments"))).Keys.Select(k => k.Id));
        Assert.Empty((await Keys.ListKeysAsync(new KeyQuery(Tag: "team=Payments"))).Keys);
        Assert.Empty((await Keys.ListKeysAsync(new KeyQuery(Tag: "team="))).Keys);
        Assert.Equal([equalsInValue.Id], (await Keys.ListKeysAsync(new KeyQuery(Tag: "expr=a=b"))).Keys.Select(k => k.Id));
        Assert.Empty((await Keys.ListKeysAsync(new KeyQuery(Tag: "missing"))).Keys);
    }

    [Fact]
    public async Task A_tag_with_an_empty_value_matches_name_equals_nothing()
    {
        var keyStore = await CreateKeyStoreAsync();
        var key = await CreateKeyAsync(keyStore.Id, tags: new Dictionary<string, string> { ["flag"] = "" });

        Assert.Equal([key.Id], (await Keys.ListKeysAsync(new KeyQuery(Tag: "flag="))).Keys.Select(k => k.Id));
        Assert.Equal([key.Id], (await Keys.ListKeysAsync(new KeyQuery(Tag: "flag"))).Keys.Select(k => k.Id));
    }

    [Fact]
    public async Task Combined_filters_page_through_only_the_matching_keys()
    {
        var first = await CreateKeyStoreAsync();
        var second = await CreateKeyStoreAsync();
        var expected = new List<string>();
        for (var i = 0; i < 40; i++)
        {
            var keyStoreId = i % 4 == 3 ? second.Id : first.Id;
            var enabled = i % 5 != 0;
            var tags = new Dictionary<string, string> { ["env"] = i % 2 == 0 ? "prod" : "test" };
            var description = i % 3 == 0 ? "Billing key" : "other";
            var key = await CreateKeyAsync(keyStoreId, description: description, tags: tags, enabled: enabled);
            if (keyStoreId == first.Id && enabled && i % 2 == 0 && i % 3 == 0)
            {
                expected.Add(key.Id);
            }
        }

        var query = new KeyQuery(KeyStoreId: first.Id, Text: "BILLING", Tag: "env=prod", Enabled: true, Limit: 2);
        var listed = await ReadAllPagesAsync(query, expectedPages: (expected.Count + 1) / 2);

        Assert.Equal(expected, listed.Select(k => k.Id));
        Assert.NotEmpty(expected);
    }
}
