using System.Net;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// A bad quorum policy is a 400 that says why and changes nothing. The cases share one node: none of
/// them may add a policy, so each also checks that no case before it did.
/// </summary>
public sealed class QuorumPolicyRefusalTests(SharedNode shared) : IClassFixture<SharedNode>
{
    private DevServer Node => shared.Node;

    [Theory]
    [InlineData("""{"operations":["key.explode"],"requiredApprovals":2,"approverGroup":"ops"}""", "Unknown operation 'key.explode'")]
    [InlineData("""{"operations":[],"requiredApprovals":2,"approverGroup":"ops"}""", "operations is required")]
    [InlineData("""{"operations":["key.destroy"],"requiredApprovals":0,"approverGroup":"ops"}""", "requiredApprovals is 1 to 16")]
    [InlineData("""{"operations":["key.destroy"],"requiredApprovals":17,"approverGroup":"ops"}""", "requiredApprovals is 1 to 16")]
    [InlineData("""{"operations":["key.destroy"],"requiredApprovals":2,"approverGroup":"Ops!"}""", "approverGroup is a group name")]
    [InlineData("""{"operations":["key.destroy"],"requiredApprovals":2}""", "approverGroup is a group name")]
    [InlineData("""{"operations":["key.destroy"],"requiredApprovals":2,"approverGroup":"ops","lifetimeHours":721}""", "lifetimeHours is 1 to 720")]
    [InlineData("""{"operations":["key.destroy","key.destroy"],"requiredApprovals":2,"approverGroup":"ops"}""", "twice")]
    public async Task A_bad_policy_is_a_400_that_says_why_and_changes_nothing(string body, string expected)
    {
        using var response = await Node.Admin.PutAsync("/api/v1/quorum-policies/p", new StringContent(body, System.Text.Encoding.UTF8, "application/json"));

        var problem = await response.ProblemAsync(HttpStatusCode.BadRequest);
        Assert.Contains(expected, (string?)problem["detail"], StringComparison.Ordinal);
        Assert.Empty((await Node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());
    }
}
