using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.AspNetCore.Mvc;

namespace Coffer.Server.Management;

// Wire types of the management API (/api/v1). Secrets appear only in the responses that create them
// (CreatedCredential, InitResponse) and in the AWS console file the administrator asks for.

/// <param name="Backend">Where the key store's keys live: "software" (default) or "pkcs11".</param>
public sealed record CreateKeyStoreRequest(string? Name, string? UriPrefix, string? Backend = null);

public sealed record KeyStoreView(string Id, string Name, string UriPrefix, string XksProxyUriPath, DateTimeOffset CreatedAt, int KeyCount, int LiveCredentialCount, string Backend);

public sealed record CredentialView(string Id, string KeyStoreId, string AccessKeyId, DateTimeOffset CreatedAt, DateTimeOffset? RevokedAt, string Status);

public sealed record CreatedCredential(string Id, string KeyStoreId, string AccessKeyId, string SecretAccessKey, DateTimeOffset CreatedAt);

/// <summary>The file the AWS KMS console imports for an external key store (XKS spec, "XKS proxy configuration in AWS KMS console").</summary>
public sealed record AwsConsoleConfig(
    [property: JsonPropertyName("XksProxyUriPath")] string XksProxyUriPath,
    [property: JsonPropertyName("XksProxyAuthenticationCredential")] AwsConsoleCredential XksProxyAuthenticationCredential);

public sealed record AwsConsoleCredential(
    [property: JsonPropertyName("AccessKeyId")] string AccessKeyId,
    [property: JsonPropertyName("RawSecretAccessKey")] string RawSecretAccessKey);

/// <param name="HsmLabel">Adopt the existing HSM key with this label instead of generating one
/// (pkcs11 key stores; only non-extractable, sensitive AES-256 keys are accepted).</param>
/// <param name="ActivatesAt">When the key's first version becomes Active (in the future); until then encrypt
/// answers InvalidStateException. Absent: Active at once.</param>
public sealed record CreateKeyRequest(string? Name, string? Description, Dictionary<string, string>? Tags, string[]? Usage, string? HsmLabel = null, DateTimeOffset? ActivatesAt = null);

/// <param name="Status">"enabled", "disabled", "pending-destruction" (see <paramref name="DestroysAt"/>) or "destroyed".</param>
/// <param name="DestroysAt">Set while the whole key is scheduled for destruction: it serves nothing until cancelled.</param>
/// <param name="DestroyedAt">When the key's material was destroyed; the key stays listed as a tombstone.</param>
public sealed record KeyView(
    string Id,
    string KeyStoreId,
    string Name,
    string Description,
    IReadOnlyDictionary<string, string> Tags,
    string[] Usage,
    string Status,
    int CurrentVersion,
    DateTimeOffset CreatedAt,
    IReadOnlyList<KeyVersionView>? Versions,
    bool CompromisedMayDecrypt = false,
    DateTimeOffset? DestroysAt = null,
    DateTimeOffset? DestroyedAt = null);

/// <param name="State">The stored state (PreActive, Active, Deactivated, Compromised, Destroyed).</param>
/// <param name="Encrypts">Whether AWS KMS can encrypt with it now: the current version, or while the current one
/// waits for its activation time, the version it takes over from.</param>
/// <param name="Decrypts">Whether ciphertext made under it decrypts now.</param>
/// <param name="DestroysAt">Set while destruction is scheduled: the version is unusable until cancelled.</param>
/// <param name="StateChangedBy">Who last changed the state: a management token id, or "system".</param>
/// <param name="EncryptionsReserved">Encryptions reserved under the version so far: at least as many as
/// it has made; at Xks.MaxEncryptionsPerKeyVersion (2^32 by default) it makes no more.</param>
public sealed record KeyVersionView(
    int Version,
    string State,
    string Backend,
    DateTimeOffset CreatedAt,
    bool Encrypts = false,
    bool Decrypts = false,
    DateTimeOffset? ActivatesAt = null,
    DateTimeOffset? DeactivatesAt = null,
    DateTimeOffset? DestroysAt = null,
    DateTimeOffset? StateChangedAt = null,
    string? StateChangedBy = null,
    long EncryptionsReserved = 0);

/// <param name="ExpectedCurrentVersion">Rotate only if this is still the current version (else 409),
/// so two administrators who both saw version N cannot both rotate.</param>
/// <param name="ActivatesAt">When the new version takes over (in the future): it is PreActive until then,
/// and the current version encrypts until then. Absent: the new version encrypts at once.</param>
public sealed record RotateKeyRequest(int? ExpectedCurrentVersion = null, DateTimeOffset? ActivatesAt = null);

/// <param name="WaitingPeriodDays">7 to 30, default 30 (as AWS KMS).</param>
public sealed record ScheduleDestructionRequest(int? WaitingPeriodDays = null);

public sealed record CompromisedMayDecryptRequest(bool Allowed);

/// <summary>Which keys a bulk rotation takes: every filter given must match (at least one, or <paramref name="All"/>).</summary>
/// <param name="KeyStoreId">Keys of this key store.</param>
/// <param name="Tag">Keys with this tag: "name" (any value) or "name=value".</param>
/// <param name="KeyIds">Exactly these keys (ids).</param>
/// <param name="NamePrefix">Keys whose name (externalKeyId) starts with this.</param>
/// <param name="All">Every key, when no other filter is given.</param>
/// <param name="DryRun">List what would rotate and change nothing.</param>
public sealed record BulkRotateRequest(
    string? KeyStoreId = null,
    string? Tag = null,
    IReadOnlyList<string>? KeyIds = null,
    string? NamePrefix = null,
    bool All = false,
    bool DryRun = false);

/// <param name="Outcome">"would-rotate" (dry run), "rotated", "failed" or "skipped" (destroyed, or waiting for destruction).</param>
/// <param name="ToVersion">The new current version (rotated) or the one a rotation would make (dry run).</param>
/// <param name="Error">Why it failed or was skipped.</param>
public sealed record BulkRotateItem(string KeyId, string Name, string KeyStoreId, int FromVersion, int? ToVersion, string Outcome, string? Error = null);

public sealed record BulkRotateView(bool DryRun, int Matched, int Rotated, int Failed, int Skipped, IReadOnlyList<BulkRotateItem> Keys);

/// <summary>A version's activation and expiry dates; an absent or null one is cleared.</summary>
public sealed record VersionDatesRequest(DateTimeOffset? ActivatesAt = null, DateTimeOffset? DeactivatesAt = null);

/// <summary>A rotation policy: intervalDays, or timeOfDay ("HH:mm" UTC) with an optional dayOfWeek
/// ("Monday"); optionally rotateBeforeExpiryDays.</summary>
public sealed record RotationPolicyRequest(int? IntervalDays = null, string? TimeOfDay = null, string? DayOfWeek = null, int? RotateBeforeExpiryDays = null);

/// <param name="Scope">"key" (the key's own policy) or "keystore" (its key store's, which a key inherits).</param>
/// <param name="NextRotationAt">For a key: when the scheduler rotates it next (already due if in the past).</param>
/// <param name="LastDueAt">For a key: the last due time the scheduler rotated it for.</param>
public sealed record RotationPolicyView(
    string Scope,
    string TargetId,
    int? IntervalDays,
    string? TimeOfDay,
    string? DayOfWeek,
    int? RotateBeforeExpiryDays,
    string Description,
    DateTimeOffset UpdatedAt,
    string UpdatedBy,
    DateTimeOffset? NextRotationAt = null,
    DateTimeOffset? LastDueAt = null);

public sealed record KeyListView(IReadOnlyList<KeyView> Keys, string? Next);

/// <param name="Seal">"shamir" (default) or "pkcs11"; must match the server's configured seal.</param>
/// <param name="PgpKeys">One OpenPGP public key (armored) per share: share i is answered encrypted to key i.</param>
public sealed record InitRequest(int Shares, int Threshold, string? Seal = null, IReadOnlyList<string>? PgpKeys = null);

/// <param name="Shares">The shares, or with pgpKeys the ASCII-armored OpenPGP messages that hold them.</param>
/// <param name="PgpFingerprints">With pgpKeys, the fingerprint of the key each share was encrypted to; else null.</param>
public sealed record InitResponse(IReadOnlyList<string> Shares, string RootToken, int Threshold, IReadOnlyList<string>? PgpFingerprints = null);

public sealed record UnsealRequest(string? Share, bool Reset);

/// <param name="PgpKeys">One OpenPGP public key (armored) per new share: share i is answered encrypted to key i.</param>
/// <param name="Seal">"shamir" (default: new shares) or "pkcs11" (the master key moves into the HSM seal; no shares, threshold or keys).</param>
public sealed record ResplitRequest(int Shares, int Threshold, IReadOnlyList<string>? PgpKeys = null, string? Seal = null);

public sealed record ResplitShareRequest(string Nonce, string Share);

/// <param name="Required">Current shares needed to finish (the current threshold); <paramref name="Progress"/> given so far.</param>
/// <param name="NewShares">Only in the answer that finished the re-split: the new shares, or with pgpKeys their OpenPGP messages.</param>
/// <param name="Warning">What the operator must still do, e.g. when the old shares were the master key itself.</param>
/// <param name="Rekey">A rekey's state, when the session makes a new master key (a shamir rekey).</param>
public sealed record ResplitView(bool InProgress, string? Nonce, string? Seal, int Shares, int Threshold, int Required, int Progress,
    IReadOnlyList<string>? NewShares, IReadOnlyList<string>? PgpFingerprints, string? Warning, RekeyView? Rekey = null);

/// <summary>A rekey (docs/master-key.md, "coffer rekey"). Shares and threshold only for the shamir seal,
/// whose rekey is a re-split session: give none to finish a rekey interrupted past its switch.</summary>
/// <param name="PgpKeys">One OpenPGP public key (armored) per new share, as for a re-split.</param>
public sealed record RekeyRequest(int Shares = 0, int Threshold = 0, IReadOnlyList<string>? PgpKeys = null);

/// <param name="Phase">Where the rekey stands in storage: "none", "prepared" (the next key stored),
/// "switched" (in force; rows still to seal again) or, for a shamir rekey waiting for its quorum, "awaiting-shares".</param>
/// <param name="Resealed">Values sealed again by the call that finished it; <paramref name="Unopenable"/>: opened under neither key.</param>
/// <param name="Nonce">A shamir rekey's session: each holder gives a current share with <c>coffer resplit share --nonce</c>.</param>
public sealed record RekeyView(string Phase, bool Done, bool Resumed, int Resealed, int Unopenable, string? Nonce, int Required, int Progress, string? Message);

/// <param name="Nodes">Every node registered on the database (docs/cluster.md), shown with a token like the key store count.</param>
public sealed record SealStatusView(bool Initialized, bool Sealed, string? SealKind, int Threshold, int Progress, string Version, int? KeyStoreCount,
    IReadOnlyList<NodeView>? Nodes = null);

/// <summary>One node of the cluster as its last heartbeat left it.</summary>
/// <param name="State"><c>live</c> (heard from within the liveness bound), <c>gone</c> (silent longer) or <c>stopped</c> (stopped gracefully).</param>
/// <param name="HeartbeatAgeSeconds">Since its last heartbeat, on the database's clock.</param>
/// <param name="Health">Its software backend's XKS health status; <paramref name="HsmHealth"/> its HSM's, absent without one.</param>
/// <param name="Leader">It holds the leader lease: scheduled work runs there.</param>
public sealed record NodeView(string Id, string State, double HeartbeatAgeSeconds, bool Sealed, string Health, string? HsmHealth, bool Leader,
    string Version, string XksUrl, string ManagementUrl, DateTimeOffset StartedAt);

/// <summary>The caller of a management call as the server sees it (GET /sys/whoami): never a secret nor a token hash.</summary>
/// <param name="Kind">token (a bare token), user or app.</param>
/// <param name="TokenId">The Coffer token presented; absent for an identity-provider login.</param>
public sealed record WhoAmIView(string Id, string Kind, string Name, IReadOnlyList<CallerGrantView> Grants, IReadOnlyList<string> Groups, string? TokenId);

/// <summary>GET /api/v1/traffic: XKS calls per minute by outcome since <paramref name="From"/>; a minute
/// or outcome without calls has no entry.</summary>
public sealed record TrafficView(DateTimeOffset From, IReadOnlyList<TrafficCountView> Counts);

/// <param name="Minute">The minute's start.</param>
/// <param name="Outcome">ok, denied (refused: an access rule, a kill switch, a bad signature) or error, as the calls' audit records say.</param>
/// <param name="Answer">success, or the XKS error name the calls were answered with.</param>
public sealed record TrafficCountView(DateTimeOffset Minute, string Outcome, string Answer, long Calls);

/// <summary>POST /api/v1/session: the token a person pastes into the console's login page.</summary>
public sealed record OpenSessionRequest(string? Token);

/// <summary>A web console session (docs/console.md, "Sessions"): its caller, and the CSRF token the
/// console sends in <paramref name="CsrfHeader"/> with every call that changes something. Never the
/// session id, which stays in the HttpOnly cookie.</summary>
/// <param name="ExpiresAt">When the session ends however it is used; given at login.</param>
public sealed record SessionView(string CallerId, string CallerKind, string CallerName, string CsrfToken, string CsrfHeader, int IdleTimeoutSeconds, DateTimeOffset? ExpiresAt);

/// <summary>A role the caller holds, on every key store or on one.</summary>
/// <param name="KeyStoreName">The key store's name, while it exists.</param>
/// <param name="Permissions">What the role allows, as of this call: the console hides what the caller may not do (the server refuses it anyway).</param>
public sealed record CallerGrantView(string Role, string? KeyStoreId = null, string? KeyStoreName = null, IReadOnlyCollection<string>? Permissions = null);

/// <param name="Problem">changed, missing, reordered, bad-checkpoint, rewritten, truncated or unproven; null when ok.</param>
/// <param name="ProblemSequence">The first record the problem concerns.</param>
/// <param name="LastHash">Hash of record LastSequence (hex): keep (LastSequence, LastHash) outside Coffer and pass them back as an anchor.</param>
/// <param name="FirstSequence">Where this walk started: 1, or the record after the verified checkpoint of an
/// earlier verify or after the last archive's cut (docs/audit-verify.md). Records counts from there.</param>
public sealed record AuditVerifyView(bool Ok, long Records, long LastSequence, long LastCheckpoint, string? Problem, long? ProblemSequence, string? Message, string LastHash, long FirstSequence = 1);

/// <summary>One line of GET /audit/verify answered as application/x-ndjson: progress lines while the walk
/// runs, then one line with the result.</summary>
public sealed record AuditVerifyLine(AuditVerifyProgressView? Progress = null, AuditVerifyView? Result = null);

/// <param name="Records">Records checked so far.</param>
/// <param name="LastSequence">The last record checked.</param>
/// <param name="HeadSequence">The stored chain's last record when the walk began: where it is going.</param>
public sealed record AuditVerifyProgressView(long Records, long LastSequence, long HeadSequence);

/// <summary>One audit record as stored, with its chain hashes in hex.</summary>
public sealed record AuditRecordView(
    long Sequence,
    DateTimeOffset Time,
    string Node,
    string Action,
    string Outcome,
    string? ErrorName,
    string? Reason,
    string? ActorKind,
    string? ActorId,
    string? KeyStore,
    string? KeyId,
    int? KeyVersion,
    double? LatencyMs,
    string? SourceIp,
    string? KmsRequestId,
    string? AwsPrincipalArn,
    string? KmsKeyArn,
    string? AwsAccount,
    string? AwsRegion,
    string? KmsOperation,
    string? KmsViaService,
    string? AwsSourceVpc,
    string? AwsSourceVpce,
    string? Details,
    string PrevHash,
    string Hash);

/// <param name="Role">A built-in or custom role: the token stands for itself. Give a role or an owner.</param>
/// <param name="ExpiresInDays">1 to 3660; absent: the token does not expire.</param>
/// <param name="Owner">A user or app id: the token stands for it, with its roles and groups.</param>
/// <param name="KeyStoreId">With a role: the role holds on this key store only.</param>
public sealed record CreateTokenRequest(string? Name, string? Role, int? ExpiresInDays = null, string? Owner = null, string? KeyStoreId = null);

/// <param name="Token">The bearer token, shown only in this answer.</param>
public sealed record CreatedToken(string Id, string Name, string? Role, string Token, DateTimeOffset? ExpiresAt, string? Owner = null, string? KeyStoreId = null);

public sealed record TokenView(
    string Id, string Name, string? Role, DateTimeOffset CreatedAt, DateTimeOffset? ExpiresAt, DateTimeOffset? RevokedAt, string? Owner = null, string? KeyStoreId = null);

/// <summary>A role held on every key store, or on one (<paramref name="KeyStoreId"/>).</summary>
public sealed record RoleGrantBody(string? Role, string? KeyStoreId = null);

/// <summary>A user or app as created or replaced.</summary>
/// <param name="OidcSubject">Users only: the identity provider's <c>sub</c>, so a login through it is this user.</param>
public sealed record PrincipalRequest(string? Name, string? OidcSubject = null, List<RoleGrantBody>? Roles = null, List<string>? Groups = null);

public sealed record PrincipalView(
    string Id, string Kind, string Name, string? OidcSubject, IReadOnlyList<RoleGrantBody> Roles, IReadOnlyList<string> Groups,
    DateTimeOffset CreatedAt, DateTimeOffset? DisabledAt);

public sealed record CustomRoleRequest(string? Description, List<string>? Permissions);

/// <param name="BuiltIn">Built-in roles cannot be changed or deleted.</param>
public sealed record RoleView(string Name, bool BuiltIn, string Description, IReadOnlyList<string> Permissions, DateTimeOffset? UpdatedAt);

/// <param name="Scope">all, keystore, key, region, account, principal, vpc or vpce.</param>
/// <param name="Value">What the scope names (absent for all).</param>
/// <param name="Reason">Why: shown to administrators and in the audit log, never to AWS.</param>
public sealed record KillSwitchRequest(string? Scope, string? Value, string? Reason);

public sealed record KillSwitchView(
    string Id, string Scope, string? Value, string Reason, string EngagedBy, DateTimeOffset EngagedAt, bool Engaged, string? ReleasedBy, DateTimeOffset? ReleasedAt);

/// <summary>The first line of an audit archive file (docs/formats.md, "Audit archive").</summary>
/// <param name="FirstPrevHash">The PrevHash of record FirstSequence (hex): the previous archive's last hash, or zeros.</param>
public sealed record AuditArchiveHeader(string Format, long FirstSequence, long ThroughSequence, string FirstPrevHash);

/// <param name="ThroughSequence">Archive up to this record at most (default: as far as allowed).</param>
/// <param name="Before">Archive only records older than this time.</param>
public sealed record AuditArchiveRequest(long? ThroughSequence = null, DateTimeOffset? Before = null);

/// <summary>One archive: the records it moved out of the database and the file that holds them.</summary>
public sealed record AuditArchiveView(long FirstSequence, long ThroughSequence, string ThroughHash, string FileName, string FileSha256, DateTimeOffset CreatedAt);

/// <param name="Next">Pass as <c>before</c> for the next (older) page; null on the last page.</param>
/// <param name="Archived">Archived records the page reached but could not prove (a file missing, changed, or Coffer sealed), and why they are not listed.</param>
public sealed record AuditRecordListView(IReadOnlyList<AuditRecordView> Records, long? Next, string? Archived = null);

/// <param name="Url">https, or http to a loopback address (development).</param>
/// <param name="Events">Event types or prefixes (<c>key.rotate</c>, <c>key.version</c>, <c>key.*</c>); empty or absent: every event.</param>
public sealed record CreateWebhookRequest(string? Url, string[]? Events = null);

/// <param name="Secret">The HMAC-SHA256 key of its Coffer-Signature header, shown only here.</param>
public sealed record CreatedWebhook(string Id, string Url, string[] Events, string Secret, DateTimeOffset CreatedAt);

/// <param name="CreatedBy">The management token id that added it.</param>
public sealed record WebhookView(string Id, string Url, string[] Events, DateTimeOffset CreatedAt, string? CreatedBy);

/// <param name="EventId">The event's id, also sent as the Coffer-Event-Id header.</param>
/// <param name="State">pending, delivered or failed.</param>
/// <param name="LastError">Why the last attempt failed (an HTTP status or a transport error).</param>
public sealed record AlertDeliveryView(
    string WebhookId,
    string EventId,
    string Type,
    long AuditSeq,
    string State,
    int Attempts,
    DateTimeOffset CreatedAt,
    DateTimeOffset? NextAttemptAt,
    DateTimeOffset? LastAttemptAt,
    int? LastStatus,
    string? LastError,
    DateTimeOffset? DeliveredAt);

public sealed record AlertDeliveryListView(IReadOnlyList<AlertDeliveryView> Deliveries);

[JsonSourceGenerationOptions(JsonSerializerDefaults.Web, DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(CreateKeyStoreRequest))]
[JsonSerializable(typeof(KeyStoreView))]
[JsonSerializable(typeof(List<KeyStoreView>))]
[JsonSerializable(typeof(CredentialView))]
[JsonSerializable(typeof(List<CredentialView>))]
[JsonSerializable(typeof(CreatedCredential))]
[JsonSerializable(typeof(AwsConsoleConfig))]
[JsonSerializable(typeof(CreateKeyRequest))]
[JsonSerializable(typeof(KeyView))]
[JsonSerializable(typeof(KeyListView))]
[JsonSerializable(typeof(RotateKeyRequest))]
[JsonSerializable(typeof(ScheduleDestructionRequest))]
[JsonSerializable(typeof(CompromisedMayDecryptRequest))]
[JsonSerializable(typeof(BulkRotateRequest))]
[JsonSerializable(typeof(BulkRotateView))]
[JsonSerializable(typeof(VersionDatesRequest))]
[JsonSerializable(typeof(RotationPolicyRequest))]
[JsonSerializable(typeof(RotationPolicyView))]
[JsonSerializable(typeof(InitRequest))]
[JsonSerializable(typeof(InitResponse))]
[JsonSerializable(typeof(UnsealRequest))]
[JsonSerializable(typeof(ResplitRequest))]
[JsonSerializable(typeof(ResplitShareRequest))]
[JsonSerializable(typeof(ResplitView))]
[JsonSerializable(typeof(RekeyRequest))]
[JsonSerializable(typeof(RekeyView))]
[JsonSerializable(typeof(SealStatusView))]
[JsonSerializable(typeof(WhoAmIView))]
[JsonSerializable(typeof(OpenSessionRequest))]
[JsonSerializable(typeof(SessionView))]
[JsonSerializable(typeof(TrafficView))]
[JsonSerializable(typeof(AuditVerifyView))]
[JsonSerializable(typeof(AuditVerifyLine))]
[JsonSerializable(typeof(AuditRecordListView))]
[JsonSerializable(typeof(AuditRecordView))]
[JsonSerializable(typeof(CreateTokenRequest))]
[JsonSerializable(typeof(CreatedToken))]
[JsonSerializable(typeof(TokenView))]
[JsonSerializable(typeof(List<TokenView>))]
[JsonSerializable(typeof(PrincipalRequest))]
[JsonSerializable(typeof(PrincipalView))]
[JsonSerializable(typeof(List<PrincipalView>))]
[JsonSerializable(typeof(CustomRoleRequest))]
[JsonSerializable(typeof(RoleView))]
[JsonSerializable(typeof(List<RoleView>))]
[JsonSerializable(typeof(KillSwitchRequest))]
[JsonSerializable(typeof(KillSwitchView))]
[JsonSerializable(typeof(List<KillSwitchView>))]
[JsonSerializable(typeof(AuditArchiveHeader))]
[JsonSerializable(typeof(AuditArchiveRequest))]
[JsonSerializable(typeof(AuditArchiveView))]
[JsonSerializable(typeof(List<AuditArchiveView>))]
[JsonSerializable(typeof(Coffer.Audit.AuditReport))]
[JsonSerializable(typeof(CreateWebhookRequest))]
[JsonSerializable(typeof(CreatedWebhook))]
[JsonSerializable(typeof(List<WebhookView>))]
[JsonSerializable(typeof(AlertDeliveryListView))]
[JsonSerializable(typeof(PolicyView))]
[JsonSerializable(typeof(PolicyVersionsView))]
[JsonSerializable(typeof(SimulateRequest))]
[JsonSerializable(typeof(SimulateResponse))]
[JsonSerializable(typeof(RegionSetView))]
[JsonSerializable(typeof(List<RegionSetView>))]
[JsonSerializable(typeof(RegionSetRequest))]
[JsonSerializable(typeof(Approvals.QuorumPolicyRequest))]
[JsonSerializable(typeof(Approvals.QuorumPolicyView))]
[JsonSerializable(typeof(List<Approvals.QuorumPolicyView>))]
[JsonSerializable(typeof(Approvals.ApprovalVoteRequest))]
[JsonSerializable(typeof(Approvals.ApprovalView))]
[JsonSerializable(typeof(List<Approvals.ApprovalView>))]
[JsonSerializable(typeof(JsonElement))]
[JsonSerializable(typeof(ProblemDetails))]
public sealed partial class ManagementJson : JsonSerializerContext;
