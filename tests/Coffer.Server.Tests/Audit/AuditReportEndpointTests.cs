using System.Net.Http.Json;
using System.Net;
using System.Text.Json.Nodes;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>GET /api/v1/audit/report over real XKS calls and management changes.</summary>
public sealed class AuditReportEndpointTests
{
    [Fact]
    public async Task Report_counts_real_calls_by_region_and_flags_use_from_outside_the_allowed_regions()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3]));
        var fromUs = EncryptFromUsEast1();
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUs));

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report?allowedRegions=eu-west-1,eu-central-1");
        using var markdown = await node.Admin.GetAsync("/api/v1/audit/report?format=markdown&allowedRegions=eu-west-1");
        var text = await markdown.Content.ReadAsStringAsync();

        Assert.Equal(1, (long)report["callsOutsideAllowedRegions"]!["served"]!);
        Assert.Equal("1 calls came from outside the allowed regions (eu-central-1, eu-west-1): 1 served, 0 refused. By region: us-east-1 (1 served, 0 refused).", (string?)report["regionStatement"]);
        // XKS records name the key by id, as management records do, so its use and its changes line up.
        var keyStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var key = report["keys"]!.AsArray().Single()!;
        Assert.Equal((await node.Server.Seal.Storage.Keys.FindKeyAsync(keyStoreId, node.Info.KeyId))!.Id, (string?)key["keyId"]);
        Assert.Equal(2, (long)key["calls"]!["served"]!);
        Assert.Equal(1, (long)key["byRegion"]!["us-east-1"]!["served"]!);
        Assert.Contains(report["changes"]!.AsArray(), c => (string?)c!["action"] == "key.create");
        Assert.StartsWith("verified:", (string)report["chainStatus"]!, StringComparison.Ordinal);
        Assert.Equal(HttpStatusCode.OK, markdown.StatusCode);
        Assert.StartsWith("# Coffer key usage report", text, StringComparison.Ordinal);
        Assert.Contains("**Regions:** 1 calls came from outside the allowed regions (eu-west-1): 1 served, 0 refused. By region: us-east-1 (1 served, 0 refused).", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_separates_served_from_refused_calls_from_outside_the_allowed_regions_and_names_keys()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var fromUs = EncryptFromUsEast1("111122223333");
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUs));
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUs));
        using (var engage = await node.Admin.PostAsJsonAsync("/api/v1/kill-switches", new { scope = "region", value = "us-east-1", reason = "outside the EEA" }))
        {
            await engage.JsonAsync(HttpStatusCode.Created);
        }

        for (var i = 0; i < 3; i++)
        {
            XksAssert.Error(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUs), 400, "InvalidStateException");
        }

        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3])); // eu-west-1

        var report = await node.Admin.GetJsonAsync("/api/v1/audit/report?allowedRegions=eu-west-1");
        using var markdown = await node.Admin.GetAsync("/api/v1/audit/report?format=markdown&allowedRegions=eu-west-1");
        var text = await markdown.Content.ReadAsStringAsync();

        const string Statement = "5 calls came from outside the allowed regions (eu-west-1): 2 served, 3 refused. By region: us-east-1 (2 served, 3 refused).";
        Assert.Equal("coffer-audit-report-v2", (string?)report["format"]);
        Assert.Equal(Statement, (string?)report["regionStatement"]);
        Assert.Equal("""{"served":2,"refused":3,"failed":0,"calls":5}""", report["callsOutsideAllowedRegions"]!.ToJsonString());
        Assert.Equal("""{"served":3,"refused":3,"failed":0,"calls":6}""", report["xksCalls"]!.ToJsonString());
        Assert.Equal("""{"served":2,"refused":3,"failed":0,"calls":5}""", report["callsByRegion"]!["us-east-1"]!.ToJsonString());
        var keyStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var keyStoreName = (await node.Server.Seal.Storage.KeyStores.GetKeyStoreAsync(keyStoreId))!.Name;
        var keyId = (await node.Server.Seal.Storage.Keys.FindKeyAsync(keyStoreId, node.Info.KeyId))!.Id;
        var key = report["keys"]!.AsArray().Single()!;
        Assert.Equal((keyId, node.Info.KeyId, keyStoreId, keyStoreName),
            ((string?)key["keyId"], (string?)key["keyName"], (string?)key["keyStoreId"], (string?)key["keyStoreName"]));
        Assert.Equal("""{"served":3,"refused":3,"failed":0,"calls":6}""", key["calls"]!.ToJsonString());
        Assert.Equal("""{"served":2,"refused":3,"failed":0,"calls":5}""", key["byRegion"]!["us-east-1"]!.ToJsonString());
        Assert.Equal("""{"served":2,"refused":3,"failed":0,"calls":5}""", key["byAccount"]!["111122223333"]!.ToJsonString());
        Assert.Equal("""{"served":3,"refused":3,"failed":0,"calls":6}""", key["byOperation"]!["xks.encrypt"]!.ToJsonString());
        Assert.Equal(3, (long)key["denials"]!.AsObject().Single().Value!);

        Assert.Contains("**Regions:** " + Statement, text, StringComparison.Ordinal);
        Assert.Contains($"### Key {Md(node.Info.KeyId)} (id {Md(keyId)}) in key store {Md(keyStoreName)} (id {Md(keyStoreId)})", text, StringComparison.Ordinal);
        Assert.Contains("6 calls: 3 served, 3 refused.", text, StringComparison.Ordinal);
        Assert.Contains("| AWS region | served | refused | failed |", text, StringComparison.Ordinal);
        Assert.Contains("| us-east-1 | 2 | 3 | 0 |", text, StringComparison.Ordinal);
        Assert.Contains("| eu-west-1 | 1 | 0 | 0 |", text, StringComparison.Ordinal);
        Assert.Contains("| 111122223333 | 2 | 3 | 0 |", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Allowed_regions_may_name_region_sets_and_an_entry_that_is_neither_region_nor_set_is_refused()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var fromUs = EncryptFromUsEast1();
        XksAssert.Ok(await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUs));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3])); // eu-west-1
        using (var put = await node.Admin.PutAsJsonAsync("/api/v1/region-sets/home", new { regions = new[] { "eu-central-1" } }))
        {
            await put.JsonAsync(HttpStatusCode.OK);
        }

        var eea = await node.Admin.GetJsonAsync("/api/v1/audit/report?allowedRegions=eea");
        var own = await node.Admin.GetJsonAsync("/api/v1/audit/report?allowedRegions=home,eu-north-1");
        using var typo = await node.Admin.GetAsync("/api/v1/audit/report?allowedRegions=eea,eu-wset");
        var refused = await typo.ProblemAsync(HttpStatusCode.BadRequest);

        Assert.Equal(1, (long)eea["callsOutsideAllowedRegions"]!["calls"]!);
        Assert.Contains("eu-west-1", (string?)eea["regionStatement"], StringComparison.Ordinal);
        Assert.Contains("us-east-1 (1 served, 0 refused)", (string?)eea["regionStatement"], StringComparison.Ordinal);
        Assert.Equal(2, (long)own["callsOutsideAllowedRegions"]!["calls"]!);
        Assert.Contains("(eu-central-1, eu-north-1)", (string?)own["regionStatement"], StringComparison.Ordinal);
        Assert.Contains("'eu-wset' is neither an AWS region name", (string?)refused["detail"], StringComparison.Ordinal);
        Assert.Contains("home", (string?)refused["detail"], StringComparison.Ordinal);
    }

    [Fact]
    public async Task Report_refuses_an_empty_period()
    {
        await using var node = await DevServer.StartAsync();

        using var response = await node.Admin.GetAsync("/api/v1/audit/report?from=2026-01-02T00:00:00Z&to=2026-01-01T00:00:00Z");

        await response.ProblemAsync(HttpStatusCode.BadRequest);
    }

    private static JsonObject EncryptFromUsEast1(string account = "123456789012")
    {
        var request = XksRequests.Encrypt([4, 5, 6]);
        request["requestMetadata"]!["kmsKeyArn"] = $"arn:aws:kms:us-east-1:{account}:key/11111111-2222-3333-4444-555555555555";
        return request;
    }

    // The report escapes Markdown in names (AuditReportMarkdown.Cell); ids and names here hold only '_' and '-'.
    private static string Md(string text) => text.Replace("_", "\\_", StringComparison.Ordinal);
}
