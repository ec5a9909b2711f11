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

    /// <summary>Writes <paramref name="replacement"/> in place of <paramref name="value"/>, only if the
    /// row still holds <paramref name="value"/>'s bytes (a compare-and-set). False when the row changed
    /// or is gone meanwhile; nothing is written then.</summary>
    Task<bool> ReplaceAsync(SealedValue value, byte[] replacement, CancellationToken ct = default);
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
