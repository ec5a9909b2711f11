using System.Security.Cryptography;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// A key's lifecycle on its console page (docs/console.md, "Keys"): a rotation policy, a version marked
/// compromised with a reason (seen in the timeline and the audit record), and the whole key's
/// destruction scheduled with its name typed to confirm, then cancelled; XKS calls, signed by an
/// independent signer, follow each step.
/// </summary>
public sealed class KeyLifecycleTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task A_key_gets_a_rotation_policy_a_compromised_version_and_a_cancelled_destruction() =>
        browser.RunAsync(nameof(A_key_gets_a_rotation_policy_a_compromised_version_and_a_cancelled_destruction), async page =>
        {
            page.Dialog += (_, dialog) => dialog.AcceptAsync(dialog.Type == "prompt" ? "found in a leaked backup" : null);
            await Pages.LogInAsync(page, Node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            await page.GetByLabel("New key name").FillAsync("ledger");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key ledger" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#rotation-policy")).ToContainTextAsync("No rotation policy");
            var xks = XksClient.For(Node);
            var before = await xks.MustEncryptAsync("ledger", RandomNumberGenerator.GetBytes(32));

            await page.GetByLabel("Rotate every (days)").FillAsync("30");
            await page.GetByRole(AriaRole.Button, new() { Name = "Set rotation policy" }).ClickAsync();
            await Assertions.Expect(page.Locator("#rotation-policy")).ToContainTextAsync("30");
            await Assertions.Expect(page.Locator("#next-rotation")).Not.ToHaveTextAsync("—");
            await Browser.AssertAccessibleAsync(page);

            await page.GetByRole(AriaRole.Button, new() { Name = "Compromise version 1" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-version")).ToHaveTextAsync("2");
            var versions = page.GetByRole(AriaRole.Table, new() { Name = "Versions of this key" });
            await Assertions.Expect(versions.Locator("tbody tr").Last).ToContainTextAsync("Compromised");
            var timeline = page.GetByRole(AriaRole.Table, new() { Name = "Timeline of this key" });
            await Assertions.Expect(timeline).ToContainTextAsync("Version 1 became Compromised");
            Assert.Equal(400, (await xks.DecryptAsync("ledger", before)).Status);
            var compromised = await Node.Admin.GetStringAsync("/api/v1/audit/records?action=key.version.compromise&limit=10");
            Assert.Contains("reason: found in a leaked backup", compromised, StringComparison.Ordinal);
            await Browser.AssertAccessibleAsync(page);

            await page.GetByLabel("Waiting period (days, 7 to 30)").FillAsync("7");
            await page.GetByLabel("Type ledger to confirm").FillAsync("ledgr");
            await page.GetByRole(AriaRole.Button, new() { Name = "Schedule destruction" }).ClickAsync();
            await Assertions.Expect(page.Locator("#destroy-confirm-error")).ToContainTextAsync("exactly to confirm");
            await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("enabled");

            await page.GetByLabel("Type ledger to confirm").FillAsync("ledger");
            await page.GetByRole(AriaRole.Button, new() { Name = "Schedule destruction" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("pending-destruction");
            await Assertions.Expect(page.Locator("#key-destroys-at")).ToBeVisibleAsync();
            Assert.Equal(400, (await xks.EncryptAsync("ledger", RandomNumberGenerator.GetBytes(32))).Status);
            await Browser.AssertAccessibleAsync(page);

            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel destruction" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("enabled");
            await Assertions.Expect(page.Locator("#key-destroys-at")).ToHaveCountAsync(0);
            Assert.Equal(200, (await xks.EncryptAsync("ledger", RandomNumberGenerator.GetBytes(32))).Status);
            await Browser.AssertAccessibleAsync(page);
        });
}
