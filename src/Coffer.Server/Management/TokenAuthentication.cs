using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Audit;
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
/// an <c>auth.failed</c> audit record with the source IP and why — never the presented token.
/// </summary>
internal sealed partial class TokenAuthentication(ICofferStorage storage, Authorizer authorizer, TimeProvider time, AuditLog audit, ILogger<TokenAuthentication> logger)
{
    private const string CallerItem = "coffer.caller";

    public async Task InvokeAsync(HttpContext context, RequestDelegate next)
    {
        var endpoint = context.GetEndpoint();
        if (endpoint is null || endpoint.Metadata.GetMetadata<IAllowAnonymous>() is not null)
        {
            await next(context);
            return;
        }

        var (caller, refusal) = await CheckAsync(context);
        if (caller is null)
        {
            await RecordRefusalAsync(context, refusal);
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await Problems.Unauthorized("A valid management token is required: send 'Authorization: Bearer <token>' (COFFER_TOKEN for the CLI).")
                .ExecuteAsync(context);
            return;
        }

        context.Items[CallerItem] = caller;
        var required = endpoint.Metadata.GetMetadata<RequiredPermission>()?.Permission;
        if (!await authorizer.AllowsAsync(caller, required, context))
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

    /// <summary>The caller a valid token stands for, or null.</summary>
    public async Task<Caller?> AuthenticateAsync(HttpContext http) => (await CheckAsync(http)).Caller;

    private async Task<(Caller? Caller, Refusal Refusal)> CheckAsync(HttpContext http)
    {
        var header = http.Request.Headers.Authorization.ToString();
        if (!header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return (null, new Refusal("no bearer token", null));
        }

        var presented = header["Bearer ".Length..].Trim();
        if (presented.Length is 0 or > 512)
        {
            return (null, new Refusal("malformed bearer token", null));
        }

        var token = await storage.System.FindTokenByHashAsync(ApiTokenHash.Of(presented), http.RequestAborted);
        if (token is null)
        {
            return (null, new Refusal("unknown token", null));
        }

        if (!token.IsValidAt(time.GetUtcNow()))
        {
            return (null, new Refusal("expired or revoked token", token.Id));
        }

        if (token.OwnerId is null)
        {
            return (Caller.ForToken(token), default);
        }

        // A token of a user or app carries its owner's current roles and groups, read at each call.
        var owner = await storage.Principals.GetAsync(token.OwnerId, http.RequestAborted);
        return owner is { IsEnabled: true } ? (Caller.ForPrincipal(owner, token.Id), default) : (null, new Refusal("owner disabled", token.Id));
    }

    private Task RecordRefusalAsync(HttpContext http, Refusal refusal) =>
        RecordAsync(http, AuditActions.AuthFailed, AuditActorKinds.Anonymous, refusal.TokenId, refusal.Reason);

    /// <summary>A permission denial is an audit record like a failed login (issue 7).</summary>
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

    private readonly record struct Refusal(string Reason, string? TokenId);

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "A management call was refused ({Reason}) and the audit log could not record it")]
        public static partial void RefusalNotAudited(ILogger logger, string reason, Exception exception);
    }
}
