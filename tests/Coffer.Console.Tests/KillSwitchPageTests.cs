using System.Security.Cryptography;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Kill switch page in a real browser (docs/console.md, "Kill switch"): a switch engaged on a key
/// store through the page makes real XKS calls to that store answer InvalidStateException while another
/// store still serves, and releasing it in the page restores service; a role that may not engage sees
/// no control, and one without the permission no page. One node for the class: each test makes its own
/// key stores.
/// </summary>
public sealed class KillSwitchPageTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task A_switch_engaged_on_a_store_in_the_page_refuses_its_XKS_calls_until_released_there() =>
        browser.RunAsync(nameof(A_switch_engaged_on_a_store_in_the_page_refuses_its_XKS_calls_until_released_there), async page =>
        {
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            var (cutId, cutName, cut) = await AdminCalls.NewKeyStoreAsync(Node, "cut", "k");
            var (_, _, other) = await AdminCalls.NewKeyStoreAsync(Node, "other", "k");
            XksAssertOk(await cut.EncryptAsync("k", RandomNumberGenerator.GetBytes(32)));

            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Kill switch" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Kill switch", Exact = true })).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);

            // A bad value is refused at its field, and nothing is engaged.
            await page.GetByLabel("Cut off").SelectOptionAsync("account");
            await page.GetByLabel("AWS account").FillAsync("1234");
            await page.GetByLabel("Reason").FillAsync("drill");
            await page.GetByRole(AriaRole.Button, new() { Name = "Engage kill switch" }).ClickAsync();
            await page.GetByRole(AriaRole.Button, new() { Name = "Engage now" }).ClickAsync();
            await Assertions.Expect(page.Locator("#ks-value-error")).ToContainTextAsync("12-digit AWS account");
            Assert.Empty((await AdminCalls.GetAsync(Node, "/api/v1/kill-switches")).AsArray());

            await page.GetByLabel("Cut off").SelectOptionAsync("keystore");
            await page.GetByLabel("Key store", new() { Exact = true }).SelectOptionAsync(cutId);
            await page.GetByLabel("Reason").FillAsync("incident drill: stolen credential");
            await page.GetByRole(AriaRole.Button, new() { Name = "Engage kill switch" }).ClickAsync();
            var confirmation = page.GetByRole(AriaRole.Group, new() { Name = "Confirm the kill switch" });
            await Assertions.Expect(confirmation).ToContainTextAsync($"This cuts off every XKS call to key store {cutName} (/{cutName}).");
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Engage now" })).ToBeFocusedAsync();
            await Browser.AssertAccessibleAsync(page);
            XksAssertOk(await cut.EncryptAsync("k", RandomNumberGenerator.GetBytes(32))); // not before it is confirmed

            await page.GetByRole(AriaRole.Button, new() { Name = "Engage now" }).ClickAsync();
            var list = page.GetByRole(AriaRole.Table, new() { Name = "Kill switches" });
            await Assertions.Expect(list).ToContainTextAsync("incident drill: stolen credential");
            await Browser.AssertAccessibleAsync(page);
            var refused = await cut.EncryptAsync("k", RandomNumberGenerator.GetBytes(32));
            Assert.Equal(400, refused.Status);
            Assert.Equal("InvalidStateException", refused.ErrorName);
            XksAssertOk(await other.EncryptAsync("k", RandomNumberGenerator.GetBytes(32)));

            var engaged = Assert.Single((await AdminCalls.GetAsync(Node, "/api/v1/kill-switches")).AsArray());
            Assert.Equal(cutId, (string?)engaged!["value"]);
            await page.GetByRole(AriaRole.Button, new() { Name = $"Release {(string)engaged["id"]!}" }).ClickAsync();
            await Assertions.Expect(page.GetByText("No kill switch is engaged.")).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);
            XksAssertOk(await cut.EncryptAsync("k", RandomNumberGenerator.GetBytes(32)));

            // Under a quorum policy the engage is held: the page says so and links to the request.
            await AdminCalls.SendAsync(Node, HttpMethod.Put, "/api/v1/quorum-policies/engage-needs-approval",
                new { operations = new[] { "killswitch.engage" }, requiredApprovals = 1, approverGroup = "custodians" });
            try
            {
                await page.GetByLabel("Cut off").SelectOptionAsync("keystore");
                await page.GetByLabel("Key store", new() { Exact = true }).SelectOptionAsync(cutId);
                await page.GetByLabel("Reason").FillAsync("second incident");
                await page.GetByRole(AriaRole.Button, new() { Name = "Engage kill switch" }).ClickAsync();
                await page.GetByRole(AriaRole.Button, new() { Name = "Engage now" }).ClickAsync();
                var waiting = page.GetByRole(AriaRole.Status).Filter(new() { HasText = "Waiting for approval: 0 of 1 from custodians" });
                await Assertions.Expect(waiting.GetByRole(AriaRole.Link)).ToHaveAttributeAsync("href", new System.Text.RegularExpressions.Regex("^#/approvals/apr_"));
                await Browser.AssertAccessibleAsync(page);
                Assert.Empty((await AdminCalls.GetAsync(Node, "/api/v1/kill-switches")).AsArray());
                XksAssertOk(await cut.EncryptAsync("k", RandomNumberGenerator.GetBytes(32)));
            }
            finally
            {
                await AdminCalls.SendAsync(Node, HttpMethod.Delete, "/api/v1/quorum-policies/engage-needs-approval");
            }
        });

    [Fact]
    public Task An_auditor_sees_engaged_switches_without_controls_and_a_role_without_the_permission_no_page() =>
        browser.RunAsync(nameof(An_auditor_sees_engaged_switches_without_controls_and_a_role_without_the_permission_no_page), async page =>
        {
            var (storeId, _, _) = await AdminCalls.NewKeyStoreAsync(Node, "seen", "k");
            var engaged = await AdminCalls.SendAsync(Node, HttpMethod.Post, "/api/v1/kill-switches", new { scope = "keystore", value = storeId, reason = "seen by the auditor" });
            try
            {
                await Pages.LogInAsync(page, Node, await AdminCalls.TokenAsync(Node, "auditor"));
                await page.GetByRole(AriaRole.Link, new() { Name = "Kill switch" }).ClickAsync();
                await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Kill switches" })).ToContainTextAsync("seen by the auditor");
                Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Engage kill switch" }).CountAsync());
                Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Release") }).CountAsync());
                await Browser.AssertAccessibleAsync(page);
            }
            finally
            {
                await AdminCalls.SendAsync(Node, HttpMethod.Post, $"/api/v1/kill-switches/{(string)engaged["id"]!}/release");
            }

            await AdminCalls.SendAsync(Node, HttpMethod.Put, "/api/v1/roles/key-reader", new { description = "reads keys", permissions = new[] { "keys.read" } });
            await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
            await Pages.LogInAsync(page, Node, await AdminCalls.TokenAsync(Node, "key-reader"));
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Kill switch" })).ToBeHiddenAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Access rules" })).ToBeHiddenAsync();
        });

    private static void XksAssertOk(XksResponse response) => Assert.True(response.Status == 200, response.ToString());
}
