using System.Net.Http.Json;
using System.Security.Cryptography;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Overview page in a real browser (docs/console.md, "Overview"): the node, the XKS calls it
/// answered (signed by an independent signer), the refused ones with their reason, and the engaged
/// kill switch.
/// </summary>
public sealed class OverviewTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private DevServer _node = null!;

    public async Task InitializeAsync() => _node = await DevServer.StartAsync();

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
            var refused = page.GetByRole(AriaRole.Table, new() { Name = "The latest refused calls" });
            await Assertions.Expect(refused).ToContainTextAsync("xks.encrypt");
            await Assertions.Expect(refused).ToContainTextAsync("kill-switch=");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Kill switches engaged now" })).ToContainTextAsync("night incident");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Nodes of this installation" })).ToContainTextAsync("unsealed");
            await Browser.AssertAccessibleAsync(page);
        });
}
