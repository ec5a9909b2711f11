using System.Text.Json;

namespace Coffer.Server.Approvals;

// Wire types of /api/v1/quorum-policies and /api/v1/approvals. None holds a secret: an executed
// call's answer that holds one is never shown here (see ApprovalResultView.SealedForRequester).

/// <param name="LifetimeHours">How long a request waits for votes (1 to 720, default 24).</param>
public sealed record QuorumPolicyRequest(string[]? Operations, int? RequiredApprovals, string? ApproverGroup, int? LifetimeHours = null);

public sealed record QuorumPolicyView(
    string Name, string[] Operations, int RequiredApprovals, string ApproverGroup, int LifetimeHours, DateTimeOffset UpdatedAt, string UpdatedBy);

public sealed record ApprovalVoteRequest(string? Comment);

/// <summary>An approval request: what was asked (method, path, body), by whom and why, the policy it
/// waits on, its votes and, once executed, the call's answer.</summary>
/// <param name="Approvals">Approvals recorded so far; the call runs when it reaches <paramref name="RequiredApprovals"/>.</param>
public sealed record ApprovalView(
    string Id,
    string Operation,
    string State,
    string Policy,
    int RequiredApprovals,
    string ApproverGroup,
    int Approvals,
    ApprovalRequesterView Requester,
    string? Reason,
    string Method,
    string Path,
    JsonElement? Body,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt,
    DateTimeOffset? FinishedAt,
    string? EndReason,
    IReadOnlyList<ApprovalVoteView> Votes,
    ApprovalResultView? Result);

public sealed record ApprovalRequesterView(string Id, string Kind, string Name);

/// <param name="Vote">"approve" or "deny".</param>
public sealed record ApprovalVoteView(string VoterId, string VoterKind, string VoterName, string Vote, string? Comment, DateTimeOffset At);

/// <param name="Status">The HTTP status the executed call answered.</param>
/// <param name="Body">Its answer, unless it holds a secret.</param>
/// <param name="SealedForRequester">The answer holds a secret: it is stored sealed and only the requester
/// can fetch it, once (POST /api/v1/approvals/{approvalId}/result); false once fetched.</param>
public sealed record ApprovalResultView(int Status, JsonElement? Body, bool SealedForRequester);
