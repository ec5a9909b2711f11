using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Coffer.Testing.Oidc;
using Microsoft.AspNetCore.WebUtilities;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>A node whose console logs in through a <see cref="TestIssuer"/> (authorization code with PKCE),
/// both on one fake clock.</summary>
public sealed class OidcConsoleNode : IAsyncLifetime
{
    public const string ClientId = "coffer-console";

    public FakeTimeProvider Time { get; } = new(OidcNode.Start);

    public TestIssuer Issuer { get; private set; } = null!;

    public DevServer Node { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Issuer = await TestIssuer.StartAsync(Time);
        Node = await DevServer.StartAsync(o =>
        {
            o.Oidc = OidcNode.Options(Issuer);
            o.Oidc.ClientId = ClientId;
            o.Oidc.DisplayName = "Test IdP";
        }, time: Time);
    }

    /// <summary>The person the issuer signs in: an ID token for the console's client id.</summary>
    public static TokenSpec User(string subject, params string[] groups) =>
        new() { Subject = subject, PreferredUsername = subject + "@example.test", Groups = groups, Audience = ClientId };

    public async Task DisposeAsync()
    {
        await Node.DisposeAsync();
        await Issuer.DisposeAsync();
    }
}

/// <summary>
/// The console's login through the identity provider (docs/console.md, "Login through the identity
/// provider") over real HTTP: Coffer's start and callback, a real issuer's authorization and token
/// endpoints in between, as a browser would follow them. Every refusal ends on the login screen with its
/// reason, opens no session, and no code, state, verifier or token reaches a log or record.
/// </summary>
public sealed class OidcConsoleLoginTests(OidcConsoleNode shared) : IClassFixture<OidcConsoleNode>
{
    private DevServer Node => shared.Node;

    private TestIssuer Issuer => shared.Issuer;

    private readonly OidcBrowser _browser = new(shared.Node, shared.Issuer);

    [Fact]
    public async Task A_login_through_the_issuer_opens_a_session_of_its_caller_and_is_recorded_without_any_secret()
    {
        Issuer.SignInAs = OidcConsoleNode.User("console-admin", "coffer-admins");
        using var anonymous = _browser.NoRedirects();
        var described = await anonymous.GetJsonAsync("/api/v1/session/oidc");
        Assert.Equal("Test IdP", (string?)described["provider"]);

        var start = await _browser.StartAsync();
        var authorize = QueryHelpers.ParseQuery(start.Authorize.Query);
        Assert.StartsWith(Issuer.Issuer + "/authorize", start.Authorize.AbsoluteUri, StringComparison.Ordinal);
        Assert.Equal("code", authorize["response_type"]);
        Assert.Equal("S256", authorize["code_challenge_method"]);
        Assert.Equal(OidcConsoleNode.ClientId, authorize["client_id"]);
        Assert.Equal(new Uri(Node.Server.AdminUrl, "/api/v1/session/oidc/callback").AbsoluteUri, authorize["redirect_uri"]);
        Assert.NotEqual(authorize["state"], authorize["nonce"]);
        Assert.Contains("httponly", start.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=lax", start.SetCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/api/v1/session/oidc", start.SetCookie, StringComparison.OrdinalIgnoreCase);

        var back = await _browser.AuthorizeAsync(start.Authorize);
        using var done = await _browser.CallbackAsync(back, start.FlowCookie);

        Assert.Equal("/console/", done.Headers.Location?.OriginalString);
        var session = OidcBrowser.SessionCookie(done);
        using var http = ConsoleSessionTests.WithCookie(Node, session!);
        var view = await http.GetJsonAsync("/api/v1/session");
        Assert.Equal("oidc:console-admin", (string?)view["callerId"]);
        Assert.Equal("console-admin@example.test", (string?)view["callerName"]);
        await (await http.GetAsync("/api/v1/keystores")).JsonAsync(HttpStatusCode.OK);

        var login = (await Node.Admin.AllRecordsAsync("&action=console.login"))
            .Single(r => (string?)r["actorId"] == "oidc:console-admin");
        Assert.Equal("ok", (string?)login["outcome"]);
        Assert.Contains("method oidc", (string?)login["details"], StringComparison.Ordinal);
        Assert.Contains("roles (administrator)", (string?)login["details"], StringComparison.Ordinal);
        var flow = start.FlowCookie.Split('=', 2)[1].Split('.');
        _browser.AssertNowhere([QueryHelpers.ParseQuery(back.Query)["code"]!, .. flow, Issuer.LastIdToken!, session!.Split('=', 2)[1]]);
    }

    [Fact]
    public async Task A_read_only_role_from_the_groups_may_read_but_not_change()
    {
        Issuer.SignInAs = OidcConsoleNode.User("console-auditor", "coffer-auditors");
        using var done = await _browser.LogInAsync();
        using var http = ConsoleSessionTests.WithCookie(Node, OidcBrowser.SessionCookie(done)!);
        var view = await http.GetJsonAsync("/api/v1/session");
        http.DefaultRequestHeaders.Add("X-Coffer-CSRF", (string?)view["csrfToken"]);

        await (await http.GetAsync("/api/v1/keys")).JsonAsync(HttpStatusCode.OK);
        using var create = await http.PostJsonAsync("/api/v1/keystores", new { name = ManagementApi.Unique("oidc"), uriPrefix = "/" + ManagementApi.Unique("oidc") });
        await create.ProblemAsync(HttpStatusCode.Forbidden);
    }

    [Fact]
    public async Task The_session_ends_with_the_ID_token_even_while_in_use()
    {
        Issuer.SignInAs = OidcConsoleNode.User("short-lived", "coffer-auditors") with { ExpiresIn = TimeSpan.FromMinutes(10) };
        using var done = await _browser.LogInAsync();
        using var http = ConsoleSessionTests.WithCookie(Node, OidcBrowser.SessionCookie(done)!);

        shared.Time.Advance(TimeSpan.FromMinutes(9));
        await (await http.GetAsync("/api/v1/keys")).JsonAsync(HttpStatusCode.OK);
        shared.Time.Advance(TimeSpan.FromMinutes(2));
        await (await http.GetAsync("/api/v1/keys")).ProblemAsync(HttpStatusCode.Unauthorized);
    }

    public static TheoryData<string, string, string> Refusals => new()
    {
        { "a state that is not the cookie's", "state", "" },
        { "no flow cookie", "state", "" },
        { "a wrong verifier", "provider", "oidc: token endpoint refused the code (invalid_grant)" },
        { "an expired ID token", "token", "oidc: ID token refused: expired" },
        { "an ID token of another issuer", "token", "oidc: ID token refused: wrong issuer" },
        { "an ID token for another audience", "token", "oidc: ID token refused: wrong audience" },
        { "an ID token of another login", "token", "oidc: ID token refused: wrong nonce" },
        { "groups that map to no role", "role", "oidc: no role: identity-provider groups (marketing) of subject refused-subject map to no Coffer role" },
        { "the identity provider's refusal", "provider", "oidc: identity provider answered access_denied" },
    };

    [Theory]
    [MemberData(nameof(Refusals))]
    public async Task A_refused_login_ends_on_the_login_screen_with_its_reason_and_opens_no_session(string kind, string error, string reason)
    {
        var user = OidcConsoleNode.User("refused-subject", "coffer-admins");
        Issuer.SignInAs = kind switch
        {
            "an expired ID token" => user with { ExpiresIn = TimeSpan.FromMinutes(-5), NotBeforeIn = TimeSpan.FromMinutes(-10) },
            "an ID token of another issuer" => user with { Issuer = "https://idp.example.test" },
            "an ID token for another audience" => user with { Audience = TestIssuer.DefaultAudience },
            "an ID token of another login" => user with { OtherClaims = new Dictionary<string, object> { ["nonce"] = "another-login" } },
            "groups that map to no role" => user with { Groups = ["marketing"] },
            "the identity provider's refusal" => null,
            _ => user,
        };
        var start = await _browser.StartAsync();
        var back = await _browser.AuthorizeAsync(start.Authorize);
        var cookie = start.FlowCookie;
        if (kind == "a state that is not the cookie's")
        {
            back = new Uri(back.AbsoluteUri.Replace("state=", "state=x", StringComparison.Ordinal));
        }
        else if (kind == "a wrong verifier")
        {
            var parts = cookie.Split('.');
            cookie = parts[0] + "." + parts[1] + "." + new string('A', 43);
        }

        var before = (await Node.Admin.AllRecordsAsync("&action=console.login")).Count;
        using var refused = await _browser.CallbackAsync(back, kind == "no flow cookie" ? null : cookie);

        Assert.Equal("/console/#/login?error=" + error, refused.Headers.Location?.OriginalString);
        Assert.Null(OidcBrowser.SessionCookie(refused));
        var records = await Node.Admin.AllRecordsAsync("&action=console.login");
        if (reason.Length == 0)
        {
            Assert.Equal(before, records.Count); // an answer of no login of this browser's: nothing was tried
        }
        else
        {
            var record = records[^1];
            Assert.Equal("denied", (string?)record["outcome"]);
            Assert.Equal(reason, (string?)record["reason"]);
        }
    }

    [Fact]
    public async Task A_replayed_code_opens_no_second_session()
    {
        Issuer.SignInAs = OidcConsoleNode.User("replayed", "coffer-admins");
        var start = await _browser.StartAsync();
        var back = await _browser.AuthorizeAsync(start.Authorize);
        using (var first = await _browser.CallbackAsync(back, start.FlowCookie))
        {
            Assert.NotNull(OidcBrowser.SessionCookie(first));
        }

        using var again = await _browser.CallbackAsync(back, start.FlowCookie);
        Assert.Equal("/console/#/login?error=provider", again.Headers.Location?.OriginalString);
        Assert.Null(OidcBrowser.SessionCookie(again));
    }
}
