using System.Net;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The People and Alerts pages in a real browser (docs/console.md, "People and alerts"): a token made
/// for an app in the page is shown once, works, and is refused once revoked in the page; a webhook added
/// in the page gets a real delivery on loopback, which the page then lists.
/// </summary>
public sealed class PeopleAndAlertsTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task A_token_made_in_the_console_is_shown_once_works_and_is_refused_once_revoked() =>
        browser.RunAsync(nameof(A_token_made_in_the_console_is_shown_once_works_and_is_refused_once_revoked), async page =>
        {
            await AdminCalls.SendAsync(Node, HttpMethod.Post, "/api/v1/apps", new { name = "inventory", roles = new[] { new { role = "auditor" } } });
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "People" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Apps" })).ToContainTextAsync("inventory");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Roles and their permissions" })).ToContainTextAsync("approvals.vote");
            await Browser.AssertAccessibleAsync(page);

            await page.GetByLabel("New token name").FillAsync("inventory-ci");
            await page.GetByLabel("Stands for").SelectOptionAsync(new SelectOptionValue { Label = "inventory (app)" });
            await page.GetByRole(AriaRole.Button, new() { Name = "Create token" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy token" })).ToBeFocusedAsync();
            var secret = (await page.Locator("#token-secret").TextContentAsync())!;
            Assert.False(string.IsNullOrEmpty(secret));
            await Browser.AssertAccessibleAsync(page);

            // The shown token is the app's: it reads what an auditor reads.
            using var client = AdminCalls.ClientWith(Node, secret);
            using (var allowed = await client.GetAsync("/api/v1/keystores"))
            {
                Assert.Equal(HttpStatusCode.OK, allowed.StatusCode);
            }

            // Shown once: after a reload the page holds it nowhere.
            await page.ReloadAsync();
            var tokens = page.GetByRole(AriaRole.Table, new() { Name = "Tokens" });
            await Assertions.Expect(tokens).ToContainTextAsync("inventory-ci");
            Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

            await page.GetByRole(AriaRole.Button, new() { Name = "Revoke inventory-ci" }).ClickAsync();
            await Assertions.Expect(tokens.GetByRole(AriaRole.Row).Filter(new() { HasText = "inventory-ci" })).ToContainTextAsync("revoked");
            using var refused = await client.GetAsync("/api/v1/keystores");
            Assert.Equal(HttpStatusCode.Unauthorized, refused.StatusCode);
        });

    [Fact]
    public Task A_webhook_added_in_the_console_receives_a_key_disable_and_the_page_lists_its_delivery() =>
        browser.RunAsync(nameof(A_webhook_added_in_the_console_receives_a_key_disable_and_the_page_lists_its_delivery), async page =>
        {
            using var listener = new WebhookListener();
            var key = await AdminCalls.NewKeyAsync(Node, "alerted");
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Alerts" }).ClickAsync();
            await page.GetByLabel("Webhook address").FillAsync(listener.Url);
            await page.GetByLabel("Events").FillAsync("key.disable");
            await page.GetByRole(AriaRole.Button, new() { Name = "Add webhook" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy signing secret" })).ToBeFocusedAsync();
            Assert.StartsWith("whsec_", await page.Locator("#webhook-secret").TextContentAsync(), StringComparison.Ordinal);
            var webhooks = page.GetByRole(AriaRole.Table, new() { Name = "Webhooks" });
            await Assertions.Expect(webhooks).ToContainTextAsync(listener.Url);
            await Browser.AssertAccessibleAsync(page);

            // A state change made elsewhere reaches the receiver, and the page lists the delivery.
            await AdminCalls.SendAsync(Node, HttpMethod.Post, $"/api/v1/keys/{key}/disable");
            await Wait.UntilAsync(() => listener.EventTypes.Contains("key.disable"), "the key.disable event reaches the webhook");
            var deliveries = page.GetByRole(AriaRole.Table, new() { Name = "Deliveries, newest first" });
            await Wait.UntilAsync(async () =>
            {
                await page.GetByRole(AriaRole.Button, new() { Name = "Show deliveries" }).ClickAsync();
                return await deliveries.CountAsync() == 1
                    && await deliveries.GetByRole(AriaRole.Row).Filter(new() { HasText = "key.disable" }).Filter(new() { HasText = "delivered" }).CountAsync() == 1;
            }, "the page lists the delivered key.disable");
            await Browser.AssertAccessibleAsync(page);

            var id = (await webhooks.Locator("tbody td").First.TextContentAsync())!;
            await page.GetByRole(AriaRole.Button, new() { Name = $"Remove {id}" }).ClickAsync();
            await Assertions.Expect(page.GetByText("No webhook yet.")).ToBeVisibleAsync();
        });
}
