namespace Coffer.Auth;

/// <summary>
/// A user (a person) or an app (a service account) that holds roles and belongs to groups.
/// People and apps present tokens issued to them; a person may also log in through the identity
/// provider, matched by <see cref="OidcSubject"/>. Disabled principals keep their id, so audit
/// records and approvals that name them stay readable, but nothing they hold works any more.
/// </summary>
/// <param name="Kind"><see cref="CallerKinds.User"/> or <see cref="CallerKinds.App"/>.</param>
/// <param name="OidcSubject">The identity provider's <c>sub</c> for this person; users only.</param>
public sealed record Principal(
    string Id,
    string Kind,
    string Name,
    string? OidcSubject,
    IReadOnlyList<RoleGrant> Grants,
    IReadOnlyList<string> Groups,
    DateTimeOffset CreatedAt,
    DateTimeOffset? DisabledAt)
{
    public bool IsEnabled => DisabledAt is null;

    /// <summary>The id prefix of each kind.</summary>
    public static string IdPrefix(string kind) => kind == CallerKinds.User ? "usr" : "app";
}

/// <summary>A role an administrator builds from permissions, beside the built-in <see cref="Roles"/>.</summary>
public sealed record CustomRole(string Name, string Description, IReadOnlyList<string> Permissions, DateTimeOffset UpdatedAt);
