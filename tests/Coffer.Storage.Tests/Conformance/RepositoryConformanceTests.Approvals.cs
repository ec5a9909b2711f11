using Coffer.Approvals;
using Coffer.Auth;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>Quorum policies and approval requests: one policy per operation, votes once,
/// state moves that only one of two concurrent callers wins, a sealed answer taken once.</summary>
public abstract partial class RepositoryConformanceTests
{
    private ApprovalRequest NewRequest() => new(
        NextId("apr"), QuorumOperations.KeyDestroy, "destroy", 2, "custodians", "POST", "/api/v1/keys/{keyId}/schedule-destruction",
        "/api/v1/keys/key-1/schedule-destruction", new Dictionary<string, string> { ["keyId"] = "key-1" }, "?x=ü", """{"waitingPeriodDays":9}""",
        new Caller("usr-1", CallerKinds.User, "Dana ü", [new RoleGrant("key-officer"), new RoleGrant("auditor", "ks-9")], ["custodians", "ops"], "tok-1"),
        "ticket 42", "abc123", ApprovalStates.Pending, T0, T0.AddHours(24));

    [Fact]
    public async Task A_quorum_policy_round_trips_and_an_operation_belongs_to_one_policy_at_most()
    {
        var approvals = Store.Approvals;
        var policy = new QuorumPolicy("destroy", [QuorumOperations.KeyDestroy, QuorumOperations.KeyStoreDelete], 2, "custodians", TimeSpan.FromHours(48), T0, "tok-1");
        await approvals.PutPolicyAsync(policy);

        var stored = Assert.Single(await approvals.ListPoliciesAsync());
        Assert.Equal((policy.Name, policy.RequiredApprovals, policy.ApproverGroup, policy.Lifetime, policy.UpdatedAt, policy.UpdatedBy),
            (stored.Name, stored.RequiredApprovals, stored.ApproverGroup, stored.Lifetime, stored.UpdatedAt, stored.UpdatedBy));
        Assert.Equal(policy.Operations.Order(StringComparer.Ordinal), stored.Operations.Order(StringComparer.Ordinal));

        var clash = new QuorumPolicy("other", [QuorumOperations.KeyDisable, QuorumOperations.KeyDestroy], 1, "ops", TimeSpan.FromHours(1), T0, "tok-2");
        var refused = await Assert.ThrowsAsync<ConflictException>(() => approvals.PutPolicyAsync(clash));
        Assert.Contains("'destroy'", refused.Message, StringComparison.Ordinal);
        Assert.Null(await approvals.GetPolicyAsync("other"));

        Assert.True(await approvals.DeletePolicyAsync("destroy"));
        Assert.False(await approvals.DeletePolicyAsync("destroy"));
        await approvals.PutPolicyAsync(clash);
        Assert.Equal(2, (await approvals.GetPolicyAsync("other"))!.Operations.Count);
    }

    [Fact]
    public async Task A_request_round_trips_with_its_requester_and_takes_each_voter_once_while_pending()
    {
        var approvals = Store.Approvals;
        var request = NewRequest();
        await approvals.CreateRequestAsync(request);

        var stored = (await approvals.GetRequestAsync(request.Id))!;
        Assert.Equal(request with { Requester = stored.Requester, RouteValues = stored.RouteValues }, stored);
        Assert.Equal(request.Requester.Grants, stored.Requester.Grants);
        Assert.Equal(request.Requester.Groups, stored.Requester.Groups);
        Assert.Equal((request.Requester.Id, request.Requester.Kind, request.Requester.Name, request.Requester.TokenId),
            (stored.Requester.Id, stored.Requester.Kind, stored.Requester.Name, stored.Requester.TokenId));
        Assert.Equal("key-1", stored.RouteValues["keyId"]);

        Assert.Equal(1, await approvals.AddVoteAsync(new ApprovalVote(request.Id, "usr-2", CallerKinds.User, "B", true, "ok", T0.AddTicks(1))));
        await Assert.ThrowsAsync<ConflictException>(() => approvals.AddVoteAsync(new ApprovalVote(request.Id, "usr-2", CallerKinds.User, "B", false, null, T0.AddTicks(2))));
        Assert.Equal(1, await approvals.AddVoteAsync(new ApprovalVote(request.Id, "usr-3", CallerKinds.User, "C", false, null, T0.AddTicks(3))));
        Assert.Equal(["usr-2", "usr-3"], (await approvals.ListVotesAsync(request.Id)).Select(v => v.VoterId));

        Assert.True(await approvals.MoveAsync(request.Id, ApprovalStates.Pending, ApprovalStates.Denied, T0.AddTicks(4), "denied by usr-3"));
        Assert.Null(await approvals.AddVoteAsync(new ApprovalVote(request.Id, "usr-4", CallerKinds.User, "D", true, null, T0.AddTicks(5))));
        Assert.Equal(2, (await approvals.ListVotesAsync(request.Id)).Count);
        Assert.Equal([request.Id], (await approvals.ListRequestsAsync(ApprovalStates.Denied, 10)).Select(r => r.Id));
        Assert.Empty(await approvals.ListRequestsAsync(ApprovalStates.Pending, 10));
    }

    [Fact]
    public async Task Approving_records_the_runner_and_only_a_pending_request_is_approved()
    {
        var request = NewRequest();
        await Store.Approvals.CreateRequestAsync(request);
        var runner = new ApprovalRunner("node-b", "0123456789abcdef");

        Assert.Null((await Store.Approvals.GetRequestAsync(request.Id))!.RunBy);
        Assert.True(await Store.Approvals.ApproveAsync(request.Id, runner));
        Assert.False(await Store.Approvals.ApproveAsync(request.Id, runner with { NodeId = "node-c" }));

        var approved = (await Store.Approvals.GetRequestAsync(request.Id))!;
        Assert.Equal((ApprovalStates.Approved, runner), (approved.State, approved.RunBy));
        Assert.Equal(runner, Assert.Single(await Store.Approvals.ListRequestsAsync(ApprovalStates.Approved, 10)).RunBy);
    }

    [Fact]
    public async Task Of_two_concurrent_moves_from_pending_one_wins_and_a_sealed_answer_is_taken_once()
    {
        var request = NewRequest();
        await Store.Approvals.CreateRequestAsync(request);
        var second = await OpenAsync();

        var moved = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() =>
            (i % 2 == 0 ? Store.Approvals : second.Approvals).MoveAsync(request.Id, ApprovalStates.Pending, ApprovalStates.Approved, T0, null))));

        Assert.Equal(1, moved.Count(m => m));
        Assert.True(await Store.Approvals.RecordExecutionAsync(request.Id, 201, null, [1, 2, 3], T0.AddTicks(7)));
        Assert.False(await Store.Approvals.RecordExecutionAsync(request.Id, 201, null, [4], T0.AddTicks(8)));
        var executed = (await Store.Approvals.GetRequestAsync(request.Id))!;
        Assert.Equal((ApprovalStates.Executed, 201, T0.AddTicks(7)), (executed.State, executed.ResultStatus, executed.FinishedAt));
        Assert.Equal([1, 2, 3], await Store.Approvals.TakeSealedResultAsync(request.Id));
        Assert.Null(await second.Approvals.TakeSealedResultAsync(request.Id));
        Assert.Null((await Store.Approvals.GetRequestAsync(request.Id))!.SealedResult);
    }
}
