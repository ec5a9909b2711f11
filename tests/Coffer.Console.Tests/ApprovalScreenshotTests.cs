using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The README's picture of the Approvals page (docs/console.md, "README screenshots"): an approver's inbox
/// holding two requests. It runs only when <c>COFFER_README_SCREENSHOTS</c> is set, on a node of its
/// own, because its quorum policy holds every key disable on that node.
/// </summary>
public sealed class ApprovalScreenshotTests(Browser browser) : IClassFixture<Browser>
{
    [ReadmeScreenshotFact]
    public Task The_README_picture_of_the_approvals_inbox() =>
        browser.RunAsync(nameof(The_README_picture_of_the_approvals_inbox), async page =>
        {
            await using var node = await DevServer.StartAsync();
            await AdminCalls.SendAsync(node, HttpMethod.Put, "/api/v1/quorum-policies/two-custodians",
                new { operations = new[] { "key.disable", "key.destroy" }, requiredApprovals = 2, approverGroup = "custodians" });
            var requester = await AdminCalls.UserAsync(node, "Rosa Requester", "key-officer", "custodians");
            var approver = await AdminCalls.UserAsync(node, "Ada Approver", "approver", "custodians");
            await AdminCalls.UserAsync(node, "Ben Approver", "approver", "custodians");
            using var asRequester = AdminCalls.ClientWith(node, requester.Token);
            foreach (var name in new[] { "ledger", "payroll" })
            {
                var key = await AdminCalls.NewKeyAsync(node, name);
                var held = await AdminCalls.SendAsync(asRequester, HttpMethod.Post, $"/api/v1/keys/{key}/disable");
                Assert.NotNull(held["id"]);
            }

            await ReadmeScreenshots.SizeAsync(page);
            await Pages.LogInAsync(page, node, approver.Token);
            await page.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
            var inbox = page.GetByRole(AriaRole.Table, new() { Name = "Requests waiting for your vote" });
            await Assertions.Expect(inbox.Locator("tbody tr")).ToHaveCountAsync(2);
            await ReadmeScreenshots.SaveAsync(page, "console-approvals.png");
        });
}
