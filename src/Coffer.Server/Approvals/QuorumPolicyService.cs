using Coffer.Approvals;
using Coffer.Server.Services;
using Coffer.Storage;

namespace Coffer.Server.Approvals;

/// <summary>Creating, replacing and deleting quorum policies.</summary>
internal sealed class QuorumPolicyService(ICofferStorage storage, TimeProvider time)
{
    /// <summary>A request for the policy <paramref name="name"/>, checked without reading storage (so a
    /// held change is refused at once when it could only fail).</summary>
    public static QuorumPolicyRequest Check(string name, QuorumPolicyRequest? request)
    {
        if (!Validation.TryName(name, "name", out var nameError))
        {
            throw new InvalidRequestException(nameError);
        }

        if (request is null)
        {
            throw new InvalidRequestException("The body is a quorum policy: {\"operations\": [...], \"requiredApprovals\": M, \"approverGroup\": \"...\"}.");
        }

        return QuorumPolicy.Problem(request.Operations, request.RequiredApprovals, request.ApproverGroup, request.LifetimeHours) is { } problem
            ? throw new InvalidRequestException(problem)
            : request;
    }

    public async Task<QuorumPolicy> PutAsync(string name, QuorumPolicyRequest? request, Actor actor, CancellationToken ct)
    {
        request = Check(name, request);
        var lifetime = request.LifetimeHours is { } hours ? TimeSpan.FromHours(hours) : QuorumPolicy.DefaultLifetime;
        var policy = new QuorumPolicy(name, request.Operations!, request.RequiredApprovals!.Value, request.ApproverGroup!, lifetime, time.GetUtcNow(), actor.Name);
        await storage.Approvals.PutPolicyAsync(policy, ct);
        return policy;
    }

    public async Task DeleteAsync(string name, CancellationToken ct)
    {
        if (!await storage.Approvals.DeletePolicyAsync(name, ct))
        {
            throw NotFound(name);
        }
    }

    public static NotFoundException NotFound(string name) => new($"No quorum policy '{name}'.");
}
