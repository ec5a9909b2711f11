namespace Coffer.Auth;

/// <summary>
/// A management API bearer token. Only the SHA-256 of the token is stored: tokens carry 256 bits of
/// entropy, so a fast hash is enough and a database reader cannot use what it reads.
/// </summary>
public sealed record ApiToken(
    string Id,
    string Name,
    byte[] Hash,
    string Role,
    DateTimeOffset CreatedAt,
    DateTimeOffset? ExpiresAt,
    DateTimeOffset? RevokedAt)
{
    public bool IsValidAt(DateTimeOffset now) => RevokedAt is null && (ExpiresAt is null || now < ExpiresAt);
}
