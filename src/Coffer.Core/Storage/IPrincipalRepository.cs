using Coffer.Auth;

namespace Coffer.Storage;

/// <summary>Users, apps and custom roles. Every method is one transaction; thread-safe.</summary>
public interface IPrincipalRepository
{
    /// <summary>Adds a principal; <see cref="ConflictException"/> when its id or OIDC subject is taken, or
    /// a custom role it is granted does not exist (deleted meanwhile).</summary>
    Task AddAsync(Principal principal, CancellationToken ct = default);

    Task<Principal?> GetAsync(string id, CancellationToken ct = default);

    /// <summary>The user whose identity-provider subject this is (disabled ones too), or null.</summary>
    Task<Principal?> FindByOidcSubjectAsync(string subject, CancellationToken ct = default);

    /// <summary>Every principal of a kind (or of both), oldest first.</summary>
    Task<IReadOnlyList<Principal>> ListAsync(string? kind = null, CancellationToken ct = default);

    /// <summary>Replaces name, OIDC subject, grants and groups of an enabled principal, unless that
    /// removes the last administrator (checked as of <paramref name="at"/>); Unchanged when it does not
    /// exist or is disabled; <see cref="ConflictException"/> when the subject is taken or a custom role
    /// it is granted does not exist.</summary>
    Task<GuardedChange> UpdateAsync(Principal principal, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>Disables a principal for good and revokes its tokens, atomically, unless that removes
    /// the last administrator; Unchanged when it does not exist or is disabled already.</summary>
    Task<GuardedChange> DisableAsync(string id, DateTimeOffset at, CancellationToken ct = default);

    Task<IReadOnlyList<CustomRole>> ListRolesAsync(CancellationToken ct = default);

    Task<CustomRole?> GetRoleAsync(string name, CancellationToken ct = default);

    /// <summary>Creates or replaces a custom role.</summary>
    Task PutRoleAsync(CustomRole role, CancellationToken ct = default);

    /// <summary>Deletes a custom role unless someone holds it: an enabled user or app granted it (on
    /// any key store) or a bare token of it still valid at <paramref name="at"/>. Who holds it is read in
    /// the deleting write transaction, and every grant checks its roles in its own, so a grant made at
    /// the same moment either counts as a holder or is refused: a deleted role is never left granted
    /// (where a custom role of the same name made later would wake it up).</summary>
    Task<RoleDeletion> DeleteRoleAsync(string name, DateTimeOffset at, CancellationToken ct = default);
}

/// <summary>What deleting a custom role did.</summary>
/// <param name="Found">Whether the role existed.</param>
/// <param name="Holders">Ids of who still holds it (the role was kept); empty when it was deleted.</param>
public sealed record RoleDeletion(bool Found, IReadOnlyList<string> Holders)
{
    public bool Deleted => Found && Holders.Count == 0;
}

/// <summary>Questions about roles that need the database (custom roles live there).</summary>
public static class PrincipalRepositoryRoles
{
    /// <summary>Whether <paramref name="role"/> is a built-in role or a custom role of this database.</summary>
    public static async Task<bool> RoleExistsAsync(this IPrincipalRepository principals, string? role, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(principals);
        return role is not null && (Roles.IsBuiltIn(role) || await principals.GetRoleAsync(role, ct) is not null);
    }
}
