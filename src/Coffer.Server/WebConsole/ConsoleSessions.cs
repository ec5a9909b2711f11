using System.Buffers.Text;
using System.Security.Cryptography;
using System.Text;
using Coffer.Auth;
using Coffer.Server.Hosting;
using Coffer.Server.Management;
using Coffer.Server.Management.Oidc;
using Coffer.Server.Services;
using Coffer.Storage;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.WebConsole;

/// <summary>
/// The web console's login sessions (docs/console.md, "Sessions"). A person pastes a Coffer token once;
/// the browser then holds only a random session id in an HttpOnly, SameSite=Strict cookie (Secure, with
/// the <c>__Host-</c> prefix, under TLS), never the token. The database holds the id's SHA-256 and the
/// token's id, and every call is the token's caller as it is at that moment: a revoked token, a disabled
/// owner, an expired session or one idle too long is nobody.
/// </summary>
/// <remarks>
/// Cookie-authenticated calls that change something must also carry the session's CSRF token in
/// <see cref="CsrfHeader"/>: a page of another site cannot read it, and cannot set the header on a
/// request it makes the browser send. The CSRF token is a hash of the session id, so it need not be
/// stored and reveals nothing of the id.
/// </remarks>
internal sealed class ConsoleSessions(ICofferStorage storage, TimeProvider time, bool secure, OidcOptions? oidc = null)
{
    /// <summary>A session unused for this long ends.</summary>
    public static readonly TimeSpan IdleTimeout = TimeSpan.FromMinutes(15);

    /// <summary>A session ends this long after login, used or not.</summary>
    public static readonly TimeSpan Lifetime = TimeSpan.FromHours(8);

    public const string CsrfHeader = "X-Coffer-CSRF";

    // A session's last use is written at most this often: a page's burst of calls costs one write.
    private static readonly TimeSpan TouchInterval = TimeSpan.FromMinutes(1);

    private const int IdBytes = 32;

    /// <summary>The cookie's name: under TLS the <c>__Host-</c> prefix makes the browser refuse it
    /// unless Secure, for path /, and from this host only.</summary>
    public string CookieName { get; } = secure ? "__Host-coffer-session" : "coffer-session";

    /// <summary>Opens a session for a valid token, or says why the token opens nothing. The session
    /// id goes into the cookie only; it ends at the token's expiry if that comes first.</summary>
    public async Task<OpenedSession> OpenAsync(string presentedToken, CancellationToken ct)
    {
        if (presentedToken.Length is 0 or > 512)
        {
            return new OpenedSession(null, null, default, "malformed token");
        }

        var token = await storage.System.FindTokenByHashAsync(ApiTokenHash.Of(presentedToken), ct);
        if (token is null)
        {
            return new OpenedSession(null, null, default, "unknown token");
        }

        var now = time.GetUtcNow();
        var (caller, refusal) = await TokenAuthentication.CallerOfTokenAsync(storage, token, now, ct);
        if (caller is null)
        {
            return new OpenedSession(null, null, default, refusal);
        }

        var (id, expires) = await AddAsync(token.Id, null, token.ExpiresAt, now, ct);
        return new OpenedSession(id, caller, expires, null);
    }

    /// <summary>Opens a session for a login through the identity provider whose ID token was checked
    /// and whose caller was derived from it (docs/console.md, "Login through the identity provider").
    /// The session keeps the login's subject, name and groups, never the token, and ends at the ID
    /// token's expiry if that comes first.</summary>
    public async Task<OpenedSession> OpenAsync(ConsoleOidcLogin login, DateTimeOffset idTokenExpiresAt, Caller caller, CancellationToken ct)
    {
        var (id, expires) = await AddAsync(null, login, idTokenExpiresAt, time.GetUtcNow(), ct);
        return new OpenedSession(id, caller, expires, null);
    }

    private async Task<(string Id, DateTimeOffset ExpiresAt)> AddAsync(string? tokenId, ConsoleOidcLogin? login, DateTimeOffset? endsBy, DateTimeOffset now, CancellationToken ct)
    {
        // Sessions that ended go at the next login: the table holds the live ones and a few more.
        await storage.ConsoleSessions.DeleteEndedAsync(now, now - IdleTimeout, ct);
        var id = Base64Url.EncodeToString(RandomNumberGenerator.GetBytes(IdBytes));
        var expires = endsBy is { } end && end < now + Lifetime ? end : now + Lifetime;
        await storage.ConsoleSessions.AddAsync(new ConsoleSession(HashOf(id), tokenId, now, now, expires, login), ct);
        return (id, expires);
    }

    /// <summary>The caller a session cookie stands for now, or why it stands for nobody. Records the
    /// use, which moves the idle timeout on.</summary>
    public async Task<(Caller? Caller, string? Refusal)> CallerOfAsync(string sessionId, CancellationToken ct)
    {
        var hash = HashOf(sessionId);
        var session = await storage.ConsoleSessions.FindAsync(hash, ct);
        var now = time.GetUtcNow();
        if (session is null || !session.IsLiveAt(now, IdleTimeout))
        {
            return (null, "unknown or ended console session");
        }

        var (caller, refusal) = await CallerOfAsync(session, now, ct);
        if (caller is not null && now - session.LastSeenAt >= TouchInterval)
        {
            await storage.ConsoleSessions.TouchAsync(hash, now, ct);
        }

        return (caller, refusal);
    }

    /// <summary>Who a live session stands for now: its token's caller as the token is now, or the caller
    /// its identity-provider login's groups give under today's Oidc settings (none once they are gone),
    /// as a bearer JWT with those groups would be.</summary>
    private async Task<(Caller? Caller, string? Refusal)> CallerOfAsync(ConsoleSession session, DateTimeOffset now, CancellationToken ct)
    {
        if (session.Oidc is { } login)
        {
            if (oidc is not { HasBrowserLogin: true })
            {
                return (null, "console session of an identity-provider login, which is no longer configured");
            }

            var (caller, _) = await OidcCallers.CallerOfAsync(storage, login.Subject, login.Name, login.Groups, oidc.GrantsOf(login.Groups), ct);
            return caller is null ? (null, "oidc: user disabled") : caller.Grants.Count == 0 ? (null, "no role") : (caller, null);
        }

        var token = session.TokenId is null ? null : await storage.System.GetTokenAsync(session.TokenId, ct);
        return token is null ? (null, "unknown or ended console session") : await TokenAuthentication.CallerOfTokenAsync(storage, token, now, ct);
    }

    /// <summary>Ends the session (logout); a second logout finds nothing and is not an error.</summary>
    public Task CloseAsync(string sessionId, CancellationToken ct) => storage.ConsoleSessions.DeleteAsync(HashOf(sessionId), ct);

    /// <summary>The session id of this request's cookie, or null.</summary>
    public string? SessionIdOf(HttpRequest request) =>
        request.Cookies.TryGetValue(CookieName, out var id) && id.Length is > 0 and <= 64 ? id : null;

    /// <summary>The CSRF token of a session: a page of this origin reads it from the login answer or
    /// <c>GET /api/v1/session</c> and sends it in <see cref="CsrfHeader"/>.</summary>
    public static string CsrfTokenOf(string sessionId) =>
        Base64Url.EncodeToString(SHA256.HashData(Encoding.UTF8.GetBytes("coffer/console/csrf\0" + sessionId)));

    /// <summary>Whether the request carries its session's CSRF token (compared in constant time).</summary>
    public static bool HasCsrfToken(HttpRequest request, string sessionId)
    {
        return ConstantTime.TextEquals(request.Headers[CsrfHeader].ToString(), CsrfTokenOf(sessionId));
    }

    public CookieOptions CookieOptions(DateTimeOffset? expires = null) => new()
    {
        HttpOnly = true,
        Secure = secure,
        SameSite = SameSiteMode.Strict,
        Path = "/",
        Expires = expires,
        IsEssential = true,
    };

    private static byte[] HashOf(string sessionId) => SHA256.HashData(Encoding.UTF8.GetBytes(sessionId));
}

/// <summary>A login's outcome: the session id and its caller, or the refusal (for the audit record).</summary>
internal readonly record struct OpenedSession(string? Id, Caller? Caller, DateTimeOffset ExpiresAt, string? Refusal);
