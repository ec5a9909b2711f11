using System.Text.Json;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Key stores page in a real browser (docs/console.md, "Key stores"): create a store, add a
/// credential whose secret is shown once and signs a real XKS call, download the AWS console file,
/// revoke the credential; and a role without write permissions sees no such control.
/// </summary>
public sealed class KeyStoreTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private DevServer _node = null!;

    public async Task InitializeAsync() => _node = await DevServer.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public Task A_store_is_created_its_credential_shown_once_signs_XKS_calls_and_revoking_it_stops_them() =>
        browser.RunAsync(nameof(A_store_is_created_its_credential_shown_once_signs_XKS_calls_and_revoking_it_stops_them), async page =>
        {
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await Pages.LogInAsync(page, _node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Key stores" }).ClickAsync();
            await page.GetByLabel("New key store name").FillAsync("payments");
            await page.GetByLabel("URI prefix").FillAsync("/payments");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key store" }).ClickAsync();

            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key store payments" })).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);
            await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).ClickAsync();
            var secret = await page.Locator("#new-secret").TextContentAsync();
            var accessKeyId = await page.Locator("#new-credential dd").First.TextContentAsync();
            Assert.False(string.IsNullOrEmpty(secret));
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Copy secret" })).ToBeFocusedAsync();

            // The secret works: a call signed with it by an independent signer reaches the key store.
            var xks = new XksClient(new Uri(_node.XksUrl, "/payments/kms/xks/v1"), accessKeyId!, secret!);
            Assert.Equal(200, (await xks.HealthAsync()).Status);

            var download = await page.RunAndWaitForDownloadAsync(() =>
                page.GetByRole(AriaRole.Link, new() { Name = $"AWS console file for {accessKeyId}" }).ClickAsync());
            using (var file = JsonDocument.Parse(await File.ReadAllTextAsync(await download.PathAsync())))
            {
                Assert.Equal(accessKeyId, file.RootElement.GetProperty("XksProxyAuthenticationCredential").GetProperty("AccessKeyId").GetString());
                Assert.EndsWith("/payments/kms/xks/v1", file.RootElement.GetProperty("XksProxyUriPath").GetString(), StringComparison.Ordinal);
            }

            // Shown once: after a reload the page holds it nowhere.
            await page.ReloadAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key store payments" })).ToBeVisibleAsync();
            Assert.DoesNotContain(secret!, await page.ContentAsync(), StringComparison.Ordinal);

            await page.GetByRole(AriaRole.Button, new() { Name = $"Revoke {accessKeyId}" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Credentials of this key store" })).ToContainTextAsync("revoked");
            Assert.Equal(401, (await xks.HealthAsync()).Status);
        });

    [Fact]
    public Task An_auditor_sees_the_stores_but_no_control_that_changes_them() =>
        browser.RunAsync(nameof(An_auditor_sees_the_stores_but_no_control_that_changes_them), async page =>
        {
            using var created = await _node.Admin.PostAsync("/api/v1/tokens",
                new StringContent("{\"name\":\"console auditor\",\"role\":\"auditor\"}", System.Text.Encoding.UTF8, "application/json"));
            var token = JsonDocument.Parse(await created.Content.ReadAsStringAsync()).RootElement.GetProperty("token").GetString()!;

            await Pages.LogInAsync(page, _node, token);
            await page.GetByRole(AriaRole.Link, new() { Name = "Key stores" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key stores" })).ToBeVisibleAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Key stores" })).ToContainTextAsync(_node.Info.UriPrefix);
            Assert.Equal(0, await page.GetByLabel("New key store name").CountAsync());

            await page.GetByRole(AriaRole.Table, new() { Name = "Key stores" }).GetByRole(AriaRole.Link).First.ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Credentials of this key store" })).ToBeVisibleAsync();
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { Name = "Add credential" }).CountAsync());
            Assert.Equal(0, await page.GetByRole(AriaRole.Button, new() { NameRegex = new System.Text.RegularExpressions.Regex("^Revoke") }).CountAsync());
            await Browser.AssertAccessibleAsync(page);
        });
}
