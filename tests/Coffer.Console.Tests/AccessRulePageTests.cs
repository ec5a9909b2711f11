using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Access rules page in a real browser (docs/console.md, "Access rules"): a region set is refused at
/// its field, then added and deleted; an invalid rule is shown at the draft and changes nothing; a draft
/// that refuses a region is tried against the store's recent calls, which flags the call from that
/// region, and once saved real XKS calls from that region are refused while others are served.
/// </summary>
public sealed class AccessRulePageTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private const string UsEastKeyArn = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";

    private DevServer Node => shared.Node;

    [Fact]
    public Task A_store_refuses_a_region_once_its_rules_are_tried_and_saved_in_the_page() =>
        browser.RunAsync(nameof(A_store_refuses_a_region_once_its_rules_are_tried_and_saved_in_the_page), async page =>
        {
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            var (storeId, storeName, xks) = await AdminCalls.NewKeyStoreAsync(Node, "rules", "k");
            Assert.Equal(200, (await xks.PostAsync("keys/k/encrypt", FromUsEast())).Status);
            Assert.Equal(200, (await xks.EncryptAsync("k", RandomNumberGenerator.GetBytes(32))).Status);

            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Access rules" }).ClickAsync();
            var regionSets = page.GetByRole(AriaRole.Table, new() { Name = "Region sets" });
            await Assertions.Expect(regionSets).ToContainTextAsync("eu-adequacy");
            await Browser.AssertAccessibleAsync(page);

            // A region set of one's own: a name that is no region is refused at its field, then it is saved and deleted.
            var setName = "nordics-" + Guid.NewGuid().ToString("N")[..8];
            await page.GetByLabel("Region set name").FillAsync(setName);
            await page.GetByLabel("Regions").FillAsync("eu-north-1 eu-nowhere");
            await page.GetByRole(AriaRole.Button, new() { Name = "Save region set" }).ClickAsync();
            await Assertions.Expect(page.Locator("#set-regions-error")).ToContainTextAsync("regions[1] is not an AWS region name");
            await Browser.AssertAccessibleAsync(page);
            await page.GetByLabel("Regions").FillAsync("eu-north-1, eu-west-1");
            await page.GetByRole(AriaRole.Button, new() { Name = "Save region set" }).ClickAsync();
            await Assertions.Expect(regionSets.Locator("tr", new() { HasText = setName })).ToContainTextAsync("eu-north-1, eu-west-1");
            await page.GetByRole(AriaRole.Button, new() { Name = $"Delete {setName}" }).ClickAsync();
            await Assertions.Expect(regionSets).Not.ToContainTextAsync(setName);
            await page.GetByRole(AriaRole.Link, new() { Name = $"Rules of {storeName}" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Access rules of key store {storeName}" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#rules-version")).ToContainTextAsync("every XKS call is allowed");
            await Browser.AssertAccessibleAsync(page);

            // An invalid rule: its message is shown at the draft, naming the rule, and nothing is stored.
            var draft = page.GetByLabel("Rule document (JSON)");
            await draft.FillAsync("""{"rules": [{"name": "rest", "effect": "allow"}, {"name": "office", "effect": "deny", "sourceIp": ["10.0.0.1/8"]}]}""");
            await page.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
            await Assertions.Expect(page.Locator("#rules-draft-error")).ToContainTextAsync("Rule 2: ");
            await Assertions.Expect(page.Locator("#rules-draft-error")).ToContainTextAsync("rules[1].sourceIp[0]");
            await Assertions.Expect(page.Locator("#rules-outline li.invalid")).ToContainTextAsync("office");
            await Assertions.Expect(draft).ToHaveAttributeAsync("aria-invalid", "true");
            await Browser.AssertAccessibleAsync(page);
            Assert.Empty((await AdminCalls.GetAsync(Node, $"/api/v1/keystores/{storeId}/policy/versions"))["versions"]!.AsArray());

            await draft.FillAsync("""{"rules": [{"name": "no-us-east-1", "effect": "deny", "kmsKeyRegion": ["us-east-1"]}, {"name": "rest", "effect": "allow"}]}""");
            await page.GetByRole(AriaRole.Button, new() { Name = "Try against recent calls" }).ClickAsync();
            await Assertions.Expect(page.Locator("#rules-differing")).ToContainTextAsync("the draft would refuse 1 that the current rules allow");
            var calls = page.GetByRole(AriaRole.Table, new() { Name = "Recent calls under the current rules and the draft" });
            await Assertions.Expect(calls.Locator("tr", new() { HasText = "refused by the draft" })).ToContainTextAsync("us-east-1");
            await Assertions.Expect(calls.Locator("tr", new() { HasText = "eu-west-1" })).Not.ToContainTextAsync("refused by the draft");
            await Browser.AssertAccessibleAsync(page);

            await page.GetByRole(AriaRole.Button, new() { Name = "Save rules" }).ClickAsync();
            await Assertions.Expect(page.Locator("#rules-version")).ToContainTextAsync("Current version 1");
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Current rules" })).ToContainTextAsync("no-us-east-1");
            await Browser.AssertAccessibleAsync(page);
            var refused = await xks.PostAsync("keys/k/encrypt", FromUsEast());
            Assert.Equal(403, refused.Status);
            Assert.Equal("AccessDeniedException", refused.ErrorName);
            Assert.Equal(200, (await xks.EncryptAsync("k", RandomNumberGenerator.GetBytes(32))).Status);
            Assert.Single((await AdminCalls.GetAsync(Node, $"/api/v1/keystores/{storeId}/policy/versions"))["versions"]!.AsArray());

            // The store's key has rules of its own, on top of the store's.
            await page.GetByLabel("Key of this store").SelectOptionAsync(new SelectOptionValue { Label = "k" });
            await page.GetByRole(AriaRole.Button, new() { Name = "Show the key's rules" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Access rules of key k" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#rules-version")).ToContainTextAsync("No rules were ever set");
            await Browser.AssertAccessibleAsync(page);
        });

    /// <summary>An encrypt request whose KMS key is in us-east-1 (the region rules read from kmsKeyArn).</summary>
    private static JsonObject FromUsEast()
    {
        var request = XksRequests.Encrypt(RandomNumberGenerator.GetBytes(32));
        request["requestMetadata"]!["kmsKeyArn"] = UsEastKeyArn;
        return request;
    }
}
