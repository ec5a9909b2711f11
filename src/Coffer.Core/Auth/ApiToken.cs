namespace Coffer.Auth;

/// <summary>
/// A management API bearer token. Only the SHA-256 of the token is stored: tokens carry 256 bits of
/// entropy, so a fast hash is enough and a database reader cannot use what it reads. A token either
/// stands for itself with one <see cref="Role"/> (optionally on one key store), or for its
/// <see cref="OwnerId"/>, a user or app whose roles and groups it carries.
/// </summary>
public sealed record ApiToken(
    string Id,
    string Name,
    byte[] Hash,
    string? Role,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt,
    string? OwnerId = null,
    string? KeyStoreId = null)
{
    public bool IsValidAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || now < ExpiresAt);
}
