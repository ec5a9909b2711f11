using System.Net;
using System.Text.Json.Nodes;
using Coffer.Audit;
using Coffer.Server.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Testing;

namespace Coffer.Server.Tests.Audit;

/// <summary>GET /api/v1/audit/export: the records for a SIEM, as JSON lines or CEF.</summary>
public sealed class AuditExportTests
{
    [Fact]
    public async Task JSON_lines_hold_every_record_oldest_first_and_resume_after_a_sequence()
    {
        await using var node = await DevServer.StartAsync();
        var head = (long)(await node.Admin.VerifyAsync())["lastSequence"]!;

        var all = await LinesAsync(node.Admin, "/api/v1/audit/export");
        var later = await LinesAsync(node.Admin, "/api/v1/audit/export?format=jsonl&after=" + (head - 2));

        Assert.Equal(Enumerable.Range(1, (int)head).Select(i => (long)i), all.Select(l => (long)JsonNode.Parse(l)!["sequence"]!));
        Assert.Equal([head - 1, head], later.Select(l => (long)JsonNode.Parse(l)!["sequence"]!));
        Assert.Equal(64, ((string)JsonNode.Parse(all[0])!["hash"]!).Length);
    }

    [Fact]
    public async Task CEF_lines_carry_the_record_and_an_unknown_format_is_refused()
    {
        await using var node = await DevServer.StartAsync();

        var lines = await LinesAsync(node.Admin, "/api/v1/audit/export?format=cef");
        using var bad = await node.Admin.GetAsync("/api/v1/audit/export?format=xml");

        Assert.All(lines, l => Assert.StartsWith("CEF:0|Coffer|Coffer|", l, StringComparison.Ordinal));
        Assert.Contains(lines, l => l.Contains("|keystore.create|keystore.create|3|", StringComparison.Ordinal) && l.Contains(" outcome=ok ", StringComparison.Ordinal));
        Assert.Contains("externalId=1 ", lines[0], StringComparison.Ordinal);
        await bad.ProblemAsync(HttpStatusCode.BadRequest);
    }

    [Fact]
    public async Task The_filters_of_the_listing_narrow_the_export_and_a_bad_outcome_is_refused()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        for (var i = 0; i < 2; i++)
        {
            Assert.Equal(200, (await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3])).Status);
        }

        var fromUsEast1 = XksRequests.Encrypt([4, 5, 6]);
        fromUsEast1["requestMetadata"]!["kmsKeyArn"] = "arn:aws:kms:us-east-1:123456789012:key/11111111-2222-3333-4444-555555555555";
        Assert.Equal(200, (await xks.PostAsync($"keys/{node.Info.KeyId}/encrypt", fromUsEast1)).Status);

        var usEast1 = await LinesAsync(node.Admin, "/api/v1/audit/export?region=us-east-1");
        var euWest1 = await LinesAsync(node.Admin, "/api/v1/audit/export?region=eu-west-1&action=xks.encrypt&outcome=ok");
        using var bad = await node.Admin.GetAsync("/api/v1/audit/export?outcome=maybe");

        var record = JsonNode.Parse(Assert.Single(usEast1))!;
        Assert.Equal("xks.encrypt", (string)record["action"]!);
        Assert.Equal("us-east-1", (string)record["awsRegion"]!);
        Assert.Equal(2, euWest1.Count);
        Assert.All(euWest1, l => Assert.Equal("eu-west-1", (string)JsonNode.Parse(l)!["awsRegion"]!));
        Assert.Contains("outcome", (string)(await bad.ProblemAsync(HttpStatusCode.BadRequest))["detail"]!, StringComparison.Ordinal);
    }

    [Fact]
    public void CEF_escapes_what_a_caller_controls_so_no_field_or_line_can_be_forged()
    {
        var record = AuditRecord.Create(new AuditEvent
        {
            Action = "xks.encrypt|evil",
            Outcome = AuditOutcome.Denied,
            AwsPrincipalArn = "arn:aws:iam::123456789012:role/x suser=admin",
            KmsRequestId = "id\nCEF:0|forged",
            Details = "back\\slash",
            SourceIp = "2001:db8::1",
        }, 7, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), "node-1", AuditRecord.GenesisHash);

        var line = AuditCef.Format(record, "1.0");

        Assert.StartsWith(@"CEF:0|Coffer|Coffer|1.0|xks.encrypt\|evil|xks.encrypt\|evil|8|rt=1700000000123 externalId=7 dvchost=node-1 ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.Contains(@"cs4=id\nCEF:0|forged", line, StringComparison.Ordinal);
        Assert.Contains(@"cs5=arn:aws:iam::123456789012:role/x suser\=admin", line, StringComparison.Ordinal);
        Assert.Contains(@"msg=back\\slash", line, StringComparison.Ordinal);
        Assert.Contains("c6a1Label=sourceIp c6a1=2001:db8::1", line, StringComparison.Ordinal);
        Assert.DoesNotContain(" src=", line, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData('\u001b', @"\x1b")]
    [InlineData('\u0085', @"\x85")]
    [InlineData('\u2028', @"\u2028")]
    [InlineData('\u2029', @"\u2029")]
    [InlineData('\u000b', @"\x0b")]
    public void CEF_writes_every_other_line_breaker_and_control_escaped(char control, string escaped)
    {
        var record = AuditRecord.Create(new AuditEvent
        {
            Action = "xks.encrypt" + control + "CEF:0|forged",
            Outcome = AuditOutcome.Denied,
            KmsRequestId = "id" + control + "CEF:0|forged",
        }, 7, DateTimeOffset.FromUnixTimeMilliseconds(1_700_000_000_123), "node-1", AuditRecord.GenesisHash);

        var line = AuditCef.Format(record, "1.0");

        Assert.DoesNotContain(control, line);
        Assert.Contains("cs4=id" + escaped + "CEF:0|forged", line, StringComparison.Ordinal);
        Assert.Contains("|xks.encrypt" + escaped + "CEF:0\\|forged|", line, StringComparison.Ordinal);
    }

    private static async Task<List<string>> LinesAsync(HttpClient admin, string path)
    {
        using var response = await admin.GetAsync(path);
        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        var text = await response.Content.ReadAsStringAsync();
        Assert.EndsWith("\n", text, StringComparison.Ordinal);
        return [.. text.Split('\n', StringSplitOptions.RemoveEmptyEntries)];
    }
}
