using System.Security.Cryptography;
using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// The Keys page in a real browser (docs/console.md, "Keys"): a key made and rotated through the page
/// serves XKS calls under its new version, disabling it stops them, enabling brings them back; the
/// list's filters narrow it.
/// </summary>
public sealed class KeyTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private DevServer _node = null!;

    public async Task InitializeAsync() => _node = await DevServer.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public Task A_key_created_and_rotated_in_the_console_serves_XKS_and_disabling_it_stops_that() =>
        browser.RunAsync(nameof(A_key_created_and_rotated_in_the_console_serves_XKS_and_disabling_it_stops_that), async page =>
        {
            page.Dialog += (_, dialog) => dialog.AcceptAsync();
            await Pages.LogInAsync(page, _node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            await page.GetByLabel("New key name").FillAsync("orders");
            await page.GetByRole(AriaRole.Button, new() { Name = "Create key" }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Key orders" })).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);

            var xks = XksClient.For(_node);
            var before = await xks.MustEncryptAsync("orders", RandomNumberGenerator.GetBytes(32));

            await page.GetByRole(AriaRole.Button, new() { Name = "Rotate" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-version")).ToHaveTextAsync("2");
            var versions = page.GetByRole(AriaRole.Table, new() { Name = "Versions of this key" });
            await Assertions.Expect(versions.Locator("tbody tr")).ToHaveCountAsync(2);
            var after = await xks.MustEncryptAsync("orders", RandomNumberGenerator.GetBytes(32));
            Assert.NotEqual(before.Ciphertext, after.Ciphertext);
            Assert.Equal(200, (await xks.DecryptAsync("orders", before)).Status);

            await page.GetByRole(AriaRole.Button, new() { Name = "Disable" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("disabled");
            Assert.Equal(400, (await xks.EncryptAsync("orders", RandomNumberGenerator.GetBytes(32))).Status);

            await page.GetByRole(AriaRole.Button, new() { Name = "Enable" }).ClickAsync();
            await Assertions.Expect(page.Locator("#key-state")).ToHaveTextAsync("enabled");
            Assert.Equal(200, (await xks.EncryptAsync("orders", RandomNumberGenerator.GetBytes(32))).Status);
        });

    [Fact]
    public Task The_name_filter_narrows_the_list() =>
        browser.RunAsync(nameof(The_name_filter_narrows_the_list), async page =>
        {
            await Pages.LogInAsync(page, _node);
            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            var keys = page.GetByRole(AriaRole.Table, new() { Name = "Keys" });
            await Assertions.Expect(keys).ToContainTextAsync(_node.Info.KeyId);

            await page.GetByLabel("Name contains").FillAsync("no-such-key");
            await page.GetByRole(AriaRole.Button, new() { Name = "Filter" }).ClickAsync();
            await Assertions.Expect(page.GetByText("No key matches.")).ToBeVisibleAsync();
            await Browser.AssertAccessibleAsync(page);
        });
}
