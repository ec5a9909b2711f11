namespace Coffer.Approvals;

/// <summary>
/// The dangerous management operations a quorum policy can guard. Each
/// guarded endpoint names one with <c>RequiresQuorum</c>; these names are stored in policies and
/// requests, so they never change.
/// </summary>
public static class QuorumOperations
{
    /// <summary>Scheduling destruction of a key or of one key version.</summary>
    public const string KeyDestroy = "key.destroy";

    public const string KeyDisable = "key.disable";

    public const string KillSwitchEngage = "killswitch.engage";

    public const string KillSwitchRelease = "killswitch.release";

    /// <summary>Setting or clearing access rules of a key store or key; defining or deleting region sets.</summary>
    public const string PolicyChange = "policy.change";

    public const string CredentialAdd = "credential.add";

    public const string CredentialRevoke = "credential.revoke";

    /// <summary>Creating, replacing or deleting quorum policies: guarding this makes the guard itself
    /// need a quorum, so no single administrator can weaken it.</summary>
    public const string QuorumChange = "quorum.change";

    public const string KeyStoreDelete = "keystore.delete";

    public static IReadOnlyList<string> All { get; } =
    [
        KeyDestroy, KeyDisable, KillSwitchEngage, KillSwitchRelease, PolicyChange, CredentialAdd, CredentialRevoke, QuorumChange, KeyStoreDelete,
    ];

    public static bool IsKnown(string? operation) => operation is not null && All.Contains(operation, StringComparer.Ordinal);

    /// <summary>Whether the operation's answer holds a secret (a new credential's secret access key):
    /// then it is stored only sealed, and only the requester may fetch it, once.</summary>
    public static bool AnswerHoldsSecret(string operation) => operation == CredentialAdd;
}
