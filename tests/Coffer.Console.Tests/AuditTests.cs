using System.Security.Cryptography;
using System.Text.Json.Nodes;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Audit page in a real browser (docs/console.md, "Audit"), on one node for the class: real XKS calls
/// (signed by an independent signer) from several AWS regions, the page filtered by region and outcome
/// showing exactly those records, paging there and back, a record's fields, the chain verified, the
/// filtered export and the compliance report downloaded. Each test uses regions no other test calls from.
/// </summary>
public sealed class AuditTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task The_audit_page_filters_pages_verifies_exports_and_reports_real_XKS_calls() =>
        browser.RunAsync(nameof(The_audit_page_filters_pages_verifies_exports_and_reports_real_XKS_calls), async page =>
        {
            var xks = XksClient.For(Node);
            Assert.Equal(200, await EncryptFromAsync(xks, "eu-north-1", Node.Info.KeyId, "north-1"));
            Assert.Equal(200, await EncryptFromAsync(xks, "eu-north-1", Node.Info.KeyId, "north-2"));
            Assert.Equal(200, await EncryptFromAsync(xks, "ap-southeast-2", Node.Info.KeyId, "sydney-ok"));
            Assert.Equal(404, await EncryptFromAsync(xks, "ap-southeast-2", "no-such-key", "sydney-error"));
            for (var i = 0; i < 55; i++)
            {
                Assert.Equal(200, await EncryptFromAsync(xks, "sa-east-1", Node.Info.KeyId, $"paging-{i}"));
            }

            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Audit", Exact = true }).ClickAsync();
            var records = page.GetByRole(AriaRole.Table, new() { Name = "Audit records, newest first" });
            await Assertions.Expect(records).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);

            // By region: exactly the two Sydney calls, the refused one among them.
            await FilterAsync(page, "ap-southeast-2");
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(2);
            await Assertions.Expect(records).ToContainTextAsync("KeyNotFoundException");
            Assert.Contains("region=ap-southeast-2", page.Url, StringComparison.Ordinal);
            await Browser.AssertAccessibleAsync(page);

            // By region and outcome: the failed one alone.
            await FilterAsync(page, "ap-southeast-2", "error");
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(1);
            await Assertions.Expect(records.Locator("tbody tr")).ToContainTextAsync("error");

            // Exported as filtered: two JSON lines, both from Sydney.
            await FilterAsync(page, "ap-southeast-2");
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(2);
            var export = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Export these records" }).ClickAsync());
            var lines = (await File.ReadAllTextAsync(await export.PathAsync())).Split('\n', StringSplitOptions.RemoveEmptyEntries);
            Assert.Equal(2, lines.Length);
            Assert.All(lines, l => Assert.Equal("ap-southeast-2", (string?)JsonNode.Parse(l)!["awsRegion"]));

            // A record's every field, then back to the same filtered list.
            await FilterAsync(page, "eu-north-1");
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(2);
            await records.Locator("tbody tr").First.GetByRole(AriaRole.Link).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit record" })).ToBeVisibleAsync();
            var fields = page.Locator("dl.record");
            await Assertions.Expect(fields).ToContainTextAsync("north-2");
            await Assertions.Expect(fields).ToContainTextAsync("arn:aws:kms:eu-north-1:123456789012:key/");
            await Assertions.Expect(fields).ToContainTextAsync(XksClient.DefaultPrincipal);
            await Browser.AssertAccessibleAsync(page);
            await page.GetByRole(AriaRole.Link, new() { Name = "Back to the records" }).ClickAsync();
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(2);

            // Paging by the API's cursor: 50, then the 5 older ones, and back to the same first page.
            await FilterAsync(page, "sa-east-1");
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(50);
            var newest = await records.Locator("tbody tr").First.InnerTextAsync();
            await page.GetByRole(AriaRole.Link, new() { Name = "Next page" }).ClickAsync();
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(5);
            await Assertions.Expect(page.GetByRole(AriaRole.Link, new() { Name = "Next page" })).ToHaveCountAsync(0);
            await page.GetByRole(AriaRole.Link, new() { Name = "Previous page" }).ClickAsync();
            await Assertions.Expect(records.Locator("tbody tr")).ToHaveCountAsync(50);
            Assert.Equal(newest, await records.Locator("tbody tr").First.InnerTextAsync());

            await page.GetByRole(AriaRole.Button, new() { Name = "Verify now" }).ClickAsync();
            await Assertions.Expect(page.Locator("#verify-result")).ToContainTextAsync("Intact:");
            await Browser.AssertAccessibleAsync(page);

            await page.GetByRole(AriaRole.Link, new() { Name = "Compliance report" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "XKS calls by AWS region" })).ToContainTextAsync("ap-southeast-2");
            await Browser.AssertAccessibleAsync(page);
            var report = await page.RunAndWaitForDownloadAsync(() => page.GetByRole(AriaRole.Button, new() { Name = "Download (Markdown)" }).ClickAsync());
            var markdown = await File.ReadAllTextAsync(await report.PathAsync());
            Assert.Equal("coffer-audit-report.md", report.SuggestedFilename);
            Assert.Contains(Node.Info.KeyId, markdown, StringComparison.Ordinal);
            Assert.Contains("eu-north-1", markdown, StringComparison.Ordinal);
            Assert.Contains("ap-southeast-2", markdown, StringComparison.Ordinal);
        });

    /// <summary>The README's pictures (docs/console.md, "README screenshots"): the Overview after some traffic, a
    /// key's page with two versions, and the Audit page.</summary>
    [ReadmeScreenshotFact]
    public Task The_README_pictures_of_the_console() =>
        browser.RunAsync(nameof(The_README_pictures_of_the_console), async page =>
        {
            var xks = XksClient.For(Node);
            for (var i = 0; i < 24; i++)
            {
                Assert.Equal(200, (await xks.EncryptAsync(Node.Info.KeyId, RandomNumberGenerator.GetBytes(32))).Status);
            }

            Assert.Equal(404, (await xks.EncryptAsync("retired-key", RandomNumberGenerator.GetBytes(32))).Status);
            await ReadmeScreenshots.SizeAsync(page);
            await Pages.LogInAsync(page, Node);
            await Assertions.Expect(page.Locator("#traffic-summary")).ToContainTextAsync("succeeded");
            await ReadmeScreenshots.SaveAsync(page, "console-overview.png");

            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            await page.GetByLabel("New key name").FillAsync("payments");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key payments" })).ToBeVisibleAsync();
            await xks.MustEncryptAsync("payments", RandomNumberGenerator.GetBytes(32));
            await page.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Versions of this key" }).Locator("tbody tr")).ToHaveCountAsync(2);
            await ReadmeScreenshots.SaveAsync(page, "console-keys.png");

            await page.GetByRole(AriaRole.Link, new() { Name = "Audit", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Audit", Exact = true })).ToBeVisibleAsync();
            await page.GetByLabel("Action", new() { Exact = true }).FillAsync("xks.encrypt");
            await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Audit records, newest first" })).ToContainTextAsync("xks.encrypt");
            await ReadmeScreenshots.SaveAsync(page, "console-audit.png");
        });

    // An encrypt whose key ARN names the region (and so the record's awsRegion), under a request id the test knows.
    private static async Task<int> EncryptFromAsync(XksClient xks, string region, string keyId, string kmsRequestId)
    {
        var request = XksRequests.Encrypt(RandomNumberGenerator.GetBytes(32), kmsRequestId: kmsRequestId);
        request["requestMetadata"]!["kmsKeyArn"] = $"arn:aws:kms:{region}:123456789012:key/11111111-2222-3333-4444-555555555555";
        return (await xks.PostAsync($"keys/{keyId}/encrypt", request)).Status;
    }

    // The filter form as a person fills it: a region, and an outcome or any ("").
    private static async Task FilterAsync(IPage page, string region, string outcome = "")
    {
        await page.GetByLabel("AWS region").FillAsync(region);
        await page.GetByLabel("Outcome").SelectOptionAsync(outcome);
        await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
        var fragment = "#/audit?" + (outcome.Length > 0 ? $"outcome={outcome}&" : "") + $"region={region}";
        await Assertions.Expect(page).ToHaveURLAsync(new System.Text.RegularExpressions.Regex(System.Text.RegularExpressions.Regex.Escape(fragment) + "$"));
    }
}
