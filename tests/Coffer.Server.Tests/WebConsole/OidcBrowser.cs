using System.Net;
using Coffer.Testing;
using Coffer.Testing.Oidc;

namespace Coffer.Server.Tests.WebConsole;

/// <summary>A browser following the console's login through the identity provider step by step, no
/// redirect followed, so each answer can be checked: Coffer's start, the issuer's authorization endpoint,
/// Coffer's callback.</summary>
internal sealed class OidcBrowser(DevServer node, TestIssuer issuer)
{
    public HttpClient NoRedirects(Uri? baseAddress = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, UseCookies = false }) { BaseAddress = baseAddress ?? node.Server.AdminUrl };

    /// <summary>The whole login: Coffer's last answer, a redirect to the console or to its login screen.</summary>
    public async Task<HttpResponseMessage> LogInAsync()
    {
        var start = await StartAsync();
        return await CallbackAsync(await AuthorizeAsync(start.Authorize), start.FlowCookie);
    }

    /// <summary>Coffer's start: where it sends the browser, and the flow cookie ("name=value") it sets.</summary>
    public async Task<(Uri Authorize, string FlowCookie, string SetCookie)> StartAsync()
    {
        using var http = NoRedirects();
        using var response = await http.GetAsync("/api/v1/session/oidc/start");
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        var setCookie = Assert.Single(response.Headers.GetValues("Set-Cookie"));
        return (response.Headers.Location!, setCookie.Split(';')[0], setCookie);
    }

    /// <summary>The issuer's authorization endpoint: the address it sends the browser back to.</summary>
    public async Task<Uri> AuthorizeAsync(Uri authorize)
    {
        using var http = NoRedirects(new Uri(issuer.Issuer));
        using var response = await http.GetAsync(authorize);
        Assert.Equal(HttpStatusCode.Redirect, response.StatusCode);
        return response.Headers.Location!;
    }

    public async Task<HttpResponseMessage> CallbackAsync(Uri back, string? flowCookie)
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
    public static string? SessionCookie(HttpResponseMessage response) =>
        response.Headers.TryGetValues("Set-Cookie", out var cookies)
            ? cookies.Select(c => c.Split(';')[0]).SingleOrDefault(c => c.StartsWith("coffer-session=", StringComparison.Ordinal))
            : null;

    /// <summary>No secret in the audit database, nor in the log as <c>coffer server</c> writes it: the
    /// framework's categories at warning and above only (src/Coffer.Cli/Commands/Logging.cs), since its
    /// request line at information names the callback's address, code included. Coffer's own events are
    /// all checked, at every level.</summary>
    public void AssertNowhere(IEnumerable<string> secrets)
    {
        using var db = new AuditDatabase(node);
        var records = db.DumpAll();
        var logged = string.Join('\n', node.Logs.Lines.Where(line => !IsFrameworkChatter(line)));
        foreach (var secret in secrets)
        {
            Assert.DoesNotContain(secret, records, StringComparison.Ordinal);
            Assert.DoesNotContain(secret, logged, StringComparison.Ordinal);
        }
    }

    private static bool IsFrameworkChatter(string line) =>
        line.Split(' ', 3) is [var level, var category, _] && level is "Trace" or "Debug" or "Information" && category.StartsWith("Microsoft.", StringComparison.Ordinal);
}
