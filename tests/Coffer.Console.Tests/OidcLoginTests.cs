using Coffer.Server.Hosting;
using Coffer.Testing;
using Coffer.Testing.Oidc;
using Microsoft.Playwright;

namespace Coffer.Console.Tests;

/// <summary>A node whose console logs in through a <see cref="TestIssuer"/>: coffer-admins are
/// administrators, coffer-auditors auditors.</summary>
public sealed class OidcConsole : IAsyncLifetime
{
    public const string ClientId = "coffer-console";

    public TestIssuer Issuer { get; private set; } = null!;

    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TestIssuer.StartAsync();
        Node = await DevServer.StartAsync(o => o.Oidc = new OidcOptions
        {
            Issuer = Issuer.Issuer,
            Audience = TestIssuer.DefaultAudience,
            ClientId = ClientId,
            DisplayName = "Test IdP",
            GroupRoles =
            [
                new OidcGroupRole { Group = "coffer-admins", Role = "administrator" },
                new OidcGroupRole { Group = "coffer-auditors", Role = "auditor" },
            ],
        });
    }

    /// <summary>The person the issuer signs in next.</summary>
    public void SignInAs(string name, string group) =>
        Issuer.SignInAs = new TokenSpec { Subject = name + "-subject", PreferredUsername = name, Groups = [group], Audience = ClientId };

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>
/// Login through the identity provider in a real browser (docs/console.md, "Login through the identity
/// provider"): the login screen's button goes to the issuer and back, and the console shows the
/// identity-provider user, with the actions of the role its groups give.
/// </summary>
public sealed class OidcLoginTests(Browser browser, OidcConsole shared) : IClassFixture<Browser>, IClassFixture<OidcConsole>
{
    [Fact]
    public async Task An_administrator_and_an_auditor_log_in_through_the_identity_provider_and_see_what_their_roles_allow()
    {
        shared.SignInAs("dana@example.test", "coffer-admins");
        await browser.RunAsync("OidcLogin-administrator", async page =>
        {
            await LogInThroughTheIssuerAsync(page);
            await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync("dana@example.test (user)");
            await Assertions.Expect(page.Locator("#seal-state")).ToHaveTextAsync("Unsealed (dev)");
            await page.GetByRole(AriaRole.Link, new() { Name = "Key stores", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create key store" })).ToBeVisibleAsync();
            Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name.Contains("oidc", StringComparison.Ordinal));
        });

        shared.SignInAs("ari@example.test", "coffer-auditors");
        await browser.RunAsync("OidcLogin-auditor", async page =>
        {
            await LogInThroughTheIssuerAsync(page);
            await Assertions.Expect(page.Locator("#who")).ToHaveTextAsync("ari@example.test (user)");
            await page.GetByRole(AriaRole.Link, new() { Name = "Key stores", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Key stores" })).ToContainTextAsync("demo");
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create key store" })).ToHaveCountAsync(0);
            await page.GetByRole(AriaRole.Link, new() { Name = "Keys", Exact = true }).ClickAsync();
            await Assertions.Expect(page.GetByRole(AriaRole.Table, new() { Name = "Keys" })).ToContainTextAsync(shared.Node.Info.KeyId);
            await Assertions.Expect(page.GetByRole(AriaRole.Button, new() { Name = "Create key" })).ToHaveCountAsync(0);
            await Browser.AssertAccessibleAsync(page);
        });
    }

    [Fact]
    public Task A_refused_login_ends_on_the_login_screen_with_the_reason() =>
        browser.RunAsync(nameof(A_refused_login_ends_on_the_login_screen_with_the_reason), async page =>
        {
            shared.SignInAs("mallory@example.test", "marketing");
            await page.GotoAsync(shared.Node.Server.AdminUrl.ToString());
            await page.GetByRole(AriaRole.Link, new() { Name = "Log in with Test IdP" }).ClickAsync();

            await Assertions.Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("groups give you no role");
            await Assertions.Expect(page.GetByLabel("Management token")).ToBeVisibleAsync();
            Assert.DoesNotContain("error=", page.Url, StringComparison.Ordinal);
            Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name.Contains("session", StringComparison.Ordinal));
            await Browser.AssertAccessibleAsync(page);
        });

    /// <summary>An IdP that wants a client secret this Coffer does not send (no Oidc:ClientSecretPath):
    /// the page says the fault is Coffer's registration, not the person's login.</summary>
    [Fact]
    public Task Client_credentials_the_identity_provider_refuses_are_named_on_the_login_screen() =>
        browser.RunAsync(nameof(Client_credentials_the_identity_provider_refuses_are_named_on_the_login_screen), async page =>
        {
            shared.SignInAs("dana@example.test", "coffer-admins");
            shared.Issuer.ClientSecret = "a-secret-this-coffer-lacks";
            try
            {
                await page.GotoAsync(shared.Node.Server.AdminUrl.ToString());
                await page.GetByRole(AriaRole.Link, new() { Name = "Log in with Test IdP" }).ClickAsync();

                await Assertions.Expect(page.GetByRole(AriaRole.Alert).First).ToContainTextAsync("The identity provider refused Coffer's client credentials");
                await Assertions.Expect(page.GetByLabel("Management token")).ToBeVisibleAsync();
                Assert.DoesNotContain(await page.Context.CookiesAsync(), c => c.Name.Contains("session", StringComparison.Ordinal));
                await Browser.AssertAccessibleAsync(page);
            }
            finally
            {
                shared.Issuer.ClientSecret = null;
            }
        });

    private async Task LogInThroughTheIssuerAsync(IPage page)
    {
        await page.GotoAsync(shared.Node.Server.AdminUrl.ToString());
        await Browser.AssertAccessibleAsync(page);
        await page.GetByRole(AriaRole.Link, new() { Name = "Log in with Test IdP" }).ClickAsync();
        await Assertions.Expect(page.GetByRole(AriaRole.Heading, new() { Name = "Overview" })).ToBeVisibleAsync();
        await Browser.AssertAccessibleAsync(page);
    }
}
