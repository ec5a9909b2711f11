using Coffer.Auth;
using Coffer.Storage;

namespace Coffer.Server.Management;

/// <summary>
/// Keeps Coffer manageable: a token revocation, a disabled user or app, or a change of roles may not
/// leave no one able to call as administrator on every key store. Administrators who can still act
/// are valid administrator tokens that stand for themselves, and valid tokens of enabled users or
/// apps that hold administrator unscoped. (An identity-provider mapping is not counted: Coffer
/// cannot know that the provider will keep letting anyone in.)
/// </summary>
internal static class AdministratorGuard
{
    public const string Refusal =
        "this would leave no administrator able to manage Coffer; give administrator to another user, app or token first";

    /// <summary>Whether an administrator remains once <paramref name="change"/> is applied to the
    /// principals (it returns the principal as it would be, or null for a principal that goes) and
    /// the token <paramref name="revokedTokenId"/> is gone.</summary>
    public static async Task<bool> RemainsAsync(
        ICofferStorage storage, DateTimeOffset now, Func<Principal, Principal?>? change = null, string? revokedTokenId = null, CancellationToken ct = default)
    {
        var administrators = (await storage.Principals.ListAsync(ct: ct))
            .Select(principal => change is null ? principal : change(principal))
            .Where(principal => principal is { IsEnabled: true } && principal.Grants.Contains(new RoleGrant(Roles.Administrator)))
            .Select(principal => principal!.Id)
            .ToHashSet(StringComparer.Ordinal);
        return (await storage.System.ListTokensAsync(ct)).Any(token =>
            token.Id != revokedTokenId && token.IsValidAt(now) &&
            (token.OwnerId is null ? token.Role == Roles.Administrator && token.KeyStoreId is null : administrators.Contains(token.OwnerId)));
    }
}
