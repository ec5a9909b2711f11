using System.Text.Json;
using Coffer.Approvals;

namespace Coffer.Server.Approvals;

/// <summary>Wire views of approval requests and quorum policies.</summary>
internal static class ApprovalViews
{
    public static ApprovalView Of(ApprovalRequest request, IReadOnlyList<ApprovalVote> votes) => new(
        request.Id,
        request.Operation,
        request.State,
        request.Policy,
        request.RequiredApprovals,
        request.ApproverGroup,
        votes.Count(v => v.Approves),
        new ApprovalRequesterView(request.Requester.Id, request.Requester.Kind, request.Requester.Name),
        request.Reason,
        request.Method,
        request.Path + request.Query,
        Json(request.Body),
        request.CreatedAt,
        request.ExpiresAt,
        request.FinishedAt,
        request.EndReason,
        [.. votes.Select(v => new ApprovalVoteView(v.VoterId, v.VoterKind, v.VoterName, v.Approves ? "approve" : "deny", v.Comment, v.At))],
        request.ResultStatus is { } status ? new ApprovalResultView(status, Json(request.ResultBody), request.SealedResult is not null) : null);

    public static QuorumPolicyView Of(QuorumPolicy policy) => new(
        policy.Name, [.. policy.Operations], policy.RequiredApprovals, policy.ApproverGroup, (int)policy.Lifetime.TotalHours, policy.UpdatedAt, policy.UpdatedBy);

    private static JsonElement? Json(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return null;
        }

        try
        {
            using var document = JsonDocument.Parse(text);
            return document.RootElement.Clone();
        }
        catch (JsonException)
        {
            return null;
        }
    }
}
