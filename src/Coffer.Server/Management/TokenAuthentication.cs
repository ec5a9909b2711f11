using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Audit;
using Coffer.Server.Management.Oidc;
using Coffer.Storage;
using Microsoft.AspNetCore.Authorization;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Management;

/// <summary>
/// Authenticates management calls with <c>Authorization: Bearer &lt;token&gt;</c>. Tokens are looked
/// up by their SHA-256, so the database never holds a usable token. Runs as middleware after
/// routing and before the endpoint, so an unauthenticated caller learns nothing from how its body
/// would have been parsed; endpoints marked <c>AllowAnonymous</c> are let through. Every refusal is
/// an <c>auth.failed</c> audit record with the source IP and why — never the presented token. The
/// query string is checked (<see cref="QueryParameters"/>) after authentication and before the
/// permission check, which reads it.
/// </summary>
internal sealed partial class TokenAuthentication(
    ICofferStorage storage, Authorizer authorizer, QueryParameters queries, TimeProvider time, AuditLog audit, ILogger<TokenAuthentication> logger,
    OidcTokenValidator? oidc = null)
{
    private const string CallerItem = "coffer.caller";

    /// <summary>What a refused caller is told unless the refusal says more.</summary>
    private const string TokenRequired = "A valid management token is required: send 'Authorization: Bearer <token>' (COFFER_TOKEN for the CLI).";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await (queries.Refusal(context)?.ExecuteAsync(context) ?? next(context));
            return;
        }

        var (caller, refusal, login) = await CheckAsync(context);
        if (caller is null)
        {
            await RecordRefusalAsync(context, refusal);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Make(refusal.Status, refusal.Status == 401 ? "Not authenticated" : "Identity provider unreachable", refusal.Detail ?? TokenRequired)
                .ExecuteAsync(context);
            return;
        }

        context.Items[CallerItem] = caller;
        if (login is not null)
        {
            if (caller.Grants.Count == 0)
            {
                await RecordNoRoleAsync(context, caller);
                return;
            }

            await RecordLoginAsync(context, caller, login);
        }

        if (queries.Refusal(context) is { } malformed)
        {
            await malformed.ExecuteAsync(context);
            return;
        }

        var required = endpoint.Metadata.GetMetadata<RequiredPermission>()?.Permission;
        if (endpoint.Metadata.GetMetadata<AnyCaller>() is null && !await authorizer.AllowsAsync(caller, required, context))
        {
            var needs = required ?? "administrator";
            await RecordDenialAsync(context, caller, needs);
            await Problems.Make(403, "Forbidden", $"The caller's roles ({RoleList(caller)}) do not have the permission this call needs ({needs}) here.")
                .ExecuteAsync(context);
            return;
        }

        await next(context);
    }

    /// <summary>The authenticated caller of this request, or null (anonymous endpoints).</summary>
    public static Caller? CallerOf(HttpContext http) => http.Items[CallerItem] as Caller;

    /// <summary>Runs a call as <paramref name="caller"/> without a token: only for an approved request,
    /// re-run as its requester (<see cref="Approvals.ApprovalExecutor"/>).</summary>
    internal static void SetCaller(HttpContext http, Caller caller) => http.Items[CallerItem] = caller;

    /// <summary>Who makes a change, as stored with what it changed: the caller's id (a token id, never
    /// the token), or "anonymous".</summary>
    public static string CallerId(HttpContext http) => CallerOf(http)?.Id ?? "anonymous";

    /// <summary>The caller a valid token stands for (an identity-provider login only when it gives a
    /// role), or null. Records nothing (for anonymous endpoints that show more to a known caller).</summary>
    public async Task<Caller?> AuthenticateAsync(HttpContext http) =>
        await CheckAsync(http) is { Caller: { } caller } authentication && (authentication.Login is null || caller.Grants.Count > 0) ? caller : null;

    private async Task<Authentication> CheckAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
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

    private Task RecordRefusalAsync(HttpContext http, Refusal refusal) =>
        RecordAsync(http, AuditActions.AuthFailed, AuditActorKinds.Anonymous, refusal.TokenId, refusal.Reason);

    /// <summary>A permission denial is an audit record like a failed login.</summary>
    private Task RecordDenialAsync(HttpContext http, Caller caller, string permission) =>
        RecordAsync(http, AuditActions.AuthDenied, caller.Kind, caller.Id, "needs " + permission + " (roles " + RoleList(caller) + ")");

    private static string RoleList(Caller caller) => caller.Grants.Count == 0 ? "none" :
        string.Join(", ", caller.Grants.Select(g => g.KeyStoreId is null ? g.Role : g.Role + " on " + g.KeyStoreId));

    /// <summary>The call is refused either way; a refusal the audit store cannot take is logged, not
    /// turned into another answer (nothing changes, so there is nothing to fail closed on).</summary>
    private async Task RecordAsync(HttpContext http, string action, string actorKind, string? actorId, string reason)
    {
        try
        {
            await audit.AppendAsync(new AuditEvent
            {
                Action = action,
                Outcome = AuditOutcome.Denied,
                ActorKind = actorKind,
                ActorId = actorId,
                SourceIp = ManagementAudit.SourceIp(http),
                Reason = reason,
                Details = http.Request.Method + " " + http.Request.Path,
            }, http.RequestAborted);
        }
        catch (AuditUnavailableException e)
        {
            Log.RefusalNotAudited(logger, reason, e);
        }
    }

    /// <summary>Why a call was refused: the audit reason, the token id when known, the status, and what
    /// the caller is told when it is more than <see cref="TokenRequired"/>.</summary>
    private readonly record struct Refusal(string Reason, string? TokenId, int Status = 401, string? Detail = null);

    /// <param name="Login">Set for an identity-provider token, whose first use is recorded as a login.</param>
    private readonly record struct Authentication(Caller? Caller, Refusal Refusal, OidcLogin? Login);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "A management call was refused ({Reason}) and the audit log could not record it")]
        public static partial void RefusalNotAudited(ILogger logger, string reason, Exception exception);
    }
}
