using System.Text.Json;
using System.Text.Json.Serialization;
using Coffer.Policies;

namespace Coffer.Server.Management;

// Wire types of the access rule API (/api/v1/.../policy, /api/v1/policy/simulate, /api/v1/region-sets).

/// <summary>One version of a key store's or key's access rules.</summary>
/// <param name="Scope">"keystore" or "key".</param>
/// <param name="Cleared">This version removed the rules (DELETE); Document is null.</param>
/// <param name="CreatedBy">The management token that set it.</param>
public sealed record PolicyView(string Scope, string ScopeId, int Version, bool Cleared, DateTimeOffset CreatedAt, string? CreatedBy, AccessPolicyDocument? Document);

public sealed record PolicyVersionsView(IReadOnlyList<PolicyView> Versions);

/// <summary>
/// Try rules before applying them: the decision for sample requests or for the last XKS calls the
/// audit log recorded, under the stored rules or a candidate document.
/// </summary>
/// <param name="KeyStoreId">The key store whose rules apply (optional when KeyId is given).</param>
/// <param name="KeyId">The key whose rules apply too.</param>
/// <param name="Document">A candidate rule document used instead of the stored rules of the key (when
/// KeyId is given) or of the key store.</param>
/// <param name="Requests">Sample requests.</param>
/// <param name="Replay">Also decide the last N XKS calls of the key store (or key) from the audit log.</param>
/// <param name="At">Decide as if at this time (validity windows); now when absent.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SimulateRequest(
    string? KeyStoreId = null,
    string? KeyId = null,
    JsonElement? Document = null,
    List<SimulatedCall>? Requests = null,
    int? Replay = null,
    DateTimeOffset? At = null);

/// <param name="Operation">encrypt, decrypt or metadata.</param>
/// <param name="SourceIp">The caller's IP address.</param>
/// <param name="SigningRegion">The region of the SigV4 credential scope.</param>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record SimulatedCall(string? Operation, SimulatedMetadata? RequestMetadata, string? SourceIp = null, string? SigningRegion = null);

/// <summary>The XKS requestMetadata fields rules look at (XKS spec, "requestMetadata"); others are ignored.</summary>
public sealed record SimulatedMetadata(
    string? AwsPrincipalArn = null,
    string? AwsSourceVpc = null,
    string? AwsSourceVpce = null,
    string? KmsKeyArn = null,
    string? KmsOperation = null,
    string? KmsRequestId = null,
    string? KmsViaService = null);

/// <param name="Decision">"allow" or "deny".</param>
/// <param name="Rule">The rule that decided; null when no rules apply or none allowed.</param>
/// <param name="Reason">As an XKS audit record would say: rule=NAME or "no rule allowed".</param>
/// <param name="AuditSequence">The replayed audit record.</param>
/// <param name="StoredDecision">With a candidate document: "allow" or "deny" under the stored rules.</param>
/// <param name="Differs">With a candidate document: whether Decision differs from StoredDecision.</param>
public sealed record SimulationResult(
    string Operation,
    string? KmsRequestId,
    string? AwsPrincipalArn,
    string? KmsKeyArn,
    string? SourceIp,
    string Decision,
    string? Rule,
    string? Reason,
    long? AuditSequence = null,
    string? StoredDecision = null,
    bool? Differs = null);

/// <param name="RuleCount">The rules the decisions were made under (the candidate's and the other level's).</param>
/// <param name="Differing">With a candidate document: how many results differ from the stored rules' decision.</param>
public sealed record SimulateResponse(int RuleCount, IReadOnlyList<SimulationResult> Results, int? Differing = null);

/// <param name="BuiltIn">eea and eu-adequacy are built in and read-only.</param>
public sealed record RegionSetView(string Name, IReadOnlyList<string> Regions, bool BuiltIn, DateTimeOffset? UpdatedAt);

[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Disallow)]
public sealed record RegionSetRequest(List<string>? Regions);
