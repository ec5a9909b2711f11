namespace Coffer.Storage;

/// <summary>
/// The outcome of a change to tokens, users or apps that could lock everyone out of administration.
/// Storage checks, in the same write transaction as the change, that if anyone could act as
/// administrator on every key store before, someone still can after — so two such changes made at
/// once cannot together remove the last administrator.
/// </summary>
public enum GuardedChange
{
    /// <summary>The change was made.</summary>
    Done,

    /// <summary>Nothing to change: the target does not exist or is already revoked or disabled.</summary>
    Unchanged,

    /// <summary>Refused and rolled back: no valid administrator token would remain.</summary>
    WouldLockOut,
}
