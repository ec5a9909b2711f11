using System.Net;
using System.Net.Http.Json;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>
/// /api/v1/quorum-policies: set, list, show and delete; bad input is a 400 that names what
/// is wrong and changes nothing; a policy covering quorum.change makes changes to the policies
/// themselves need a quorum.
/// </summary>
public sealed class QuorumPolicyTests
{
    [Fact]
    public async Task A_policy_is_set_listed_shown_replaced_and_deleted_each_change_audited()
    {
        await using var node = await DevServer.StartAsync();

        var set = await node.Admin.PutQuorumAsync("destroy", ["key.destroy", "keystore.delete"], 2, "key-custodians");
        Assert.Equal(24, (int)set["lifetimeHours"]!);
        Assert.Equal(["key.destroy", "keystore.delete"], ManagementApi.Strings(set["operations"]));

        await node.Admin.PutQuorumAsync("destroy", ["key.destroy"], 3, "key-custodians", lifetimeHours: 72);
        var shown = await node.Admin.GetJsonAsync("/api/v1/quorum-policies/destroy");
        Assert.Equal(3, (int)shown["requiredApprovals"]!);
        Assert.Equal(72, (int)shown["lifetimeHours"]!);
        Assert.Equal(["key.destroy"], ManagementApi.Strings(shown["operations"]));
        Assert.Single((await node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());

        using (var deleted = await node.Admin.DeleteAsync("/api/v1/quorum-policies/destroy"))
        {
            Assert.Equal(HttpStatusCode.NoContent, deleted.StatusCode);
        }

        Assert.Empty((await node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());
        using (var missing = await node.Admin.GetAsync("/api/v1/quorum-policies/destroy"))
        {
            await missing.ProblemAsync(HttpStatusCode.NotFound);
        }

        Assert.Equal(2, (await ApprovalApi.RecordsAsync(node.Admin, "quorum.set")).AsArray().Count(r => (string?)r!["outcome"] == "ok"));
        Assert.Single((await ApprovalApi.RecordsAsync(node.Admin, "quorum.delete")).AsArray(), r => (string?)r!["outcome"] == "ok");
    }

    [Fact]
    public async Task An_operation_covered_by_another_policy_is_a_409()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("first", ["key.disable"], 1, "ops");

        using var response = await node.Admin.PutAsJsonAsync("/api/v1/quorum-policies/second",
            new { operations = new[] { "key.destroy", "key.disable" }, requiredApprovals = 2, approverGroup = "ops" });

        Assert.Contains("already covered by quorum policy 'first'", (string?)(await response.ProblemAsync(HttpStatusCode.Conflict))["detail"], StringComparison.Ordinal);
        Assert.Single((await node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());
    }

    [Fact]
    public async Task A_policy_covering_quorum_change_makes_changing_any_policy_need_approval()
    {
        await using var node = await DevServer.StartAsync();
        await node.Admin.PutQuorumAsync("guard", ["quorum.change"], 2, "security");

        // From now on the guard covers itself and every other policy: nothing changes without a quorum.
        using (var add = await node.Admin.PutAsJsonAsync("/api/v1/quorum-policies/destroy",
            new { operations = new[] { "key.destroy" }, requiredApprovals = 2, approverGroup = "security" }))
        {
            Assert.Equal("pending", (string?)(await add.JsonAsync(HttpStatusCode.Accepted))["state"]);
        }

        Assert.Single((await node.Admin.GetJsonAsync("/api/v1/quorum-policies")).AsArray());

        // A change that could only fail is refused at once, not held for votes.
        using (var bad = await node.Admin.PutAsJsonAsync("/api/v1/quorum-policies/bad",
            new { operations = new[] { "key.explode" }, requiredApprovals = 2, approverGroup = "security" }))
        {
            Assert.Contains("Unknown operation", (string?)(await bad.ProblemAsync(HttpStatusCode.BadRequest))["detail"], StringComparison.Ordinal);
        }

        Assert.Single((await node.Admin.GetJsonAsync("/api/v1/approvals?state=pending")).AsArray());

        using var weaken = await node.Admin.DeleteAsync("/api/v1/quorum-policies/guard");
        var held = await weaken.JsonAsync(HttpStatusCode.Accepted);

        Assert.Equal("quorum.change", (string?)held["operation"]);
        Assert.Equal("pending", (string?)held["state"]);
        Assert.NotNull(await node.Admin.GetJsonAsync("/api/v1/quorum-policies/guard"));
    }
}
