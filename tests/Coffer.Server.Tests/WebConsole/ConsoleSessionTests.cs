using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>
/// The web console's sessions (docs/console.md, "Sessions") over a real listener: a token pasted once
/// becomes an HttpOnly, SameSite=Strict cookie; calls that change something need the CSRF token too;
/// logout, a revoked token and the idle timeout each end the session.
/// </summary>
public sealed class ConsoleSessionTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Fact]
    public async Task A_token_becomes_an_HttpOnly_SameSite_Strict_cookie_and_the_answer_holds_neither_token_nor_session_id()
    {
        var (cookie, session, setCookie) = await LogInAsync(Node, Node.Info.AdminToken);

        Assert.Contains("httponly", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("samesite=strict", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.Contains("path=/", setCookie, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("secure", setCookie, StringComparison.OrdinalIgnoreCase); // plain http here; TLS adds it
        var answer = session.ToJsonString();
        Assert.DoesNotContain(Node.Info.AdminToken, answer, StringComparison.Ordinal);
        Assert.DoesNotContain(cookie.Split('=', 2)[1], answer, StringComparison.Ordinal);
        Assert.Equal("X-Coffer-CSRF", (string?)session["csrfHeader"]);

        using var http = WithCookie(Node, cookie);
        using var stores = await http.GetAsync("/api/v1/keystores");
        await stores.JsonAsync(HttpStatusCode.OK);
        var whoami = await http.GetJsonAsync("/api/v1/sys/whoami");
        Assert.Equal((string?)session["callerId"], (string?)whoami["id"]);
    }

    [Fact]
    public async Task A_change_by_cookie_without_the_CSRF_token_is_refused_and_changes_nothing()
    {
        var (cookie, session, _) = await LogInAsync(Node, Node.Info.AdminToken);
        using var http = WithCookie(Node, cookie);
        var name = ManagementApi.Unique("csrf");

        using (var refused = await http.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name }))
        {
            var problem = await refused.ProblemAsync(HttpStatusCode.Forbidden);
            Assert.Contains("X-Coffer-CSRF", (string?)problem["detail"], StringComparison.Ordinal);
        }

        http.DefaultRequestHeaders.Add("X-Coffer-CSRF", "wrong" + (string?)session["csrfToken"]);
        using (var wrong = await http.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name }))
        {
            await wrong.ProblemAsync(HttpStatusCode.Forbidden);
        }

        Assert.DoesNotContain(name, (await Node.Admin.GetStringAsync("/api/v1/keystores")), StringComparison.Ordinal);

        http.DefaultRequestHeaders.Remove("X-Coffer-CSRF");
        http.DefaultRequestHeaders.Add("X-Coffer-CSRF", (string?)session["csrfToken"]);
        using var created = await http.PostJsonAsync("/api/v1/keystores", new { name, uriPrefix = "/" + name });
        await created.JsonAsync(HttpStatusCode.Created);
    }

    [Fact]
    public async Task A_wrong_token_opens_no_session_and_sets_no_cookie()
    {
        using var http = ManagementApi.ClientWith(Node, null);
        using var response = await http.PostJsonAsync("/api/v1/session", new { token = "coffer_not-a-real-token-aaaaaaaaaaaaaaaaaaaaaaaa" });

        await response.ProblemAsync(HttpStatusCode.Unauthorized);
        Assert.False(response.Headers.Contains("Set-Cookie"));
    }

    [Fact]
    public async Task Logout_and_a_revoked_token_each_end_the_session()
    {
        var (loggedOut, loggedOutSession, _) = await LogInAsync(Node, Node.Info.AdminToken);
        using (var http = WithCookie(Node, loggedOut))
        {
            http.DefaultRequestHeaders.Add("X-Coffer-CSRF", (string?)loggedOutSession["csrfToken"]);
            using var logout = await http.DeleteAsync("/api/v1/session");
            Assert.Equal(HttpStatusCode.NoContent, logout.StatusCode);
            Assert.Contains(logout.Headers.GetValues("Set-Cookie"), c => c.Contains("expires=Thu, 01 Jan 1970", StringComparison.OrdinalIgnoreCase));
            using var after = await http.GetAsync("/api/v1/keystores");
            await after.ProblemAsync(HttpStatusCode.Unauthorized);
        }

        using var token = await Node.Admin.PostJsonAsync("/api/v1/tokens", new { name = ManagementApi.Unique("console"), role = "auditor" });
        var created = await token.JsonAsync(HttpStatusCode.Created);
        var (cookie, _, _) = await LogInAsync(Node, (string)created["token"]!);
        using var auditor = WithCookie(Node, cookie);
        using (var before = await auditor.GetAsync("/api/v1/keys"))
        {
            await before.JsonAsync(HttpStatusCode.OK);
        }

        using (var revoke = await Node.Admin.DeleteAsync($"/api/v1/tokens/{(string)created["id"]!}"))
        {
            Assert.True(revoke.IsSuccessStatusCode);
        }

        using var revoked = await auditor.GetAsync("/api/v1/keys");
        await revoked.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task A_session_unused_for_the_idle_timeout_ends_and_one_in_use_goes_on()
    {
        var time = new FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await DevServer.StartAsync(time: time);
        var (busy, _, _) = await LogInAsync(node, node.Info.AdminToken);
        var (idle, _, _) = await LogInAsync(node, node.Info.AdminToken);
        using var busyHttp = WithCookie(node, busy);
        using var idleHttp = WithCookie(node, idle);

        for (var i = 0; i < 4; i++)
        {
            time.Advance(TimeSpan.FromMinutes(5));
            using var used = await busyHttp.GetAsync("/api/v1/keys");
            await used.JsonAsync(HttpStatusCode.OK);
        }

        using var ended = await idleHttp.GetAsync("/api/v1/keys");
        await ended.ProblemAsync(HttpStatusCode.Unauthorized);
    }

    [Fact]
    public async Task Login_and_logout_are_audited_under_the_token_and_no_record_holds_the_token_or_the_session_id()
    {
        var (cookie, session, _) = await LogInAsync(Node, Node.Info.AdminToken);
        using (var http = WithCookie(Node, cookie))
        {
            http.DefaultRequestHeaders.Add("X-Coffer-CSRF", (string?)session["csrfToken"]);
            using var logout = await http.DeleteAsync("/api/v1/session");
        }

        var records = await Node.Admin.GetStringAsync("/api/v1/audit/records?action=console.login&limit=1000");
        Assert.Contains($"\"actorId\":\"{(string?)session["callerId"]}\"", records, StringComparison.Ordinal);
        var all = await Node.Admin.GetStringAsync("/api/v1/audit/records?limit=1000");
        Assert.Contains("console.logout", all, StringComparison.Ordinal);
        Assert.DoesNotContain(cookie.Split('=', 2)[1], all, StringComparison.Ordinal);
        Assert.DoesNotContain(Node.Info.AdminToken, all, StringComparison.Ordinal);
    }

    /// <summary>Logs in like the console's page does; answers the cookie ("name=value"), the session and the Set-Cookie header.</summary>
    internal static async Task<(string Cookie, JsonNode Session, string SetCookie)> LogInAsync(DevServer node, string token)
    {
        using var http = ManagementApi.ClientWith(node, null);
        using var response = await http.PostJsonAsync("/api/v1/session", new { token });
        var session = await response.JsonAsync(HttpStatusCode.Created);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        return (setCookie.Split(';')[0], session, setCookie);
    }

    internal static HttpClient WithCookie(DevServer node, string cookie)
    {
        var http = ManagementApi.ClientWith(node, null);
        http.DefaultRequestHeaders.Add("Cookie", cookie);
        return http;
    }
}
