using System.Net;
using System.Net.Http.Headers;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>GET /api/v1/audit/verify with Accept: application/x-ndjson: progress lines, then the result line.</summary>
public sealed class AuditVerifyStreamTests
{
    [Fact]
    public async Task Asked_for_NDJSON_verify_sends_progress_before_the_result_and_the_same_result_as_JSON()
    {
        await using var node = await DevServer.StartAsync();
        using var request = new HttpRequestMessage(HttpMethod.Get, "/api/v1/audit/verify?full=true");
        request.Headers.Accept.Add(new MediaTypeWithQualityHeaderValue("application/x-ndjson"));

        using var response = await node.Admin.SendAsync(request, HttpCompletionOption.ResponseHeadersRead);
        var lines = (await response.Content.ReadAsStringAsync()).Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        var plain = await node.Admin.GetJsonAsync("/api/v1/audit/verify?full=true");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/x-ndjson", response.Content.Headers.ContentType?.MediaType);
        Assert.True(lines.Count >= 2, string.Join("\n", lines));
        Assert.All(lines[..^1], l => Assert.NotNull(l["progress"]));
        var progress = lines[0]["progress"]!;
        var result = lines[^1]["result"]!;
        Assert.True((bool)result["ok"]!, result.ToJsonString());
        Assert.Equal((long)result["lastSequence"]!, (long)progress["lastSequence"]!);
        Assert.Equal((long)result["records"]!, (long)progress["records"]!);
        Assert.True((long)progress["headSequence"]! >= (long)progress["lastSequence"]!);
        Assert.Equal(1, (long)result["firstSequence"]!);
        Assert.Equal((long)plain["lastSequence"]!, (long)result["lastSequence"]!);
    }
}
