namespace Coffer.Audit;

/// <summary>
/// What happened, as the caller of the audit log describes it: one XKS call, one management action,
/// one seal change, one failed login (docs/design.md, "Audit"). The audit log adds the
/// sequence number, time, node and hashes (<see cref="AuditRecord"/>).
/// </summary>
/// <remarks>
/// Immutable. Every text field is free of secrets by contract: never plaintext, AAD, key material,
/// tokens, shares or SigV4 secrets. Null means "does not apply"; the canonical form
/// (<see cref="AuditCanonical"/>, docs/formats.md) keeps null and "" apart.
/// </remarks>
public sealed record AuditEvent
{
    /// <summary>Dotted name, e.g. <c>xks.encrypt</c>, <c>key.create</c>, <c>auth.failed</c> (<see cref="AuditActions"/>).</summary>
    public required string Action { get; init; }

    public AuditOutcome Outcome { get; init; } = AuditOutcome.Ok;

    /// <summary>The error the caller saw: an XKS errorName (<c>KeyNotFoundException</c>) or a problem title.</summary>
    public string? ErrorName { get; init; }

    /// <summary>The denial rule or a short cause.</summary>
    public string? Reason { get; init; }

    /// <summary><c>xks</c>, <c>token</c>, <c>user</c>, <c>app</c>, <c>system</c> or <c>anonymous</c> (<see cref="AuditActorKinds"/>).</summary>
    public string? ActorKind { get; init; }

    /// <summary>The SigV4 access key id, the management token id, ... — never a secret.</summary>
    public string? ActorId { get; init; }

    /// <summary>Key store id (or name where the id is unknown).</summary>
    public string? KeyStore { get; init; }

    public string? KeyId { get; init; }

    public int? KeyVersion { get; init; }

    /// <summary>Milliseconds from request to answer; recorded to the microsecond.</summary>
    public double? LatencyMs { get; init; }

    public string? SourceIp { get; init; }

    // The XKS requestMetadata (XKS spec, "requestMetadata"), as AWS KMS sent it.

    public string? KmsRequestId { get; init; }

    public string? AwsPrincipalArn { get; init; }

    public string? KmsKeyArn { get; init; }

    /// <summary>The account of <see cref="KmsKeyArn"/> (<see cref="Audit.KmsKeyArn.TryParse"/>).</summary>
    public string? AwsAccount { get; init; }

    /// <summary>The region of <see cref="KmsKeyArn"/>.</summary>
    public string? AwsRegion { get; init; }

    public string? KmsOperation { get; init; }

    public string? KmsViaService { get; init; }

    public string? AwsSourceVpc { get; init; }

    public string? AwsSourceVpce { get; init; }

    /// <summary>Optional short text (created ids, progress); never secrets.</summary>
    public string? Details { get; init; }

    /// <summary>This event with <see cref="KmsKeyArn"/> set and its account and region split out
    /// (left null when the ARN is malformed; never throws).</summary>
    public AuditEvent WithKmsKeyArn(string? kmsKeyArn) =>
        Audit.KmsKeyArn.TryParse(kmsKeyArn, out var region, out var account)
            ? this with { KmsKeyArn = kmsKeyArn, AwsRegion = region, AwsAccount = account }
            : this with { KmsKeyArn = kmsKeyArn };
}

/// <summary>How the audited action ended. Written as the lower-case names in <see cref="AuditOutcomes"/>.</summary>
public enum AuditOutcome
{
    Ok,
    Denied,
    Error,

    /// <summary>A management change about to run: written (durably) before the change, so a change
    /// the audit log cannot record never happens. Its outcome follows in a second record.</summary>
    Requested,
}

/// <summary>The stored and canonical text of <see cref="AuditOutcome"/>; fixed so renaming a C# member
/// never changes a hash.</summary>
public static class AuditOutcomes
{
    public static string ToText(AuditOutcome outcome) => outcome switch
    {
        AuditOutcome.Ok => "ok",
        AuditOutcome.Denied => "denied",
        AuditOutcome.Error => "error",
        AuditOutcome.Requested => "requested",
        // Only a stored row with an unknown outcome reads as this (AuditCanonical.Normalize refuses it
        // on the way in); its canonical text then differs from what was hashed, so verify flags the row.
        _ => "invalid",
    };

    public static bool TryParse(string? text, out AuditOutcome outcome)
    {
        switch (text)
        {
            case "ok": outcome = AuditOutcome.Ok; return true;
            case "denied": outcome = AuditOutcome.Denied; return true;
            case "error": outcome = AuditOutcome.Error; return true;
            case "requested": outcome = AuditOutcome.Requested; return true;
            default: outcome = default; return false;
        }
    }
}

/// <summary>Who acted.</summary>
public static class AuditActorKinds
{
    /// <summary>AWS KMS through XKS; the actor id is the SigV4 access key id.</summary>
    public const string Xks = "xks";

    /// <summary>A management API token; the actor id is the token id (never the token).</summary>
    public const string Token = Auth.CallerKinds.Token;

    /// <summary>A person (a token of theirs or an identity-provider login); the actor id is the user's id.</summary>
    public const string User = Auth.CallerKinds.User;

    /// <summary>A service account; the actor id is the app's id.</summary>
    public const string App = Auth.CallerKinds.App;

    /// <summary>Coffer itself (start-up unseal, schedulers).</summary>
    public const string System = "system";

    /// <summary>An unauthenticated caller (failed logins, init and unseal, which take no token).</summary>
    public const string Anonymous = "anonymous";
}

/// <summary>The action names Coffer writes.</summary>
public static class AuditActions
{
    public const string XksEncrypt = "xks.encrypt";
    public const string XksDecrypt = "xks.decrypt";
    public const string XksMetadata = "xks.metadata";
    public const string XksHealth = "xks.health";

    /// <summary>XKS requests that never authenticated, counted: one record per source address, key
    /// store, outcome, error and reason per interval (src/Coffer.Server/Xks/Anonymous).</summary>
    public const string XksUnauthenticated = "xks.unauthenticated";
    public const string KeyCreate = "key.create";
    public const string KeyEnable = "key.enable";
    public const string KeyDisable = "key.disable";
    public const string KeyStoreCreate = "keystore.create";
    public const string KeyStoreDelete = "keystore.delete";
    public const string CredentialAdd = "credential.add";
    public const string CredentialRevoke = "credential.revoke";
    public const string SealInit = "seal.init";
    public const string SealUnseal = "seal.unseal";
    public const string SealSeal = "seal.seal";

    // The master key's operations (docs/master-key.md); their records name counts and fingerprints, never a share or key.
    public const string SealResplitStart = "seal.resplit.start";
    public const string SealResplitShare = "seal.resplit.share";
    public const string SealResplitCancel = "seal.resplit.cancel";

    // A rekey's call (seal.rekey) and the steps it records of its own, with counts, never a key.
    public const string SealRekey = "seal.rekey";
    public const string SealRekeyPrepare = "seal.rekey.prepare";
    public const string SealRekeySwitch = "seal.rekey.switch";
    public const string SealRekeyReseal = "seal.rekey.reseal";
    public const string SealRekeyRetire = "seal.rekey.retire";
    public const string AuthFailed = "auth.failed";
    public const string AuthDenied = "auth.denied";

    /// <summary>An identity-provider token used for the first time (once per token, not per call).</summary>
    public const string AuthLogin = "auth.login";

    // Destruction and bulk rotation. The sweeper's records name the system as actor.
    public const string KeyRotate = "key.rotate";
    public const string KeyRotateMany = "key.rotate-many";
    public const string KeyScheduleDestruction = "key.schedule-destruction";
    public const string KeyCancelDestruction = "key.cancel-destruction";
    public const string KeyDestroy = "key.destroy";
    public const string KeyVersionDestroy = "key.version.destroy";

    // Access rules and region sets.
    public const string PolicySet = "policy.set";
    public const string PolicyClear = "policy.clear";
    public const string PolicySimulate = "policy.simulate";
    public const string RegionSetPut = "regionset.set";
    public const string RegionSetDelete = "regionset.delete";

    // Quorum approvals: each request, vote and end of a request is a record.
    public const string QuorumSet = "quorum.set";
    public const string QuorumDelete = "quorum.delete";
    public const string ApprovalRequest = "approval.request";
    public const string ApprovalApprove = "approval.approve";
    public const string ApprovalDeny = "approval.deny";
    public const string ApprovalCancel = "approval.cancel";
    public const string ApprovalResult = "approval.result";
    public const string ApprovalExecute = "approval.execute";
    public const string ApprovalVoid = "approval.void";
    public const string ApprovalExpire = "approval.expire";
    public const string ApprovalInterrupt = "approval.interrupt";

    /// <summary>A scheduled move of the records past their age into an archive (docs/audit-retention.md);
    /// a failed one is an alert.</summary>
    public const string AuditRetention = "audit.retention";

    /// <summary>A node became the cluster leader or stepped down (details say which, and why); docs/cluster.md.</summary>
    public const string ClusterLeader = "cluster.leader";
}
