using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Audit;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Management;

/// <summary>The answers to refused management calls, each an audit record that names why and never
/// the presented token: a bearer that stands for nobody (401 <c>auth.failed</c>, 503 when the identity
/// provider cannot be reached, 403 for a console call that changes something without its CSRF token,
/// 403 <c>auth.denied</c> for a login with no role), and a caller whose roles
/// lack the permission the endpoint needs (403 <c>auth.denied</c>).</summary>
internal sealed partial class TokenAuthentication
{
    /// <summary>What a refused caller is told unless the refusal says more.</summary>
    private const string TokenRequired = "A valid management token is required: send 'Authorization: Bearer <token>' (COFFER_TOKEN for the CLI).";

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        await HandleAuthenticateOnceSafeAsync();
        var refusal = _refusal;
        if (refusal.WithoutRole is { } caller)
        {
            await RefuseWithoutRoleAsync(Context, caller);
            return;
        }

        await RecordAsync(Context, AuditActions.AuthFailed, AuditActorKinds.Anonymous, refusal.TokenId, refusal.Reason);
        if (refusal.Status == 401)
        {
            Response.Headers.WWWAuthenticate = "Bearer";
        }

        var title = refusal.Status switch
        {
            401 => "Not authenticated",
            403 => "Forbidden",
            _ => "Identity provider unreachable",
        };
        await Problems.Make(refusal.Status, title, refusal.Detail ?? TokenRequired).ExecuteAsync(Context);
    }

    /// <summary>A permission denial is an audit record like a failed login.</summary>
    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        var caller = CallerOf(Context) ?? throw new InvalidOperationException("Only an authenticated caller is forbidden.");
        var needs = EndpointPermissions.Needs(Context.GetEndpoint()?.Metadata ?? []);
        await RecordAsync(Context, AuditActions.AuthDenied, caller.Kind, caller.Id, "needs " + needs + " (roles " + RoleList(caller) + ")");
        await Problems.Make(403, "Forbidden", $"The caller's roles ({RoleList(caller)}) do not have the permission this call needs ({needs}) here.")
            .ExecuteAsync(Context);
    }

    internal static string RoleList(Caller caller) => caller.Grants.Count == 0 ? "none" :
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

    private static partial class Log
    {
        [LoggerMessage(EventId = 4002, Level = LogLevel.Warning, Message = "A management call was refused ({Reason}) and the audit log could not record it")]
        public static partial void RefusalNotAudited(ILogger logger, string reason, Exception exception);
    }
}
