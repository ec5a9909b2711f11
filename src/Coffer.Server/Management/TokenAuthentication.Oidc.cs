using System.Globalization;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Server.Audit;
using Coffer.Server.Management.Oidc;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Coffer.Server.Management;

/// <summary>Identity-provider logins: a bearer that is a JWT is checked by
/// <see cref="OidcTokenValidator"/> and becomes a user <see cref="Caller"/>: the Coffer user whose OIDC subject
/// it carries, or <c>oidc:&lt;sub&gt;</c>; either way with the roles its groups map to.</summary>
internal sealed partial class TokenAuthentication
{
    /// <summary>Longer than any Coffer token; IdP tokens with many groups run to a few kilobytes.</summary>
    private const int MaxJwtLength = 16 * 1024;

    /// <summary>Most groups named in a record or an answer; the rest are counted.</summary>
    private const int GroupsShown = 20;

    private async Task<Authentication> CheckJwtAsync(HttpContext http, string jwt)
    {
        if (oidc is null)
        {
            return Refuse("OIDC not configured", detail:
                "This Coffer does not accept identity-provider tokens: OIDC is not configured (the Oidc section). Use a Coffer management token.");
        }

        var result = await oidc.ValidateAsync(jwt, http.RequestAborted);
        if (result.Identity is not { } identity)
        {
            var reason = OidcRefusals.Text(result.Refusal);
            return result.Refusal == OidcRefusal.IdpUnreachable
                ? Refuse("oidc: " + reason, status: 503, detail:
                    "The identity provider could not be reached to fetch its signing keys, so its tokens cannot be checked. Retry later, or use a Coffer management token.")
                : Refuse("oidc: " + reason, detail:
                    $"The identity-provider token was refused ({reason}). Get a new token from your identity provider for this Coffer's audience, or use a Coffer management token.");
        }

        var (caller, disabledUser) = await OidcCallers.CallerOfAsync(storage, identity.Subject, identity.Name, identity.Groups, identity.Grants, http.RequestAborted);
        if (caller is null)
        {
            return Refuse("oidc: user disabled", disabledUser, detail: "The Coffer user of this identity-provider login is disabled.");
        }

        return new Authentication(caller, default, new OidcLogin(jwt, identity));
    }

    /// <summary>A valid token whose groups give no role: 403 naming the groups (never the token), an
    /// <c>auth.denied</c> record.</summary>
    private async Task RefuseWithoutRoleAsync(HttpContext http, Caller caller)
    {
        var groups = GroupList(caller.Groups);
        await RecordAsync(http, AuditActions.AuthDenied, caller.Kind, caller.Id, "no role: identity-provider groups (" + groups + ") map to no Coffer role, and no Coffer user with a role has this subject");
        await Problems.Make(403, "Forbidden",
                $"You are signed in as '{caller.Name}', but your identity-provider groups ({groups}) map to no Coffer role and no Coffer user with a role has your subject. Ask an administrator to map one of the groups (Oidc.GroupRoles) or to add you as a user.")
            .ExecuteAsync(http);
    }

    /// <summary>An <c>auth.login</c> record the first time a token is used. A record the audit store
    /// cannot take is logged and the call goes on (as seal does: reaching the emergency levers must not
    /// wait for the audit store); changes fail closed in their own records, and the next call tries again.</summary>
    private async Task RecordLoginAsync(HttpContext http, Caller caller, OidcLogin login)
    {
        var identity = login.Identity;
        if (!oidc!.SeenTokens.TryRemember(login.Token, identity.ExpiresAt, time.GetUtcNow()))
        {
            return;
        }

        try
        {
            await audit.AppendAsync(new AuditEvent
            {
                Action = AuditActions.AuthLogin,
                ActorKind = caller.Kind,
                ActorId = caller.Id,
                SourceIp = ManagementAudit.SourceIp(http),
                Details = string.Create(CultureInfo.InvariantCulture,
                    $"subject {identity.Subject}, name '{caller.Name}', groups ({GroupList(caller.Groups)}), roles ({RoleList(caller)}), token expires {identity.ExpiresAt:yyyy-MM-dd'T'HH:mm:ss'Z'}"),
            }, http.RequestAborted);
        }
        catch (AuditUnavailableException e)
        {
            oidc.SeenTokens.Forget(login.Token);
            Log.LoginNotAudited(logger, caller.Id, e);
        }
    }

    internal static string GroupList(IReadOnlyList<string> groups) =>
        groups.Count == 0 ? "none"
        : groups.Count <= GroupsShown ? string.Join(", ", groups)
        : string.Join(", ", groups.Take(GroupsShown)) + string.Create(CultureInfo.InvariantCulture, $" and {groups.Count - GroupsShown} more");

    /// <summary>A valid identity-provider token and who it stands for. Holds the token for this request
    /// only, to remember its hash; never printed.</summary>
    private sealed class OidcLogin(string token, OidcIdentity identity)
    {
        public string Token { get; } = token;

        public OidcIdentity Identity { get; } = identity;

        public override string ToString() => "OidcLogin(" + Identity.Subject + ")";
    }

    private static partial class Log
    {
        [LoggerMessage(EventId = 4013, Level = LogLevel.Warning, Message = "The identity-provider login of {CallerId} could not be recorded in the audit log; the call goes on and the next one tries again")]
        public static partial void LoginNotAudited(ILogger logger, string callerId, Exception exception);
    }
}
