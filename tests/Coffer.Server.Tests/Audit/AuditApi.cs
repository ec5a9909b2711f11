using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

internal static class AuditApi
{
    /// <param name="full">Walk the whole chain, not only what follows the last verify's checkpoint.</param>
    public static async Task<JsonNode> VerifyAsync(this HttpClient admin, bool full = false)
    {
        using var response = await admin.GetAsync("/api/v1/audit/verify" + (full ? "?full=true" : ""));
        return await response.JsonAsync(HttpStatusCode.OK);
    }

    /// <summary>Every record, oldest first, through the list endpoint's paging.</summary>
    public static async Task<List<JsonNode>> AllRecordsAsync(this HttpClient admin, string filter = "")
    {
        var records = new List<JsonNode>();
        string? before = null;
        do
        {
            var query = "limit=2" + filter + (before is null ? "" : "&before=" + before);
            var page = await admin.GetJsonAsync("/api/v1/audit/records?" + query);
            records.AddRange(page["records"]!.AsArray().Select(r => r!));
            before = page["next"]?.ToString();
        }
        while (before is not null);

        records.Reverse();
        return records;
    }
}
