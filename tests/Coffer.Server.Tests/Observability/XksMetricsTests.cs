using System.Globalization;
using System.Net;
using System.Net.Http.Json;
using System.Text.RegularExpressions;
using Coffer.Server.Metrics;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;

namespace Coffer.Server.Tests.Observability;

/// <summary>The XKS latency histogram and the key gauges on GET /metrics (docs/observability.md).</summary>
public sealed class XksMetricsTests
{
    [Fact]
    public async Task The_duration_histogram_times_each_call_under_its_operation_and_XKS_outcome_with_buckets_around_250_ms()
    {
        await using var node = await DevServer.StartAsync();
        var xks = XksClient.For(node);
        var ciphertext = await xks.MustEncryptAsync(node.Info.KeyId, [1, 2, 3]);
        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [4]));
        XksAssert.Error(await xks.EncryptAsync("no-such-key", [1]), 404, "KeyNotFoundException");
        XksAssert.Ok(await xks.DecryptAsync(node.Info.KeyId, ciphertext));

        var text = await node.Admin.GetStringAsync("/metrics");

        const string Name = "coffer_xks_request_duration_seconds";
        Assert.Equal(2, MetricsTests.Value(text, Name + "_count{operation=\"encrypt\",outcome=\"success\"}"));
        Assert.Equal(1, MetricsTests.Value(text, Name + "_count{operation=\"encrypt\",outcome=\"KeyNotFoundException\"}"));
        Assert.Equal(1, MetricsTests.Value(text, Name + "_count{operation=\"decrypt\",outcome=\"success\"}"));
        var sum = MetricsTests.Value(text, Name + "_sum{operation=\"encrypt\",outcome=\"success\"}");
        Assert.InRange(sum, 1e-6, 10);
        Assert.Equal(2, MetricsTests.Value(text, Name + "_bucket{operation=\"encrypt\",outcome=\"success\",le=\"+Inf\"}"));

        // The bounds, in order: fine below AWS KMS's 250 ms timeout, which is a bound of its own.
        var bounds = Regex.Matches(text, "^" + Name + "_bucket\\{operation=\"encrypt\",outcome=\"success\",le=\"([^\"]+)\"\\}", RegexOptions.Multiline)
            .Select(m => m.Groups[1].Value).ToArray();
        Assert.Equal([.. XksCallMetrics.DurationBuckets.Select(b => b.ToString(CultureInfo.InvariantCulture)), "+Inf"], bounds);
        Assert.Contains("0.25", bounds);
        Assert.True(XksCallMetrics.DurationBuckets.Count(b => b < 0.25) >= 8, "fine resolution below 250 ms");

        // A series appears with its first call: no empty ones for outcomes that never happened.
        Assert.DoesNotContain("outcome=\"InternalException\"", text, StringComparison.Ordinal);
        Assert.DoesNotContain(Name + "_count{operation=\"metadata\"", text, StringComparison.Ordinal);
    }

    [Fact]
    public async Task The_key_gauges_show_the_largest_share_of_a_budget_reserved_and_the_soonest_expiry()
    {
        var clock = new Microsoft.Extensions.Time.Testing.FakeTimeProvider(DateTimeOffset.UtcNow);
        await using var node = await DevServer.StartAsync(o => o.Xks.MaxEncryptionsPerKeyVersion = 8, time: clock);
        var before = await node.Admin.GetStringAsync("/metrics");
        Assert.Equal(0, MetricsTests.Value(before, "coffer_key_encryption_budget_used_ratio"));
        Assert.Equal(0, MetricsTests.Value(before, "coffer_key_soonest_expiry_timestamp_seconds"));

        var xks = XksClient.For(node);
        for (var i = 0; i < 6; i++)
        {
            await xks.MustEncryptAsync(node.Info.KeyId, [(byte)i]);
        }

        var keyStoreId = await node.KeyStoreIdAsync(node.Info.UriPrefix);
        var keyId = (await node.Server.Seal.Storage.Keys.FindKeyAsync(keyStoreId, node.Info.KeyId))!.Id;
        using (var dates = await node.Admin.PutAsJsonAsync($"/api/v1/keys/{keyId}/versions/1/dates", new { deactivatesAt = clock.GetUtcNow().AddDays(3) }))
        {
            Assert.Equal(HttpStatusCode.OK, dates.StatusCode);
        }

        var after = await node.Admin.GetStringAsync("/metrics");
        Assert.Equal(0.75, MetricsTests.Value(after, "coffer_key_encryption_budget_used_ratio"));
        Assert.Equal(clock.GetUtcNow().AddDays(3).ToUnixTimeMilliseconds() / 1000.0, MetricsTests.Value(after, "coffer_key_soonest_expiry_timestamp_seconds"));
    }
}
