namespace Coffer.Keys;

/// <summary>KMIP-style state of a key version (docs/design.md, Lifecycle).</summary>
public enum KeyVersionState
{
    PreActive,
    Active,
    Deactivated,
    Compromised,
    Destroyed,
}

/// <summary>
/// One version of a key's material. <see cref="Material"/> is what the crypto backend stored:
/// wrapped material for the software backend, an object reference for an HSM — never plaintext.
/// </summary>
/// <remarks>
/// <see cref="State"/> with the three times is the version's <see cref="Lifecycle"/>; what it may do
/// at a given instant is <see cref="VersionLifecycle.CanEncryptAt"/> and
/// <see cref="VersionLifecycle.CanDecryptAt"/> (the stored state alone is not enough: an activation
/// or expiry time may have passed since it was written). <see cref="StateChangedAt"/> and
/// <see cref="StateChangedBy"/> say who last changed the lifecycle (a token id, or "system" for the
/// schedulers); null until the first change after creation.
/// </remarks>
public sealed record KeyVersion(
    string KeyId,
    int Version,
    KeyVersionState State,
    string Backend,
    byte[] Material,
    DateTimeOffset CreatedAt)
{
    /// <summary>The actor recorded for changes no caller asked for (the schedulers).</summary>
    public const string SystemActor = "system";

    /// <summary>When a PreActive version becomes Active without anyone acting.</summary>
    public DateTimeOffset? ActivatesAt { get; init; }

    /// <summary>When an Active version expires (becomes decrypt-only).</summary>
    public DateTimeOffset? DeactivatesAt { get; init; }

    /// <summary>The end of a destruction waiting period; while set, the version is unusable.</summary>
    public DateTimeOffset? DestroysAt { get; init; }

    public DateTimeOffset? StateChangedAt { get; init; }

    public string? StateChangedBy { get; init; }

    /// <summary>Encryptions reserved under this version so far (read from storage, never written from
    /// here): at least as many as it has made, at most the node's limit (Xks.MaxEncryptionsPerKeyVersion).</summary>
    public long EncryptionsReserved { get; init; }

    /// <summary>The state and times the state machine (<see cref="KeyLifecycle"/>) works on.</summary>
    public VersionLifecycle Lifecycle => new(State, ActivatesAt, DeactivatesAt, DestroysAt);

    /// <summary>This version with <paramref name="lifecycle"/> applied, changed at <paramref name="at"/> by <paramref name="actor"/>.</summary>
    public KeyVersion With(VersionLifecycle lifecycle, DateTimeOffset at, string actor)
    {
        ArgumentNullException.ThrowIfNull(lifecycle);
        return this with
        {
            State = lifecycle.State,
            ActivatesAt = lifecycle.ActivatesAt,
            DeactivatesAt = lifecycle.DeactivatesAt,
            DestroysAt = lifecycle.DestroysAt,
            StateChangedAt = at,
            StateChangedBy = actor,
        };
    }
}
