using Coffer.Approvals;
using Coffer.Auth;
using Dapper;

namespace Coffer.Storage.Repositories;

internal sealed class ApprovalRepository(CofferStorage storage) : IApprovalRepository
{
    private const string PolicyColumns =
        "name AS Name, required_approvals AS RequiredApprovals, approver_group AS ApproverGroup, lifetime_seconds AS LifetimeSeconds, " +
        "updated_at AS UpdatedAt, updated_by AS UpdatedBy";

    private const string RequestColumns =
        "id AS Id, operation AS Operation, policy_name AS Policy, required_approvals AS RequiredApprovals, approver_group AS ApproverGroup, " +
        "method AS Method, route_pattern AS RoutePattern, path AS Path, route_values AS RouteValues, query AS Query, body AS Body, " +
        "requester_id AS RequesterId, requester_kind AS RequesterKind, requester_name AS RequesterName, requester_grants AS RequesterGrants, " +
        "requester_groups AS RequesterGroups, requester_token_id AS RequesterTokenId, reason AS Reason, fingerprint AS Fingerprint, state AS State, " +
        "created_at AS CreatedAt, expires_at AS ExpiresAt, finished_at AS FinishedAt, end_reason AS EndReason, result_status AS ResultStatus, " +
        "result_body AS ResultBody, sealed_result AS SealedResult, run_node AS RunNode, run_instance AS RunInstance";

    private const string InsertRequest =
        "INSERT INTO approval_requests (id, operation, policy_name, required_approvals, approver_group, method, route_pattern, path, route_values, " +
        "query, body, requester_id, requester_kind, requester_name, requester_grants, requester_groups, requester_token_id, reason, fingerprint, " +
        "state, created_at, expires_at) VALUES (@Id, @Operation, @Policy, @RequiredApprovals, @ApproverGroup, @Method, @RoutePattern, @Path, " +
        "@RouteValues, @Query, @Body, @RequesterId, @RequesterKind, @RequesterName, @RequesterGrants, @RequesterGroups, @RequesterTokenId, " +
        "@Reason, @Fingerprint, @State, @CreatedAt, @ExpiresAt)";

    // Only while the request is pending: a vote on a decided request is never recorded.
    private const string InsertVote =
        "INSERT INTO approval_votes (request_id, voter_id, voter_kind, voter_name, approves, comment, voted_at) " +
        "SELECT @RequestId, @VoterId, @VoterKind, @VoterName, @Approves, @Comment, @At " +
        "WHERE EXISTS (SELECT 1 FROM approval_requests WHERE id = @RequestId AND state = 'pending')";

    // PostgreSQL: holds the request's row until the vote commits, so a concurrent state move waits for
    // the vote (or the vote sees the move), and the second of two votes counts the first.
    private readonly string _insertVote = InsertVote[..^1] + storage.Dialect.ForUpdate + ")";

    public async Task<IReadOnlyList<QuorumPolicy>> ListPoliciesAsync(CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginReadAsync(connection, ct);
        var rows = await connection.QueryAsync<PolicyRow>(new CommandDefinition("SELECT " + PolicyColumns + " FROM quorum_policies ORDER BY name", transaction: transaction, cancellationToken: ct));
        var operations = await connection.QueryAsync<(string Operation, string PolicyName)>(
            new CommandDefinition("SELECT operation, policy_name FROM quorum_policy_operations ORDER BY operation", transaction: transaction, cancellationToken: ct));
        var byPolicy = operations.ToLookup(o => o.PolicyName, o => o.Operation, StringComparer.Ordinal);
        return [.. rows.Select(r => r.ToPolicy([.. byPolicy[r.Name]]))];
    }

    public async Task<QuorumPolicy?> GetPolicyAsync(string name, CancellationToken ct = default) =>
        (await ListPoliciesAsync(ct)).FirstOrDefault(p => p.Name == name);

    public async Task PutPolicyAsync(QuorumPolicy policy, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(policy);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition(
            "INSERT INTO quorum_policies (name, required_approvals, approver_group, lifetime_seconds, updated_at, updated_by) " +
            "VALUES (@Name, @RequiredApprovals, @ApproverGroup, @LifetimeSeconds, @UpdatedAt, @UpdatedBy) ON CONFLICT (name) DO UPDATE SET " +
            "required_approvals = excluded.required_approvals, approver_group = excluded.approver_group, " +
            "lifetime_seconds = excluded.lifetime_seconds, updated_at = excluded.updated_at, updated_by = excluded.updated_by",
            new
            {
                policy.Name,
                policy.RequiredApprovals,
                policy.ApproverGroup,
                LifetimeSeconds = (long)policy.Lifetime.TotalSeconds,
                UpdatedAt = DbValues.Time(policy.UpdatedAt),
                policy.UpdatedBy,
            }, transaction, cancellationToken: ct));
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM quorum_policy_operations WHERE policy_name = @Name", new { policy.Name }, transaction, cancellationToken: ct));
        foreach (var operation in policy.Operations)
        {
            var owner = await connection.ExecuteScalarAsync<string?>(new CommandDefinition(
                "SELECT policy_name FROM quorum_policy_operations WHERE operation = @Operation", new { Operation = operation }, transaction, cancellationToken: ct));
            if (owner is not null)
            {
                throw OperationTaken(operation, owner, null);
            }

            try
            {
                await connection.ExecuteAsync(new CommandDefinition(
                    "INSERT INTO quorum_policy_operations (operation, policy_name) VALUES (@Operation, @Name)",
                    new { Operation = operation, policy.Name }, transaction, cancellationToken: ct));
            }
            catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out _))
            {
                // Another node's policy took it after the look above.
                throw OperationTaken(operation, "another", exception);
            }
        }

        await transaction.CommitAsync(ct);
    }

    private static ConflictException OperationTaken(string operation, string owner, Exception? inner)
    {
        var message = $"operation '{operation}' is already covered by quorum policy '{owner}'; an operation has one policy at most";
        return inner is null ? new ConflictException(message) : new ConflictException(message, inner);
    }

    public async Task<bool> DeletePolicyAsync(string name, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        await connection.ExecuteAsync(new CommandDefinition("DELETE FROM quorum_policy_operations WHERE policy_name = @Name", new { Name = name }, transaction, cancellationToken: ct));
        var deleted = await connection.ExecuteAsync(new CommandDefinition("DELETE FROM quorum_policies WHERE name = @Name", new { Name = name }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return deleted > 0;
    }

    public async Task CreateRequestAsync(ApprovalRequest request, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(request);
        await using var connection = await storage.OpenConnectionAsync(ct);
        var requester = request.Requester;
        await connection.ExecuteAsync(new CommandDefinition(InsertRequest, new
        {
            request.Id,
            request.Operation,
            request.Policy,
            request.RequiredApprovals,
            request.ApproverGroup,
            request.Method,
            request.RoutePattern,
            request.Path,
            RouteValues = DbValues.Tags(request.RouteValues),
            request.Query,
            request.Body,
            RequesterId = requester.Id,
            RequesterKind = requester.Kind,
            RequesterName = requester.Name,
            RequesterGrants = DbValues.Strings([.. requester.Grants.Select(g => g.ToString())]),
            RequesterGroups = DbValues.Strings(requester.Groups),
            RequesterTokenId = requester.TokenId,
            request.Reason,
            request.Fingerprint,
            request.State,
            CreatedAt = DbValues.Time(request.CreatedAt),
            ExpiresAt = DbValues.Time(request.ExpiresAt),
        }, cancellationToken: ct));
    }

    public async Task<ApprovalRequest?> GetRequestAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var row = await connection.QuerySingleOrDefaultAsync<RequestRow>(new CommandDefinition(
            "SELECT " + RequestColumns + " FROM approval_requests WHERE id = @Id", new { Id = id }, cancellationToken: ct));
        return row?.ToRequest();
    }

    public async Task<IReadOnlyList<ApprovalRequest>> ListRequestsAsync(string? state, int limit, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<RequestRow>(new CommandDefinition(
            "SELECT " + RequestColumns + " FROM approval_requests WHERE (@State IS NULL OR state = @State) ORDER BY created_at DESC, id DESC LIMIT @Limit",
            new { State = state, Limit = limit }, cancellationToken: ct));
        return [.. rows.Select(r => r.ToRequest())];
    }

    public async Task<IReadOnlyList<ApprovalVote>> ListVotesAsync(string requestId, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        var rows = await connection.QueryAsync<VoteRow>(new CommandDefinition(
            "SELECT request_id AS RequestId, voter_id AS VoterId, voter_kind AS VoterKind, voter_name AS VoterName, approves AS Approves, " +
            "comment AS Comment, voted_at AS VotedAt FROM approval_votes WHERE request_id = @Id ORDER BY voted_at, voter_id",
            new { Id = requestId }, cancellationToken: ct));
        return [.. rows.Select(r => new ApprovalVote(r.RequestId, r.VoterId, r.VoterKind, r.VoterName, r.Approves != 0, r.Comment, DbValues.ParseTime(r.VotedAt)))];
    }

    public async Task<int?> AddVoteAsync(ApprovalVote vote, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(vote);
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        int inserted;
        try
        {
            inserted = await connection.ExecuteAsync(new CommandDefinition(_insertVote, new
            {
                vote.RequestId,
                vote.VoterId,
                vote.VoterKind,
                vote.VoterName,
                Approves = vote.Approves ? 1 : 0,
                vote.Comment,
                At = DbValues.Time(vote.At),
            }, transaction, cancellationToken: ct));
        }
        catch (Exception exception) when (storage.Dialect.IsUniqueViolation(exception, out _))
        {
            throw new ConflictException($"'{vote.VoterId}' has voted on {vote.RequestId} already; a vote is final", exception);
        }

        if (inserted == 0)
        {
            return null;
        }

        var approvals = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            "SELECT COUNT(*) FROM approval_votes WHERE request_id = @RequestId AND approves = 1", new { vote.RequestId }, transaction, cancellationToken: ct));
        await transaction.CommitAsync(ct);
        return (int)approvals;
    }

    public async Task<bool> MoveAsync(string id, string expected, string state, DateTimeOffset at, string? endReason, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_requests SET state = @To, finished_at = CASE WHEN @To = 'approved' THEN finished_at ELSE @At END, " +
            "end_reason = COALESCE(@EndReason, end_reason) WHERE id = @Id AND state = @From",
            new { Id = id, From = expected, To = state, At = DbValues.Time(at), EndReason = endReason }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> ApproveAsync(string id, ApprovalRunner runner, CancellationToken ct = default)
    {
        ArgumentNullException.ThrowIfNull(runner);
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_requests SET state = 'approved', run_node = @Node, run_instance = @Instance WHERE id = @Id AND state = 'pending'",
            new { Id = id, Node = runner.NodeId, Instance = runner.InstanceId }, cancellationToken: ct)) == 1;
    }

    public async Task<bool> RecordExecutionAsync(string id, int status, string? body, byte[]? sealedResult, DateTimeOffset at, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        return await connection.ExecuteAsync(new CommandDefinition(
            "UPDATE approval_requests SET state = 'executed', finished_at = @At, result_status = @Status, result_body = @Body, sealed_result = @Sealed " +
            "WHERE id = @Id AND state = 'approved'",
            new { Id = id, Status = status, Body = body, Sealed = sealedResult, At = DbValues.Time(at) }, cancellationToken: ct)) == 1;
    }

    public async Task<byte[]?> TakeSealedResultAsync(string id, CancellationToken ct = default)
    {
        await using var connection = await storage.OpenConnectionAsync(ct);
        await using var transaction = await storage.BeginWriteAsync(connection, ct);
        var taken = await connection.ExecuteScalarAsync<byte[]?>(new CommandDefinition(
            "SELECT sealed_result FROM approval_requests WHERE id = @Id" + storage.Dialect.ForUpdate, new { Id = id }, transaction, cancellationToken: ct));
        if (taken is not null)
        {
            await connection.ExecuteAsync(new CommandDefinition(
                "UPDATE approval_requests SET sealed_result = NULL WHERE id = @Id", new { Id = id }, transaction, cancellationToken: ct));
        }

        await transaction.CommitAsync(ct);
        return taken;
    }

    private sealed class PolicyRow
    {
        public string Name { get; init; } = "";
        public long RequiredApprovals { get; init; }
        public string ApproverGroup { get; init; } = "";
        public long LifetimeSeconds { get; init; }
        public string UpdatedAt { get; init; } = "";
        public string UpdatedBy { get; init; } = "";

        public QuorumPolicy ToPolicy(IReadOnlyList<string> operations) => new(
            Name, operations, (int)RequiredApprovals, ApproverGroup, TimeSpan.FromSeconds(LifetimeSeconds), DbValues.ParseTime(UpdatedAt), UpdatedBy);
    }

    private sealed class VoteRow
    {
        public string RequestId { get; init; } = "";
        public string VoterId { get; init; } = "";
        public string VoterKind { get; init; } = "";
        public string VoterName { get; init; } = "";
        public long Approves { get; init; }
        public string? Comment { get; init; }
        public string VotedAt { get; init; } = "";
    }

    private sealed class RequestRow
    {
        public string Id { get; init; } = "";
        public string Operation { get; init; } = "";
        public string Policy { get; init; } = "";
        public long RequiredApprovals { get; init; }
        public string ApproverGroup { get; init; } = "";
        public string Method { get; init; } = "";
        public string RoutePattern { get; init; } = "";
        public string Path { get; init; } = "";
        public string RouteValues { get; init; } = "{}";
        public string Query { get; init; } = "";
        public string? Body { get; init; }
        public string RequesterId { get; init; } = "";
        public string RequesterKind { get; init; } = "";
        public string RequesterName { get; init; } = "";
        public string RequesterGrants { get; init; } = "[]";
        public string RequesterGroups { get; init; } = "[]";
        public string? RequesterTokenId { get; init; }
        public string? Reason { get; init; }
        public string Fingerprint { get; init; } = "";
        public string State { get; init; } = "";
        public string CreatedAt { get; init; } = "";
        public string ExpiresAt { get; init; } = "";
        public string? FinishedAt { get; init; }
        public string? EndReason { get; init; }
        public long? ResultStatus { get; init; }
        public string? ResultBody { get; init; }
        public byte[]? SealedResult { get; init; }
        public string? RunNode { get; init; }
        public string? RunInstance { get; init; }

        public ApprovalRequest ToRequest()
        {
            var grants = DbValues.ParseStrings(RequesterGrants).Select(RoleGrant.Parse);
            var requester = new Caller(RequesterId, RequesterKind, RequesterName, [.. grants], DbValues.ParseStrings(RequesterGroups), RequesterTokenId);
            return new ApprovalRequest(
                Id, Operation, Policy, (int)RequiredApprovals, ApproverGroup, Method, RoutePattern, Path, DbValues.ParseTags(RouteValues), Query, Body,
                requester, Reason, Fingerprint, State, DbValues.ParseTime(CreatedAt), DbValues.ParseTime(ExpiresAt))
            {
                FinishedAt = DbValues.ParseOptionalTime(FinishedAt),
                EndReason = EndReason,
                ResultStatus = (int?)ResultStatus,
                ResultBody = ResultBody,
                SealedResult = SealedResult,
                RunBy = RunNode is null || RunInstance is null ? null : new ApprovalRunner(RunNode, RunInstance),
            };
        }
    }
}
