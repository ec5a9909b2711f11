namespace Coffer.Keys;

/// <summary>
/// A key that Coffer holds for AWS KMS. <see cref="ExternalId"/> is the XKS <c>externalKeyId</c>
/// (1..128 of <c>[A-Za-z0-9._-]</c>, unique within its key store); the material lives in numbered
/// <see cref="KeyVersion"/>s and <see cref="CurrentVersion"/> is the one that encrypts.
/// </summary>
public sealed record ManagedKey(
    string Id,
    string KeyStoreId,
    string ExternalId,
    string Description,
    IReadOnlyDictionary<string, string> Tags,
    KeyUsage Usage,
    bool Enabled,
    int CurrentVersion,
    DateTimeOffset CreatedAt)
{
    public const int MaxExternalIdLength = 128;

    /// <summary>Whether a Compromised version may still decrypt (a per-key setting, default
    /// no). Never lets it encrypt.</summary>
    public bool CompromisedMayDecrypt { get; init; }

    /// <summary>The end of the whole key's destruction waiting period (<see cref="KeyDestruction"/>);
    /// while set, the key serves nothing and cancelling brings it back.</summary>
    public DateTimeOffset? DestroysAt { get; init; }

    /// <summary>When every version's material was destroyed. The key stays as a tombstone (audit and
    /// listing name it; its externalKeyId stays taken) and is never usable again.</summary>
    public DateTimeOffset? DestroyedAt { get; init; }

    public bool IsDestroyed => DestroyedAt is not null;

    public bool IsPendingDestruction => DestroysAt is not null && DestroyedAt is null;

    /// <summary>XKS spec: an externalKeyId is 1..128 characters of letters, digits, '-', '.', '_'.</summary>
    public static bool IsValidExternalId(ReadOnlySpan<char> id)
    {
        if (id.Length is 0 or > MaxExternalIdLength)
        {
            return false;
        }

        foreach (var c in id)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c is '-' or '.' or '_'))
            {
                return false;
            }
        }

        return true;
    }
}
