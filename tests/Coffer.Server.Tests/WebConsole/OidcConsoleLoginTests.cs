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

    [Fact]
    public async Task A_login_through_the_issuer_opens_a_session_of_its_caller_and_is_recorded_without_any_secret()
    {
        Issuer.SignInAs = OidcConsoleNode.User("console-admin", "coffer-admins");
        using var anonymous = NoRedirects();
        var described = await anonymous.GetJsonAsync("/api/v1/session/oidc");
        Assert.Equal("Test IdP", (string?)described["provider"]);

        var start = await StartAsync();
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

        var back = await AuthorizeAsync(start.Authorize);
        using var done = await CallbackAsync(back, start.FlowCookie);

        Assert.Equal("/console/", done.Headers.Location?.OriginalString);
        var session = SessionCookie(done);
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
        AssertNowhere([QueryHelpers.ParseQuery(back.Query)["code"]!, .. flow, Issuer.LastIdToken!, session!.Split('=', 2)[1]]);
    }

    [Fact]
    public async Task A_read_only_role_from_the_groups_may_read_but_not_change()
    {
        Issuer.SignInAs = OidcConsoleNode.User("console-auditor", "coffer-auditors");
        var start = await StartAsync();
        using var done = await CallbackAsync(await AuthorizeAsync(start.Authorize), start.FlowCookie);
        using var http = ConsoleSessionTests.WithCookie(Node, SessionCookie(done)!);
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
        var start = await StartAsync();
        using var done = await CallbackAsync(await AuthorizeAsync(start.Authorize), start.FlowCookie);
        using var http = ConsoleSessionTests.WithCookie(Node, SessionCookie(done)!);

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
        var start = await StartAsync();
        var back = await AuthorizeAsync(start.Authorize);
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
        using var refused = await CallbackAsync(back, kind == "no flow cookie" ? null : cookie);

        Assert.Equal("/console/#/login?error=" + error, refused.Headers.Location?.OriginalString);
        Assert.Null(SessionCookie(refused));
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
        var start = await StartAsync();
        var back = await AuthorizeAsync(start.Authorize);
        using (var first = await CallbackAsync(back, start.FlowCookie))
        {
            Assert.NotNull(SessionCookie(first));
        }

        using var again = await CallbackAsync(back, start.FlowCookie);
        Assert.Equal("/console/#/login?error=provider", again.Headers.Location?.OriginalString);
        Assert.Null(SessionCookie(again));
    }

    private HttpClient NoRedirects(Uri? baseAddress = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseAddress ?? Node.Server.AdminUrl };

    /// <summary>Coffer's start: where it sends the browser, and the flow cookie ("name=value") it sets.</summary>
    private async Task<(Uri Authorize, string FlowCookie, string SetCookie)> StartAsync()
    {
        using var http = NoRedirects();
        using var response = await http.GetAsync("/api/v1/session/oidc/start");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        return (response.Headers.Location!, setCookie.Split(';')[0], setCookie);
    }

    /// <summary>The issuer's authorization endpoint: the address it sends the browser back to.</summary>
    private async Task<Uri> AuthorizeAsync(Uri authorize)
    {
        using var http = NoRedirects(new Uri(Issuer.Issuer));
        using var response = await http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    private async Task<HttpResponseMessage> CallbackAsync(Uri back, string? flowCookie)
    {
        using var http = NoRedirects();
        using var request = new HttpRequestMessage(HttpMethod.Get, back);
        if (flowCookie is not null)
        {
            request.Headers.Add("Cookie", flowCookie);
        }

        var response = await http.SendAsync(request);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response;
    }

    /// <summary>The console session cookie ("name=value") an answer sets, or null.</summary>
    private static string? SessionCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies)
            ? cookies.Select(c => c.Split(';')[0]).SingleOrDefault(c => c.StartsWith("coffer-session=", StringComparison.Ordinal))
            : null;

    /// <summary>No secret in the audit database, nor in the log as <c>coffer server</c> writes it: the
    /// framework's categories at warning and above only (src/Coffer.Cli/Commands/Logging.cs), since its
    /// request line at information names the callback's address, code included. Coffer's own events are
    /// all checked, at every level.</summary>
    private void AssertNowhere(IEnumerable<string> secrets)
    {
        using var db = new AuditDatabase(Node);
        var records = db.DumpAll();
        var logged = string.Join('\n', Node.Logs.Lines.Where(line => !IsFrameworkChatter(line)));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, records, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }
    }

    private static bool IsFrameworkChatter(string line) =>
        line.Split(' ', 3) is [var level, var category, _] && level is "Trace" or "Debug" or "Information" && category.StartsWith("Microsoft.", StringComparison.Ordinal);
}
