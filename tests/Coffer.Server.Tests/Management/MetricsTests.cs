using System.Net;
using System.Text.RegularExpressions;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Management;

/// <summary>GET /metrics: Prometheus text with XKS calls by outcome, the audit head and each sink's
/// backlog (the backlog is a metric), engaged kill switches; a token with metrics.read is required.</summary>
public sealed class MetricsTests
{
    [Fact]
    public async Task Metrics_count_XKS_calls_by_outcome_and_show_the_audit_head_and_kill_switches()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1, 2, 3]));
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [4, 5, 6]));
        XksAssert.Error(await xks.EncryptAsync("no-such-key", [1]), 404, "KeyNotFoundException");
        using (await node.Admin.PostJsonAsync("/api/v1/kill-switches", new { scope = "region", value = "us-east-1", reason = "metrics" }))
        {
        }

        var text = await node.Admin.GetStringAsync("/metrics");

        Assert.Equal(2, Value(text, "coffer_xks_requests_total{operation=\"encrypt\",outcome=\"ok\"}"));
        Assert.Equal(1, Value(text, "coffer_xks_requests_total{operation=\"encrypt\",outcome=\"error\"}"));
        Assert.Equal(1, Value(text, "coffer_kill_switches_engaged"));
        Assert.Equal(0, Value(text, "coffer_sealed"));
        var head = (long)(await node.Admin.GetJsonAsync("/api/v1/audit/verify"))["lastSequence"]!;
        Assert.InRange(Value(text, "coffer_audit_head_sequence"), head - 2, head); // verify itself may add none; the scrape added none
        Assert.InRange(Value(text, "coffer_audit_batches_total"), 1, Value(text, "coffer_audit_batched_records_total"));
        Assert.InRange(Value(text, "coffer_audit_batched_records_total"), 1, head);
        Assert.True(Value(text, "coffer_audit_commit_seconds_total") > 0);
    }

    [Fact]
    public async Task Metrics_need_a_token_whose_role_reads_them()
    {
        await using var node = await DevServer.StartAsync();
        using var anonymous = ManagementApi.ClientWith(node, null);
        using var created = await node.Admin.PostJsonAsync("/api/v1/tokens", new { name = "scraper", role = "approver" });
        using var approver = ManagementApi.ClientWith(node, "Bearer " + (string)(await created.JsonAsync(HttpStatusCode.Created))["token"]!);

        Assert.Equal(HttpStatusCode.Unauthorized, (await anonymous.GetAsync("/metrics")).StatusCode);
        Assert.Equal(HttpStatusCode.Forbidden, (await approver.GetAsync("/metrics")).StatusCode);
    }

    internal static double Value(string text, string series)
    {
        var match = Regex.Match(text, "^" + Regex.Escape(series) + " ([0-9.e+-]+)$", RegexOptions.Multiline);
        Assert.True(match.Success, $"{series} is not in:\n{text}");
        return double.Parse(match.Groups[1].Value, System.Globalization.CultureInfo.InvariantCulture);
    }
}
