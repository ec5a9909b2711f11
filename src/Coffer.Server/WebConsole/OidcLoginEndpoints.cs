using Coffer.Server.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Mvc;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;

namespace Coffer.Server.WebConsole;

/// <summary>
/// /api/v1/session/oidc: the web console's login through the identity provider (docs/console.md,
/// "Login through the identity provider"). The browser navigates to <c>start</c>, which sends it to the
/// IdP; the IdP sends it back to <c>callback</c>, which opens the session and sends it to the console,
/// or to the console's login screen with the reason. Off (404) unless Oidc names a client id.
/// </summary>
internal static class OidcLoginEndpoints
{
    private const string Console = "/console/";

    public static void Map(RouteGroupBuilder session)
    {
        var group = session.MapGroup("/oidc");
        group.MapGet("", Describe).AllowAnonymous()
            .WithSummary("Whether the console may log in through the identity provider, and its name (404 when it may not)");
        group.MapGet("/start", StartAsync).AllowAnonymous()
            .WithSummary("Starts a console login through the identity provider: a redirect to its authorization endpoint (authorization code with PKCE)");
        group.MapGet("/callback", CompleteAsync).AllowAnonymous()
            .WithSummary("Where the identity provider sends the browser back: opens the console session and redirects to the console, or to its login screen with the reason");
    }

    private static Results<Ok<OidcLoginView>, ProblemHttpResult> Describe(HttpContext http) =>
        LoginOf(http) is { } login
            ? TypedResults.Ok(new OidcLoginView(login.ProviderName, "/api/v1/session/oidc/start"))
            : NotConfigured();

    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> StartAsync(HttpContext http, CancellationToken ct)
    {
        if (LoginOf(http) is not { } login)
        {
            return NotConfigured();
        }

        if (await login.Start(login.RedirectUri(Origin(http)), ct) is not { } start)
        {
            return ToLoginScreen("unreachable");
        }

        http.Response.Cookies.Append(login.FlowCookieName, start.Flow.Cookie, login.FlowCookieOptions());
        return TypedResults.Redirect(start.Location.AbsoluteUri);
    }

    /// <param name="iss">RFC 9207's issuer, and <paramref name="session_state"/> OpenID Connect Session
    /// Management's: some IdPs add them; they are taken so the call is not refused, and not needed.</param>
#pragma warning disable IDE0060, CA1707 // the query's names are the IdP's
    private static async Task<Results<RedirectHttpResult, ProblemHttpResult>> CompleteAsync(
        HttpContext http, CancellationToken ct,
        [FromQuery] string? code = null, [FromQuery] string? state = null, [FromQuery] string? error = null,
        [FromQuery(Name = "error_description")] string? errorDescription = null, [FromQuery] string? iss = null,
        [FromQuery(Name = "session_state")] string? session_state = null)
#pragma warning restore IDE0060, CA1707
    {
        if (LoginOf(http) is not { } login)
        {
            return NotConfigured();
        }

        var flow = OidcLoginFlow.Parse(http.Request.Cookies[login.FlowCookieName]);
        // The flow is used once, whatever the outcome: a second answer finds no cookie.
        http.Response.Cookies.Delete(login.FlowCookieName, login.FlowCookieOptions());
        var outcome = await login.CompleteAsync(new OidcCallback(code, state, error), flow, login.RedirectUri(Origin(http)), ManagementAudit.SourceIp(http), ct);
        if (outcome.Session is not { Id: { } id })
        {
            return ToLoginScreen(outcome.ErrorCode);
        }

        var sessions = http.RequestServices.GetRequiredService<ConsoleSessions>();
        http.Response.Cookies.Append(sessions.CookieName, id, sessions.CookieOptions());
        return TypedResults.Redirect(Console);
    }

    private static OidcConsoleLogin? LoginOf(HttpContext http) => http.RequestServices.GetService<OidcConsoleLogin>();

    private static Uri Origin(HttpContext http) => new($"{http.Request.Scheme}://{http.Request.Host}");

    /// <summary>The console's login screen reads the reason's code from its address and says it in words.</summary>
    private static RedirectHttpResult ToLoginScreen(string error) => TypedResults.Redirect(Console + "#/login?error=" + error);

    private static ProblemHttpResult NotConfigured() =>
        Problems.Make(404, "No login through the identity provider", "This Coffer's Oidc section names no ClientId, so the console logs in with a management token only.");
}

/// <summary>The identity provider the console may log in through.</summary>
/// <param name="Provider">Its name, for "Log in with …".</param>
/// <param name="Start">Where the browser goes to start the login.</param>
internal sealed record OidcLoginView(string Provider, string Start);
