using Coffer.Auth;
using Coffer.Storage;

namespace Coffer.Server.Management.Oidc;

/// <summary>Who an identity-provider login is in Coffer (docs/users.md, "Login through your identity
/// provider"): the same for a bearer JWT at each call and for a console session opened through the IdP.</summary>
internal static class OidcCallers
{
    /// <summary>The Coffer user with this subject, with the roles and groups Coffer gives it and those the
    /// IdP's groups map to; otherwise the IdP's word alone, as <c>oidc:&lt;sub&gt;</c>. Null, with the
    /// user's id, when that user is disabled.</summary>
    public static async Task<(Caller? Caller, string? DisabledUserId)> CallerOfAsync(
        ICofferStorage storage, string subject, string name, IReadOnlyList<string> groups, IReadOnlyList<RoleGrant> grants, CancellationToken ct)
    {
        var user = await storage.Principals.FindByOidcSubjectAsync(subject, ct);
        if (user is { IsEnabled: false })
        {
            return (null, user.Id);
        }

        var caller = user is null
            ? new Caller(OidcTokenValidator.CallerIdPrefix + subject, CallerKinds.User, name, grants, groups)
            : Caller.ForPrincipal(user, null) with
            {
                Grants = [.. user.Grants.Union(grants)],
                Groups = [.. user.Groups.Union(groups, StringComparer.Ordinal)],
            };
        return (caller, null);
    }
}
