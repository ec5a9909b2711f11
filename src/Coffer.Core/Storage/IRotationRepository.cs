using Coffer.Keys;

namespace Coffer.Storage;

/// <summary>
/// Rotation policies and what the lifecycle scheduler needs to find its work. The rotation
/// itself, with the claim of its due time, is <see cref="IKeyRepository.RotateAsync"/>. Every method is
/// one transaction; thread-safe.
/// </summary>
public interface IRotationRepository
{
    /// <summary>Sets (or replaces) the policy of a key or key store; the caller checked that it exists.</summary>
    Task SetPolicyAsync(RotationPolicyScope scope, string targetId, RotationPolicy policy, CancellationToken ct = default);

    Task<RotationPolicy?> GetPolicyAsync(RotationPolicyScope scope, string targetId, CancellationToken ct = default);

    /// <summary>False when there was no policy.</summary>
    Task<bool> DeletePolicyAsync(RotationPolicyScope scope, string targetId, CancellationToken ct = default);

    /// <summary>Every key that has a policy of its own or through its key store (or just
    /// <paramref name="keyId"/>, policy or not), with its current version and last handled due time.</summary>
    Task<IReadOnlyList<RotationCandidate>> ListCandidatesAsync(string? keyId = null, CancellationToken ct = default);

    /// <summary>Versions whose activation or expiry time has passed at <paramref name="now"/> but whose
    /// stored state does not show it yet (PreActive with activates_at, Active with deactivates_at), not
    /// awaiting destruction.</summary>
    Task<IReadOnlyList<KeyVersion>> ListDueVersionChangesAsync(DateTimeOffset now, CancellationToken ct = default);
}

/// <summary>
/// Marks a rotation as the scheduler's answer to a due time (<see cref="IKeyRepository.RotateAsync"/>):
/// stored with the rotation in its transaction, and refused if the scheduler already rotated that
/// version away, so two ticks or two nodes never rotate a key twice for one due time.
/// </summary>
public sealed record RotationClaim(DateTimeOffset DueAt);
