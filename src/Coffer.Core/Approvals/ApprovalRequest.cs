using Coffer.Auth;

namespace Coffer.Approvals;

/// <summary>
/// A guarded management call held until a quorum approves it. It keeps everything needed
/// to run the call later exactly as asked: the endpoint (method and route pattern), route values,
/// query and JSON body — bodies of guarded calls carry no secrets — and the requester as they were
/// when they asked. <see cref="Fingerprint"/> is the target's state then: if it differs when the
/// quorum is reached, the request becomes <see cref="ApprovalStates.Void"/> and nothing runs.
/// </summary>
/// <param name="Id"><c>apr_…</c></param>
/// <param name="Policy">The covering policy's name; its M and group are copied below, as they were at request time.</param>
/// <param name="Path">The request path as called (for people; the call is rebuilt from the pattern and values).</param>
public sealed record ApprovalRequest(
    string Id,
    string Operation,
    string Policy,
    int RequiredApprovals,
    string ApproverGroup,
    string Method,
    string RoutePattern,
    string Path,
    IReadOnlyDictionary<string, string> RouteValues,
    string Query,
    string? Body,
    Caller Requester,
    string? Reason,
    string Fingerprint,
    string State,
    DateTimeOffset CreatedAt,
    DateTimeOffset ExpiresAt)
{
    /// <summary>When the request left <see cref="ApprovalStates.Pending"/> for good (executed, denied, …).</summary>
    public DateTimeOffset? FinishedAt { get; init; }

    /// <summary>The HTTP status the executed call answered.</summary>
    public int? ResultStatus { get; init; }

    /// <summary>The executed call's answer, when it holds no secret.</summary>
    public string? ResultBody { get; init; }

    /// <summary>The executed call's answer sealed under the master key, when it holds a secret; erased
    /// once the requester has fetched it.</summary>
    public byte[]? SealedResult { get; init; }

    /// <summary>Why the request ended other than by running (void, expired, cancelled, denied).</summary>
    public string? EndReason { get; init; }

    /// <summary>The node process that moved the request to approved and runs it; null before, and for a
    /// request approved before Coffer recorded it.</summary>
    public ApprovalRunner? RunBy { get; init; }

    public bool IsExpiredAt(DateTimeOffset now) => State == ApprovalStates.Pending && now >= ExpiresAt;
}

/// <summary>The node process running an approved request (docs/cluster.md): its node id and the
/// instance id drawn at that process's start, so a restart under the same node id is another runner.</summary>
public sealed record ApprovalRunner(string NodeId, string InstanceId);

/// <summary>One approver's vote; a voter votes once per request.</summary>
public sealed record ApprovalVote(string RequestId, string VoterId, string VoterKind, string VoterName, bool Approves, string? Comment, DateTimeOffset At);

/// <summary>
/// The states of an <see cref="ApprovalRequest"/>. pending → approved → executed is the only way a
/// call runs; every move is a conditional update from the state read, so of two concurrent final
/// votes only one moves the request to approved and runs it.
/// </summary>
public static class ApprovalStates
{
    public const string Pending = "pending";

    /// <summary>The quorum was reached and the call is running.</summary>
    public const string Approved = "approved";

    public const string Executed = "executed";

    public const string Denied = "denied";

    public const string Cancelled = "cancelled";

    public const string Expired = "expired";

    /// <summary>The target changed after the request was made; nothing ran.</summary>
    public const string Void = "void";

    /// <summary>The quorum was reached but the call did not finish (the node stopped, or the run failed
    /// part-way): whether it took effect is unknown, and it never runs again.</summary>
    public const string Interrupted = "interrupted";

    public static IReadOnlyList<string> All { get; } = [Pending, Approved, Executed, Denied, Cancelled, Expired, Void, Interrupted];
}
