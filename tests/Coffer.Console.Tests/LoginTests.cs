using Coffer.Testing;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>
/// Logging in to the web console with a token in a real browser against a real node
/// (docs/console.md): the token is typed once, the browser keeps only an HttpOnly session cookie that
/// the page's script cannot read, the Overview shows the node, and logout ends the session.
/// </summary>
public sealed class LoginTests(Browser browser) : IClassFixture<Browser>, IAsyncLifetime
{
    private DevServer _node = null!;

    public async Task InitializeAsync() => _node = await DevServer.StartAsync();

    public async Task DisposeAsync() => await _node.DisposeAsync();

    [Fact]
    public Task A_token_logs_in_to_the_overview_leaving_only_an_HttpOnly_cookie_and_logout_ends_it() =>
        browser.RunAsync(nameof(A_token_logs_in_to_the_overview_leaving_only_an_HttpOnly_cookie_and_logout_ends_it), async page =>
        {
            await page.GotoAsync(_node.Server.AdminUrl.ToString());
            await Browser.AssertAccessibleAsync(page);

            await page.GetByLabel("Management token").FillAsync(_node.Info.AdminToken);
            await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();

            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
            await Assertions.Expect(page.Locator("#seal-state")).ToHaveTextAsync("Unsealed (dev)");
            await Browser.AssertAccessibleAsync(page);

            var cookie = Assert.Single(await page.Context.CookiesAsync());
            Assert.True(cookie.HttpOnly);
            Assert.Equal(SameSiteAttribute.Strict, cookie.SameSite);
            Assert.NotEqual(_node.Info.AdminToken, cookie.Value);
            Assert.Equal(string.Empty, await page.EvaluateAsync<string>("document.cookie"));
            Assert.DoesNotContain(_node.Info.AdminToken, await page.ContentAsync(), StringComparison.Ordinal);

            await page.ReloadAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();

            await page.GetByRole(AriaRole.Button, new() { Name = "Log out" }).ClickAsync();
            await Assertions.Expect(page.GetByLabel("Management token")).ToBeVisibleAsync();
            using var http = new HttpClient { BaseAddress = _node.Server.AdminUrl };
            http.DefaultRequestHeaders.Add("Cookie", $"{cookie.Name}={cookie.Value}");
            using var after = await http.GetAsync("/api/v1/keys");
            Assert.Equal(System.Net.HttpStatusCode.Unauthorized, after.StatusCode);
        });

    [Fact]
    public Task A_wrong_token_is_told_at_the_field_and_logs_nobody_in() =>
        browser.RunAsync(nameof(A_wrong_token_is_told_at_the_field_and_logs_nobody_in), async page =>
        {
            await page.GotoAsync(_node.Server.AdminUrl.ToString());
            await page.GetByLabel("Management token").FillAsync("coffer_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaaaa");
            await page.GetByRole(AriaRole.Button, new() { Name = "Log in" }).ClickAsync();

            await Assertions.Expect(page.GetByRole(AriaRole.Alert)).ToContainTextAsync("unknown, expired or revoked");
            Assert.Empty(await page.Context.CookiesAsync());
            Assert.Equal(string.Empty, await page.GetByLabel("Management token").InputValueAsync());
        });
}
