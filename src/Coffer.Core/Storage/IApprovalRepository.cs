using Coffer.Approvals;

namespace Coffer.Storage;

/// <summary>
/// Quorum policies and approval requests with their votes. Every state change is a
/// conditional update against the state the caller read, so two nodes or two concurrent votes can
/// never both move a request; callers learn from the result whether theirs won.
/// </summary>
public interface IApprovalRepository
{
    /// <summary>Every quorum policy, by name.</summary>
    Task<IReadOnlyList<QuorumPolicy>> ListPoliciesAsync(CancellationToken ct = default);

    Task<QuorumPolicy?> GetPolicyAsync(string name, CancellationToken ct = default);

    /// <summary>Creates or replaces the policy of this name.</summary>
    /// <exception cref="ConflictException">Another policy already covers one of its operations.</exception>
    Task PutPolicyAsync(QuorumPolicy policy, CancellationToken ct = default);

    /// <summary>False if no policy has this name.</summary>
    Task<bool> DeletePolicyAsync(string name, CancellationToken ct = default);

    Task CreateRequestAsync(ApprovalRequest request, CancellationToken ct = default);

    Task<ApprovalRequest?> GetRequestAsync(string id, CancellationToken ct = default);

    /// <summary>Requests newest first, of one state or all.</summary>
    Task<IReadOnlyList<ApprovalRequest>> ListRequestsAsync(string? state, int limit, CancellationToken ct = default);

    /// <summary>Votes of a request, oldest first.</summary>
    Task<IReadOnlyList<ApprovalVote>> ListVotesAsync(string requestId, CancellationToken ct = default);

    /// <summary>Records a vote while the request is pending and returns how many approvals it then
    /// has; null when the request is no longer pending (nothing recorded).</summary>
    /// <exception cref="ConflictException">This voter has voted on this request already.</exception>
    Task<int?> AddVoteAsync(ApprovalVote vote, CancellationToken ct = default);

    /// <summary>Moves the request from <paramref name="expected"/> to <paramref name="state"/>; false when it
    /// was not in <paramref name="expected"/> (someone else moved it first).</summary>
    Task<bool> MoveAsync(string id, string expected, string state, DateTimeOffset at, string? endReason, CancellationToken ct = default);

    /// <summary>Moves a pending request to approved, recording <paramref name="runner"/> as the node process
    /// that runs it (<see cref="ApprovalRequest.RunBy"/>); false when it was no longer pending.</summary>
    Task<bool> ApproveAsync(string id, ApprovalRunner runner, CancellationToken ct = default);

    /// <summary>approved → executed, with the answer (at most one of body and sealed result).</summary>
    Task<bool> RecordExecutionAsync(string id, int status, string? body, byte[]? sealedResult, DateTimeOffset at, CancellationToken ct = default);

    /// <summary>Returns the sealed result and erases it in one step: it can be taken once.</summary>
    Task<byte[]?> TakeSealedResultAsync(string id, CancellationToken ct = default);
}
