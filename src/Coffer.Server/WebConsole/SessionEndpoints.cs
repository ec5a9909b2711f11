using Coffer.Server.Management;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.HttpResults;
using Microsoft.AspNetCore.Routing;

namespace Coffer.Server.WebConsole;

/// <summary>
/// /api/v1/session: the web console's login and logout (docs/console.md, "Sessions"). Login takes a
/// Coffer token once and answers with the session cookie; every later call of the console is an
/// ordinary /api/v1 call carrying that cookie instead of a bearer token.
/// </summary>
internal static class SessionEndpoints
{
    public static void Map(RouteGroupBuilder api)
    {
        var group = api.MapGroup("/session").WithTags("Console session");
        group.MapPost("", OpenAsync).AllowAnonymous().WithAuditAction("console.login")
            .WithSummary("Log in to the web console with a token: sets the HttpOnly session cookie and answers the session's CSRF token");
        group.MapGet("", Describe).AllowAnonymous()
            .WithSummary("This browser's console session: its caller, CSRF token and limits (404 without a session cookie)");
        group.MapDelete("", CloseAsync).AllowAnonymous().WithAuditAction("console.logout")
            .WithSummary("Log out: ends the session and clears its cookie");
        OidcLoginEndpoints.Map(group);
    }

    private static async Task<Results<Created<SessionView>, ProblemHttpResult>> OpenAsync(
        OpenSessionRequest request, HttpContext http, ConsoleSessions sessions, CancellationToken ct)
    {
        if (string.IsNullOrEmpty(request.Token))
        {
            return Problems.BadRequest("token is required: the management token to log in with.");
        }

        var (id, caller, expires, _) = await sessions.OpenAsync(request.Token, ct);
        if (id is null || caller is null)
        {
            // The reason goes to the audit record only: the answer does not tell a guesser which it was.
            return Problems.Make(401, "Not authenticated", "The token is unknown, expired or revoked, or its owner is disabled.");
        }

        http.Response.Cookies.Append(sessions.CookieName, id, sessions.CookieOptions());
        TokenAuthentication.SetCaller(http, caller);
        return TypedResults.Created("/api/v1/session", View(caller, id, expires));
    }

    private static Results<Ok<SessionView>, ProblemHttpResult> Describe(HttpContext http, ConsoleSessions sessions) =>
        sessions.SessionIdOf(http.Request) is { } id && TokenAuthentication.CallerOf(http) is { } caller
            ? TypedResults.Ok(View(caller, id, null))
            : Problems.Make(404, "No console session", "This request carries no live console session; log in with POST /api/v1/session.");

    private static async Task<NoContent> CloseAsync(HttpContext http, ConsoleSessions sessions, CancellationToken ct)
    {
        if (sessions.SessionIdOf(http.Request) is { } id)
        {
            await sessions.CloseAsync(id, ct);
        }

        http.Response.Cookies.Delete(sessions.CookieName, sessions.CookieOptions());
        return TypedResults.NoContent();
    }

    private static SessionView View(Coffer.Auth.Caller caller, string sessionId, DateTimeOffset? expiresAt) => new(
        caller.Id, caller.Kind, caller.Name, ConsoleSessions.CsrfTokenOf(sessionId), ConsoleSessions.CsrfHeader,
        (int)ConsoleSessions.IdleTimeout.TotalSeconds, expiresAt);
}
