namespace Coffer.Auth;

/// <summary>
/// Who makes a management call, once authenticated: a bare token, or the user or app a
/// token or identity-provider login stands for. <see cref="Id"/> is what approvals and audit
/// records name ("nobody approves their own request" compares it); never a secret.
/// </summary>
/// <param name="Id">The principal: a token id for a bare token, else the user's or app's id.</param>
/// <param name="Kind">One of <see cref="CallerKinds"/>.</param>
/// <param name="Name">A human-readable name for lists and reports.</param>
/// <param name="Grants">Roles held, each on every key store or on one.</param>
/// <param name="Groups">Named groups the caller belongs to (approver groups of quorum policies).</param>
/// <param name="TokenId">The token presented, when the caller came with a Coffer token.</param>
public sealed record Caller(
    string Id,
    string Kind,
    string Name,
    IReadOnlyList<RoleGrant> Grants,
    IReadOnlyList<string> Groups,
    string? TokenId = null)
{
    /// <summary>The caller a token without owner stands for: itself, with its one role.</summary>
    public static Caller ForToken(ApiToken token) =>
        new(token.Id, CallerKinds.Token, token.Name, [new RoleGrant(token.Role ?? throw new ArgumentException("The token stands for its owner.", nameof(token)), token.KeyStoreId)], [], token.Id);

    /// <summary>The caller a principal's token or identity-provider login stands for.</summary>
    public static Caller ForPrincipal(Principal principal, string? tokenId) =>
        new(principal.Id, principal.Kind, principal.Name, principal.Grants, principal.Groups, tokenId);

    public bool IsMemberOf(string group) => Groups.Contains(group, StringComparer.Ordinal);
}

/// <summary>A role held on every key store (<see cref="KeyStoreId"/> null) or on one key store only.</summary>
public readonly record struct RoleGrant(string Role, string? KeyStoreId = null)
{
    /// <summary>The one text form of a grant, as the CLI takes it and the database keeps it: "role" or
    /// "role@keyStoreId" (neither a role name nor a key store id contains '@' or a space).</summary>
    public override string ToString() => KeyStoreId is null ? Role : Role + "@" + KeyStoreId;

    /// <summary>The grant written by <see cref="ToString"/>.</summary>
    public static RoleGrant Parse(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return text.Split('@', 2) is [var role, var keyStore] ? new RoleGrant(role, keyStore) : new RoleGrant(text);
    }
}

/// <summary>What a <see cref="Caller"/> is; also its audit actor kind.</summary>
public static class CallerKinds
{
    /// <summary>A token that stands for itself (the root token from init, tokens made with a role).</summary>
    public const string Token = "token";

    /// <summary>A person: through a token of theirs or an identity-provider login.</summary>
    public const string User = "user";

    /// <summary>A service account, through one of its tokens.</summary>
    public const string App = "app";
}
