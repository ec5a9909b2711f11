using System.Security.Cryptography;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Approvals page in real browsers (docs/console.md, "Approvals"): three people logged in at once,
/// each in their own browser context with their own token, take a held key disable through a 2-of-3
/// quorum; a member of the group without the approver role sees no vote control; a held credential's
/// secret reaches its requester on the request's page, once; a requester cancels their own request.
/// </summary>
public sealed class ApprovalTests(Browser browser, SharedNode shared) : IClassFixture<Browser>, IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public Task A_held_disable_runs_when_the_second_of_two_approvers_agrees_and_shows_in_history_as_executed() =>
        browser.RunAsync(nameof(A_held_disable_runs_when_the_second_of_two_approvers_agrees_and_shows_in_history_as_executed), async page =>
        {
            await AdminCalls.SendAsync(Node, HttpMethod.Put, "/api/v1/quorum-policies/console-disable",
                new { operations = new[] { "key.disable", "credential.add" }, requiredApprovals = 2, approverGroup = "custodians" });
            var requester = await AdminCalls.UserAsync(Node, "Rosa Requester", "key-officer", "custodians");
            var approvers = new[] { await AdminCalls.UserAsync(Node, "Ada Approver", "approver", "custodians"),
                await AdminCalls.UserAsync(Node, "Ben Approver", "approver", "custodians"), await AdminCalls.UserAsync(Node, "Cy Approver", "approver", "custodians") };
            var auditor = await AdminCalls.UserAsync(Node, "Ida Auditor", "auditor", "custodians");
            var key = await AdminCalls.NewKeyAsync(Node, "ledger");
            var xks = XksClient.For(Node);

            // The requester asks on the key's page: the call is held, and the page links to its request.
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await Pages.LogInAsync(page, Node, requester.Token);
            await page.GotoAsync(new Uri(Node.Server.AdminUrl, $"/console/#/keys/{key}").ToString());
            await page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
            var requestLink = page.GetByRole(AriaRole.Link, new() { NameRegex = new("^See request apr_") });
            var id = (await requestLink.TextContentAsync())!["See request ".Length..];
            await requestLink.ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = $"Approval request {id}" })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByText("This is your request: it waits for 2 more approvals")).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Cancel request" })).ToBeVisibleAsync();
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());

            // A member of the group without the approver role: the request is listed, with no vote control.
            await using (var auditorContext = await browser.Chromium.NewContextAsync())
            {
                var auditorPage = await auditorContext.NewPageAsync();
                await Pages.LogInAsync(auditorPage, Node, auditor.Token);
                await auditorPage.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
                await Assertions.Expect(auditorPage.GetByText("Nothing waits for your vote.")).ToBeVisibleAsync();
                await auditorPage.GetByRole(AriaRole.Table, new() { Name = "Other pending requests" }).GetByRole(AriaRole.Link, new() { Name = id }).ClickAsync();
                await Assertions.Expect(auditorPage.Locator("#held-call")).ToHaveTextAsync($"POST /api/v1/keys/{key}/disable");
                Assert.Equal(0, await auditorPage.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
                Assert.Equal(0, await auditorPage.GetByRole(AriaRole.Button, new() { Name = "Deny" }).CountAsync());
            }

            // The first approver finds it in the inbox with what would run, who asked and the votes so far.
            await using var firstContext = await browser.Chromium.NewContextAsync();
            var first = await firstContext.NewPageAsync();
            await Pages.LogInAsync(first, Node, approvers[0].Token);
            await first.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
            var inbox = first.GetByRole(AriaRole.Table, new() { Name = "Requests waiting for your vote" });
            await Assertions.Expect(inbox).ToContainTextAsync($"POST /api/v1/keys/{key}/disable");
            await Assertions.Expect(inbox).ToContainTextAsync("Rosa Requester");
            await Assertions.Expect(inbox).ToContainTextAsync("0 of 2");
            await Browser.AssertAccessibleAsync(first);
            await inbox.GetByRole(AriaRole.Link, new() { Name = id }).ClickAsync();
            await Assertions.Expect(first.Locator("#held-call")).ToHaveTextAsync($"POST /api/v1/keys/{key}/disable");

            // A denial needs a reason: without one the field says so and nothing is sent.
            await first.GetByRole(AriaRole.Button, new() { Name = "Deny" }).ClickAsync();
            await Assertions.Expect(first.Locator("#vote-comment-error")).ToContainTextAsync("Say why you deny it");
            await Browser.AssertAccessibleAsync(first);
            Assert.Equal("pending", (string?)(await AdminCalls.GetAsync(Node, $"/api/v1/approvals/{id}"))["state"]);

            await first.GetByLabel("Comment (required to deny)").FillAsync("checked ticket SEC-42");
            await first.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
            await Assertions.Expect(first.GetByText("You voted approve")).ToBeVisibleAsync();
            await Assertions.Expect(first.Locator("#approval-votes")).ToContainTextAsync("1 of 2");
            Assert.Equal(0, await first.GetByRole(AriaRole.Button, new() { Name = "Approve" }).CountAsync());
            await Assertions.Expect(first.GetByRole(AriaRole.Table, new() { Name = "Votes on this request" })).ToContainTextAsync("checked ticket SEC-42");

            // One approval of two: nothing ran.
            Assert.Equal("enabled", (string?)(await AdminCalls.GetAsync(Node, $"/api/v1/keys/{key}"))["status"]);
            Assert.Equal(200, (await xks.EncryptAsync("ledger", RandomNumberGenerator.GetBytes(32))).Status);

            // The second approver's vote completes the quorum: the disable runs, as the requester asked it.
            await using var secondContext = await browser.Chromium.NewContextAsync();
            var second = await secondContext.NewPageAsync();
            await Pages.LogInAsync(second, Node, approvers[1].Token);
            await second.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
            await second.GetByRole(AriaRole.Table, new() { Name = "Requests waiting for your vote" }).GetByRole(AriaRole.Link, new() { Name = id }).ClickAsync();
            await second.GetByRole(AriaRole.Button, new() { Name = "Approve" }).ClickAsync();
            await Assertions.Expect(second.Locator("#approval-state")).ToHaveTextAsync("executed");
            await Assertions.Expect(second.Locator("#approval-votes")).ToContainTextAsync("2 of 2");
            Assert.Equal("disabled", (string?)(await AdminCalls.GetAsync(Node, $"/api/v1/keys/{key}"))["status"]);
            Assert.Equal(400, (await xks.EncryptAsync("ledger", RandomNumberGenerator.GetBytes(32))).Status);

            // The requester sees it done, in the history.
            await page.GetByRole(AriaRole.Link, new() { Name = "Approvals" }).ClickAsync();
            var history = page.GetByRole(AriaRole.Table, new() { Name = "Ended approval requests" });
            await Assertions.Expect(history.GetByRole(AriaRole.Row).Filter(new() { HasText = id })).ToContainTextAsync("executed");
            await Assertions.Expect(page.GetByText("You have no request waiting.")).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);

            // A held credential's secret: once approved, its requester sees it on the request's page, once, and it signs XKS calls.
            await page.GotoAsync(new Uri(Node.Server.AdminUrl, $"/console/#/keystores/{await AdminCalls.DevKeyStoreAsync(Node)}").ToString());
            await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).ClickAsync();
            var credentialLink = page.GetByRole(AriaRole.Link, new() { NameRegex = new("^See request apr_") });
            var credentialRequest = (await credentialLink.TextContentAsync())!["See request ".Length..];
            foreach (var approver in approvers[1..])
            {
                using var client = AdminCalls.ClientWith(Node, approver.Token);
                await AdminCalls.SendAsync(client, HttpMethod.Post, $"/api/v1/approvals/{credentialRequest}/approve", new { comment = "new credential for the AWS console" });
            }

            await credentialLink.ClickAsync();
            await Assertions.Expect(page.Locator("#approval-state")).ToHaveTextAsync("executed");
            await page.GetByRole(AriaRole.Button, new() { Name = "Show the answer once" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy answer" })).ToBeFocusedAsync();
            var answer = System.Text.Json.Nodes.JsonNode.Parse((await page.Locator("#answer-secret").TextContentAsync())!)!;
            await Browser.AssertAccessibleAsync(page);
            var secret = (string)answer["secretAccessKey"]!;
            var signed = new XksClient(new Uri(Node.XksUrl, Node.Info.UriPrefix + "/kms/xks/v1"), (string)answer["accessKeyId"]!, secret);
            Assert.Equal(200, (await signed.HealthAsync()).Status);
            await page.ReloadAsync();
            await Assertions.Expect(page.Locator("#approval-state")).ToHaveTextAsync("executed");
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Show the answer once" }).CountAsync());
            Assert.DoesNotContain(secret, await page.ContentAsync(), StringComparison.Ordinal);

            // A requester who changes their mind cancels: the request ends and nothing runs.
            using (var requesterClient = AdminCalls.ClientWith(Node, requester.Token))
            {
                var held = await AdminCalls.SendAsync(requesterClient, HttpMethod.Post, $"/api/v1/keystores/{await AdminCalls.DevKeyStoreAsync(Node)}/credentials");
                Assert.Equal("pending", (string?)held["state"]);
                await page.GotoAsync(new Uri(Node.Server.AdminUrl, $"/console/#/approvals/{(string)held["id"]!}").ToString());
            }

            await page.GetByRole(AriaRole.Button, new() { Name = "Cancel request" }).ClickAsync();
            await Assertions.Expect(page.Locator("#approval-state")).ToHaveTextAsync("cancelled");
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Cancel request" }).CountAsync());
        });
}
