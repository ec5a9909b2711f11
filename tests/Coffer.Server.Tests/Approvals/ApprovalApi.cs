using System.Net;
using System.Net.Http.Json;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Approvals;

/// <summary>Calls of /api/v1/quorum-policies and /api/v1/approvals as a client makes them.</summary>
internal static class ApprovalApi
{
    public static async Task<JsonNode> PutQuorumAsync(this HttpClient admin, string name, string[] operations, int required, string group, int? lifetimeHours = null)
    {
        using var response = await admin.PutAsJsonAsync($"/api/v1/quorum-policies/{name}",
            new { operations, requiredApprovals = required, approverGroup = group, lifetimeHours });
        return await response.JsonAsync(HttpStatusCode.OK);
    }

    /// <summary>A bare token of <paramref name="role"/> (no groups), made by the root token.</summary>
    public static async Task<HttpClient> ClientOfRoleAsync(DevServer node, string role)
    {
        using var response = await node.Admin.PostJsonAsync("/api/v1/tokens", new { name = role + " " + Guid.NewGuid().ToString("N")[..8], role });
        var token = (string)(await response.JsonAsync(HttpStatusCode.Created))["token"]!;
        return ManagementApi.ClientWith(node, "Bearer " + token);
    }

    /// <summary>A new user with one role and these groups, and a client with a token the user owns.</summary>
    public static async Task<(HttpClient Client, string Id)> UserAsync(DevServer node, string role, params string[] groups)
    {
        using var created = await node.Admin.PostJsonAsync("/api/v1/users",
            new { name = "user " + Guid.NewGuid().ToString("N")[..8], roles = new[] { new { role } }, groups });
        var id = (string)(await created.JsonAsync(HttpStatusCode.Created))["id"]!;
        using var issued = await node.Admin.PostJsonAsync("/api/v1/tokens", new { name = "token of " + id, owner = id });
        var token = (string)(await issued.JsonAsync(HttpStatusCode.Created))["token"]!;
        return (ManagementApi.ClientWith(node, "Bearer " + token), id);
    }

    /// <summary>A new key store with one key; returns the key's id.</summary>
    public static async Task<string> NewKeyAsync(HttpClient admin)
    {
        var store = (string)(await admin.CreateKeyStoreAsync())["id"]!;
        return (string)(await admin.CreateKeyAsync(store, new { name = ManagementApi.Unique("apr") }))["id"]!;
    }

    public static async Task<JsonNode> RecordsAsync(HttpClient admin, string action) =>
        (await admin.GetJsonAsync($"/api/v1/audit/records?action={action}&limit=1000"))["records"]!;
}
