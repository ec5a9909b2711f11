using System.Net.Http.Json;
using System.Security.Cryptography;
using System.Text.Json;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Overview page in a real browser (docs/console.md, "Overview"): the node, the XKS calls it
/// answered (signed by an independent signer), the refused ones with their reason, the engaged kill
/// switch, and the keys near their expiry or their encryption budget.
/// </summary>
public sealed class OverviewTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private DevServer _node = null!;

    /// <summary>A small encryption budget, so a few XKS calls use most of one.</summary>
    private const long Budget = 10;

    public async Task InitializeAsync() => _node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = Budget);

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public Task The_overview_shows_answered_and_refused_calls_and_the_engaged_kill_switch() =>
        browser.RunAsync(nameof(The_overview_shows_answered_and_refused_calls_and_the_engaged_kill_switch), async page =>
        {
            var xks = XksClient.For(_node);
            for (var i = 0; i < 4; i++)
            {
                Assert.Equal(200, (await xks.EncryptAsync(_node.Info.KeyId, RandomNumberGenerator.GetBytes(32))).Status);
            }

            using (var engaged = await _node.Admin.PostAsJsonAsync("/api/v1/kill-switches", new { scope = "all", reason = "night incident" }))
            {
                engaged.EnsureSuccessStatusCode();
            }

            Assert.Equal(400, (await xks.EncryptAsync(_node.Info.KeyId, RandomNumberGenerator.GetBytes(32))).Status);

            await Pages.LogInAsync(page, _node);

            await Assertions.Expect(page.Locator("#traffic-summary")).ToContainTextAsync("4 succeeded, 1 refused, 0 failed");
            var refused = page.GetByRole(AriaRole.Table, new() { Name = "The latest refused calls of the last hour" });
            await Assertions.Expect(refused).ToContainTextAsync("xks.encrypt");
            await Assertions.Expect(refused).ToContainTextAsync("kill-switch=");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Kill switches engaged now" })).ToContainTextAsync("night incident");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Nodes of this installation" })).ToContainTextAsync("unsealed");
            await Browser.AssertAccessibleAsync(page);
        });

    [Fact]
    public Task The_overview_lists_keys_near_their_expiry_or_their_encryption_budget() =>
        browser.RunAsync(nameof(The_overview_lists_keys_near_their_expiry_or_their_encryption_budget), async page =>
        {
            var store = (await _node.Admin.GetFromJsonAsync<JsonElement>("/api/v1/keys?q=" + _node.Info.KeyId)).GetProperty("keys")[0].GetProperty("keyStoreId").GetString();
            var expiring = await CreateKeyAsync(store!, "expiring-soon");
            using (var dated = await _node.Admin.PutAsJsonAsync($"/api/v1/keys/{expiring}/versions/1/dates", new { deactivatesAt = DateTimeOffset.UtcNow.AddDays(5) }))
            {
                dated.EnsureSuccessStatusCode();
            }

            await CreateKeyAsync(store!, "far-from-expiry");
            var busy = await CreateKeyAsync(store!, "nearly-spent");
            var xks = XksClient.For(_node);
            for (var i = 0; i < Budget - 1; i++)
            {
                Assert.Equal(200, (await xks.EncryptAsync("nearly-spent", RandomNumberGenerator.GetBytes(32))).Status);
            }

            await Pages.LogInAsync(page, _node);

            var attention = page.GetByRole(AriaRole.Table, new() { Name = "Key versions near their expiry or encryption budget" });
            await Assertions.Expect(attention.GetByRole(AriaRole.Row).Filter(new() { HasText = "expiring-soon" })).ToContainTextAsync("expiry");
            await Assertions.Expect(attention.GetByRole(AriaRole.Row).Filter(new() { HasText = "nearly-spent" })).ToContainTextAsync("encryption budget");
            await Assertions.Expect(attention).Not.ToContainTextAsync("far-from-expiry");
            await Assertions.Expect(attention).Not.ToContainTextAsync(_node.Info.KeyId);
            await Browser.AssertAccessibleAsync(page);

            await attention.GetByRole(AriaRole.Link, new() { Name = "nearly-spent" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key nearly-spent" })).ToBeVisibleAsync();
            Assert.EndsWith("#/keys/" + busy, page.Url, StringComparison.Ordinal);
        });

    [Fact]
    public Task A_page_fetches_its_own_module_only_when_it_opens() =>
        browser.RunAsync(nameof(A_page_fetches_its_own_module_only_when_it_opens), async page =>
        {
            var modules = new List<string>();
            page.Request += (_, request) =>
            {
                var path = new Uri(request.Url).AbsolutePath;
                if (path.StartsWith("/console/pages/", StringComparison.Ordinal))
                {
                    lock (modules)
                    {
                        modules.Add(path["/console/pages/".Length..]);
                    }
                }
            };

            await Pages.LogInAsync(page, _node);
            await Assertions.Expect(page.Locator("#traffic-summary")).ToContainTextAsync("succeeded");
            lock (modules)
            {
                Assert.Contains("overview.js", modules);
                Assert.DoesNotContain("keys.js", modules);
                Assert.DoesNotContain("audit.js", modules);
            }

            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Keys", Exact = true })).ToBeVisibleAsync();
            lock (modules)
            {
                Assert.Contains("keys.js", modules);
                Assert.DoesNotContain("audit.js", modules);
            }
        });

    private async Task<string> CreateKeyAsync(string keyStoreId, string name)
    {
        using var created = await _node.Admin.PostAsJsonAsync($"/api/v1/keystores/{keyStoreId}/keys", new { name });
        created.EnsureSuccessStatusCode();
        return (await created.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString()!;
    }
}
