using Coffer.Server.KeyStores;
using Coffer.Server.Keys;
using Coffer.Server.KillSwitches;
using Coffer.Server.Lifecycle;
using Coffer.Server.Policies;
using Coffer.Server.Services;
using Microsoft.AspNetCore.Http;

namespace Coffer.Server.Approvals.Commands;

/// <summary>
/// What a held request does, typed: the quorum operation, its targets and its validated input. The
/// quorum gate builds it when it holds a call (<see cref="ApprovedCommands.Parse"/>), so a call that
/// could only fail is refused at once, and <see cref="ApprovalExecutor"/> builds it again from the
/// stored request and runs it through the same service the endpoint calls, as the requester.
/// </summary>
internal abstract record ApprovedCommand
{
    /// <summary>The permission the requester must still hold when it runs (the endpoint's).</summary>
    public abstract string Permission { get; }

    /// <summary>The audit action of the change itself (the endpoint's).</summary>
    public abstract string AuditAction { get; }

    /// <summary>Runs even when its request record cannot be written (as its endpoint: engaging a kill switch).</summary>
    public virtual bool RunsWhenUnaudited => false;

    public virtual string? KeyStoreId => null;

    public virtual string? KeyId => null;

    public virtual int? KeyVersion => null;

    /// <summary>What the approvers judged, beyond the key and key store (<see cref="ApprovalFingerprint"/>).</summary>
    public virtual FingerprintScope Scope => new(KeyStoreId, KeyId);

    /// <summary>Makes the change as <paramref name="requester"/> and answers as its endpoint does.</summary>
    public abstract Task<IResult> RunAsync(CommandServices services, Actor requester, CancellationToken ct);
}

/// <summary>What a request's fingerprint covers: a key with its versions, a key store with its
/// credentials, the engaged kill switches, a region set, the quorum policies.</summary>
internal sealed record FingerprintScope(string? KeyStoreId = null, string? KeyId = null, bool KillSwitches = false, string? RegionSet = null, bool QuorumPolicies = false);

/// <summary>The services approved commands run through, the ones their endpoints call.</summary>
internal sealed record CommandServices(
    KeyStoreService KeyStores,
    KeyService Keys,
    KeyLifecycleService Lifecycle,
    KillSwitchService KillSwitches,
    AccessRuleService AccessRules,
    RegionSetService RegionSets,
    QuorumPolicyService QuorumPolicies,
    TimeProvider Time);
