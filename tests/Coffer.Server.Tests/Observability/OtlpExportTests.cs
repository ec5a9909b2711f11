using System.Net;
using System.Text;
using Coffer.Server.Telemetry;
using Coffer.Server.Tests.Management;
using Coffer.Server.Tests.Xks;
using Coffer.Testing;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Tests.Observability;

/// <summary>Telemetry:Otlp (docs/observability.md, "OTLP"): the node's metrics and a span per XKS and
/// management request reach an OTLP/HTTP receiver, and nothing secret is in what it sends.</summary>
public sealed class OtlpExportTests
{
    [Fact]
    public async Task Metrics_and_spans_reach_the_collector_without_a_secret_plaintext_or_token_in_them()
    {
        await using var receiver = await OtlpReceiver.StartAsync();
        var node = await DevServer.StartAsync(o => o.Telemetry.Otlp = new OtlpOptions { Endpoint = receiver.Endpoint, ExportIntervalSeconds = 1 });
        var plaintext = Encoding.ASCII.GetBytes("PLAINTEXT-MARKER-7f3a9c");
        var aad = Encoding.ASCII.GetBytes("AAD-MARKER-51d2e8");
        string createdToken;
        try
        {
            var xks = XksClient.For(node);
            var sealedData = await xks.MustEncryptAsync(node.Info.KeyId, plaintext, aad);
            Assert.Equal(plaintext, (await xks.DecryptAsync(node.Info.KeyId, sealedData, aad)).Bytes("plaintext"));
            XksAssert.Error(await xks.EncryptAsync("no-such-key", plaintext), 404, "KeyNotFoundException");
            using var created = await node.Admin.PostJsonAsync("/api/v1/tokens", new { name = "otlp-test", role = "auditor" });
            createdToken = (string)(await created.JsonAsync(HttpStatusCode.Created))["token"]!;
            using var auditor = ManagementApi.ClientWith(node, "Bearer " + createdToken);
            Assert.Equal(HttpStatusCode.OK, (await auditor.GetAsync("/api/v1/keystores")).StatusCode);

            await Wait.UntilAsync(() => Contains(receiver.Bodies("metrics"), "coffer_xks_request_duration_seconds")
                && Contains(receiver.Bodies("metrics"), "coffer_audit_head_sequence"), "the metrics to reach the receiver");
        }
        finally
        {
            await node.DisposeAsync(); // the last export and the spans' batch are flushed at stop
        }

        var traces = receiver.Bodies("traces");
        Assert.True(Contains(traces, "/kms/xks/v1/keys/" + node.Info.KeyId + "/encrypt"), "the encrypt call's span");
        Assert.True(Contains(traces, "/kms/xks/v1/keys/" + node.Info.KeyId + "/decrypt"), "the decrypt call's span");
        Assert.True(Contains(traces, "KeyNotFoundException"), "the refused call's span names its XKS outcome");
        Assert.True(Contains(traces, "coffer.xks.operation"), "XKS spans carry the operation");
        Assert.True(Contains(traces, "/api/v1/tokens"), "the management call's span");
        Assert.True(Contains(traces, "/api/v1/keystores"), "the auditor's call's span");
        Assert.True(Contains(receiver.Bodies("metrics"), "operation") && Contains(receiver.Bodies("metrics"), "success"), "the histogram's attributes");

        // Nothing secret, in any encoding a span or metric could carry it.
        var everything = receiver.All;
        foreach (var secret in new[]
        {
            node.Info.AdminToken, createdToken, node.Info.SecretAccessKey, "PLAINTEXT-MARKER-7f3a9c", "AAD-MARKER-51d2e8",
            Convert.ToBase64String(plaintext), Convert.ToBase64String(aad), "Signature=", "Bearer ",
        })
        {
            Assert.False(Contains([everything], secret), $"'{secret}' was exported");
        }
    }

    [Theory]
    [InlineData("not a url", "http/protobuf", 60, "Telemetry:Otlp:Endpoint must be the collector's http or https URL")]
    [InlineData("ftp://collector:4318", "http/protobuf", 60, "Telemetry:Otlp:Endpoint must be the collector's http or https URL")]
    [InlineData("http://user:pass@collector:4318", "http/protobuf", 60, "Telemetry:Otlp:Endpoint must be the collector's http or https URL")]
    [InlineData("http://collector:4318", "http/json", 60, "Telemetry:Otlp:Protocol must be 'http/protobuf' or 'grpc', not 'http/json'.")]
    [InlineData("http://collector:4318", "grpc", 0, "Telemetry:Otlp:ExportIntervalSeconds must be 1..3600, not 0.")]
    public async Task A_bad_OTLP_setting_stops_the_start_and_names_itself(string endpoint, string protocol, int interval, string problem)
    {
        var e = await Assert.ThrowsAsync<OptionsValidationException>(() => DevServer.StartAsync(o =>
            o.Telemetry.Otlp = new OtlpOptions { Endpoint = endpoint, Protocol = protocol, ExportIntervalSeconds = interval }));
        Assert.Contains(e.Failures, f => f.StartsWith(problem, StringComparison.Ordinal));
        Assert.DoesNotContain(e.Failures, f => f.Contains("pass@", StringComparison.Ordinal) && !f.Contains("Endpoint", StringComparison.Ordinal));
    }

    private static bool Contains(IEnumerable<byte[]> bodies, string text)
    {
        var needle = Encoding.UTF8.GetBytes(text);
        return bodies.Any(body => body.AsSpan().IndexOf(needle) >= 0);
    }
}
