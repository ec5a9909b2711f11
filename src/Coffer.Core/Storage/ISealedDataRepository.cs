namespace Coffer.Storage;

/// <summary>
/// Every value stored sealed under the master key, for a rekey to seal each again under the new one
/// (docs/master-key.md, "coffer rekey"). Thread-safe.
/// </summary>
/// <remarks>The settings sealed under it (the check value, the rekey's own links, the audit checkpoint
/// key) are not listed: the rekey writes those with <see cref="ISystemRepository.ReplaceSettingsAsync"/>.</remarks>
public interface ISealedDataRepository
{
    /// <summary>The sealed values as stored now: software key versions' material (not erased),
    /// credentials' SigV4 secrets, live webhooks' signing secrets and kept approval answers.</summary>
    Task<IReadOnlyList<SealedValue>> ListAsync(CancellationToken ct = default);

    /// <summary>Writes each replacement in place of its value, in one transaction, each only if its row
    /// still holds the value's bytes (a compare-and-set); a row that changed or is gone meanwhile is left
    /// as it is. One transaction for many rows keeps a rekey from taking SQLite's write lock once a row,
    /// which would keep the audit writer waiting.</summary>
    /// <returns>How many were replaced.</returns>
    Task<int> ReplaceAsync(IReadOnlyList<(SealedValue Value, byte[] Replacement)> replacements, CancellationToken ct = default);
}

/// <summary>What a sealed value is, which says its seal purpose and context.</summary>
public enum SealedValueKind
{
    /// <summary>A software key version's material; <see cref="SealedValue.Id"/> is the key id.</summary>
    KeyMaterial,

    /// <summary>A credential's SigV4 secret; <see cref="SealedValue.Id"/> is its access key id.</summary>
    SigV4Secret,

    /// <summary>A webhook's signing secret; <see cref="SealedValue.Id"/> is the webhook id.</summary>
    WebhookSecret,

    /// <summary>An approved call's kept answer; <see cref="SealedValue.Id"/> is the approval id.</summary>
    ApprovalResult,
}

/// <summary>One sealed value and the row it is in.</summary>
/// <param name="Version">The key version, for <see cref="SealedValueKind.KeyMaterial"/>; 0 otherwise.</param>
public sealed record SealedValue(SealedValueKind Kind, string Id, int Version, byte[] Bytes);
