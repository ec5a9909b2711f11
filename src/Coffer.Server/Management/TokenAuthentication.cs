using System.Text.Encodings.Web;
using Coffer.Auth;
using Coffer.Server.Audit;
using Coffer.Server.Management.Oidc;
using Coffer.Server.WebConsole;
using Coffer.Storage;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Management;

/// <summary>
/// The management API's authentication scheme: <c>Authorization: Bearer &lt;token&gt;</c>, a Coffer
/// token looked up by its SHA-256 (the database never holds a usable token) or an identity-provider
/// JWT (<see cref="OidcTokenValidator"/>). A valid one becomes the request's principal, carrying its
/// <see cref="Caller"/> (<see cref="CallerOf"/>). Authentication only says who calls; authorization
/// decides whether the call goes on (ManagementAccess), and the challenge and the forbidden answer are
/// written here with their audit records (TokenAuthentication.Refusals.cs), never naming the presented token.
/// </summary>
internal sealed partial class TokenAuthentication(
    IOptionsMonitor<AuthenticationSchemeOptions> options, UrlEncoder encoder,
    ICofferStorage storage, TimeProvider time, AuditLog audit, ILogger<TokenAuthentication> logger, ConsoleSessions sessions, OidcTokenValidator? oidc = null)
    // The base class would log every refused call at Information ("was challenged", "was forbidden"),
    // so any caller could fill the log; the audit record already holds each refusal, and this class logs
    // only what the audit log could not record.
    : AuthenticationHandler<AuthenticationSchemeOptions>(options, NullLoggerFactory.Instance, encoder)
{
    public const string SchemeName = "CofferToken";

    /// <summary>Why this request's bearer stands for nobody; the challenge answers it.</summary>
    private Refusal _refusal = new("no bearer token", null);

    /// <summary>The authenticated caller of this request, or null (anonymous endpoints).</summary>
    public static Caller? CallerOf(HttpContext http) => CallerIdentity.Of(http.User);

    /// <summary>Runs a call as <paramref name="caller"/> without a token: only for an approved request,
    /// re-run as its requester (<see cref="Approvals.ApprovalExecutor"/>).</summary>
    internal static void SetCaller(HttpContext http, Caller caller) => http.User = CallerIdentity.Principal(caller);

    /// <summary>Who makes a change, as stored with what it changed: the caller's id (a token id, never
    /// the token), or "anonymous".</summary>
    public static string CallerId(HttpContext http) => CallerOf(http)?.Id ?? "anonymous";

    /// <summary>The caller a valid bearer stands for. An identity-provider login whose groups give no role
    /// is refused here, so it is nobody even where no token is needed; its first use on an endpoint that
    /// needs a caller is recorded as a login.</summary>
    protected override async Task<AuthenticateResult> HandleAuthenticateAsync()
    {
        // No endpoint: the answer is 404 whoever asks, so no token is looked up or validated for it.
        if (Context.GetEndpoint() is not { } endpoint)
        {
            return AuthenticateResult.NoResult();
        }

        var (caller, refusal, login) = await CheckAsync(Context);
        if (caller is null)
        {
            _refusal = refusal;
            return AuthenticateResult.Fail(refusal.Reason);
        }

        if (login is not null)
        {
            if (caller.Grants.Count == 0)
            {
                _refusal = new Refusal("no role", null, WithoutRole: caller);
                return AuthenticateResult.Fail(_refusal.Reason);
            }

            if (endpoint.Metadata.GetMetadata<IAllowAnonymous>() is null)
            {
                await RecordLoginAsync(Context, caller, login);
            }
        }

        return AuthenticateResult.Success(new AuthenticationTicket(CallerIdentity.Principal(caller), SchemeName));
    }

    private async Task<Authentication> CheckAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (header.Length == 0 && sessions.SessionIdOf(http.Request) is { } sessionId)
        {
            return await CheckSessionAsync(http, sessionId);
        }

        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Refuse("no bearer token");
        }

        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length is > 0 and <= MaxJwtLength && OidcTokenValidator.LooksLikeJwt(presented))
        {
            return await CheckJwtAsync(http, presented);
        }

        if (presented.Length is 0 or > 512)
        {
            return Refuse("malformed bearer token");
        }

        var token = await storage.System.FindTokenByHashAsync(ApiTokenHash.Of(presented), http.RequestAborted);
        if (token is null)
        {
            return Refuse("unknown token");
        }

        var (caller, refusal) = await CallerOfTokenAsync(storage, token, time.GetUtcNow(), http.RequestAborted);
        return caller is null ? Refuse(refusal!, token.Id) : new Authentication(caller, default, null);
    }

    /// <summary>A web console call: its session cookie stands for the session's token, and a call that
    /// changes something must carry the session's CSRF token as well (docs/console.md, "Sessions").</summary>
    private async Task<Authentication> CheckSessionAsync(HttpContext http, string sessionId)
    {
        if (ManagementAudit.IsMutating(http.Request.Method) && !ConsoleSessions.HasCsrfToken(http.Request, sessionId))
        {
            return Refuse("console call without its CSRF token", status: 403,
                detail: $"A console call that changes something must carry the session's CSRF token in the {ConsoleSessions.CsrfHeader} header.");
        }

        var (caller, refusal) = await sessions.CallerOfAsync(sessionId, http.RequestAborted);
        return caller is null
            ? Refuse(refusal!, detail: "The console session has ended or its token is no longer valid; log in again.")
            : new Authentication(caller, default, null);
    }

    /// <summary>Who a stored token stands for now, or why it stands for nobody: a bare token is its own
    /// caller while valid; a token of a user or app carries its owner's current roles and groups, read
    /// at each call, while the token is valid and the owner enabled. Also how an approved request's
    /// requester is checked again before it runs (<see cref="Approvals.ApprovalExecutor"/>).</summary>
    internal static async Task<(Caller? Caller, string? Refusal)> CallerOfTokenAsync(ICofferStorage storage, ApiToken token, DateTimeOffset now, CancellationToken ct)
    {
        if (!token.IsValidAt(now))
        {
            return (null, "expired or revoked token");
        }

        if (token.OwnerId is null)
        {
            return (Caller.ForToken(token), null);
        }

        var owner = await storage.Principals.GetAsync(token.OwnerId, ct);
        return owner is { IsEnabled: true } ? (Caller.ForPrincipal(owner, token.Id), null) : (null, "owner disabled");
    }

    private static Authentication Refuse(string reason, string? tokenId = null, int status = 401, string? detail = null) =>
        new(null, new Refusal(reason, tokenId, status, detail), null);

    /// <summary>Why a bearer was refused: the audit reason, the token id when known, the status, and what
    /// the caller is told when it is more than <see cref="TokenRequired"/>.</summary>
    /// <param name="WithoutRole">An identity-provider login whose groups map to no role: refused with a 403 naming them.</param>
    private readonly record struct Refusal(string Reason, string? TokenId, int Status = 401, string? Detail = null, Caller? WithoutRole = null);

    /// <param name="Login">Set for an identity-provider token, whose first use is recorded as a login.</param>
    private readonly record struct Authentication(Caller? Caller, Refusal Refusal, OidcLogin? Login);
}
