using System.Globalization;
using System.Text.RegularExpressions;
using Coffer.Audit;
using Coffer.Server.Tests.Audit;
using Coffer.Server.Tests.Management;
using Coffer.Server.Xks.Anonymous;
using Coffer.Storage;
using Coffer.Testing;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Xks;

/// <summary>
/// Anonymous traffic has a bounded cost: requests that never authenticate are counted into one audit
/// record per source, key store, outcome, error and reason per interval; a source that keeps failing is
/// throttled before any work; an over-long key id is refused at once. Authenticated calls stay one
/// durable record each. A node per test, on a fake clock shared with the signer, so an interval ends
/// when the test moves the clock. Software backend only: nothing here reaches a key.
/// </summary>
public sealed partial class AnonymousTrafficTests
{
    private const int Flood = 40;

    private static readonly DateTimeOffset Start = new(2026, 11, 28, 8, 0, 0, TimeSpan.Zero);

    private readonly FakeTimeProvider _time = new(Start);

    private Task<DevServer> StartAsync(int perSecondPerSource) =>
        DevServer.StartAsync(options => options.Xks.UnauthenticatedPerSecondPerSource = perSecondPerSource, time: _time);

    private XksClient Signed(DevServer node) => XksClient.For(node) with { SigningTime = _time.GetUtcNow() };

    private XksClient Forged(DevServer node)
    {
        var signed = Signed(node);
        return signed with { SecretAccessKey = XksAssert.Wrong(signed.SecretAccessKey) };
    }

    private static Task<XksResponse> UnknownPrefixAsync(DevServer node) =>
        XksClient.SendUnsignedAsync(HttpMethod.Post, new Uri(node.XksUrl, "/no-such-store/kms/xks/v1/keys/k/encrypt"), "{}"u8.ToArray());

    private static async Task<List<AuditRecord>> RecordsAsync(DevServer node, string? action = null) =>
        [.. (await node.Server.Seal.Storage.Audit.QueryAsync(new AuditQuery { Action = action, Limit = 10_000 })).Records];

    /// <summary>Ends the interval; returns the unauthenticated records once <paramref name="expected"/> are
    /// written (or what there is after 10 s).</summary>
    private async Task<List<AuditRecord>> EndIntervalAsync(DevServer node, int expected)
    {
        _time.Advance(AnonymousFailures.Interval);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (true)
        {
            var records = await RecordsAsync(node, AuditActions.XksUnauthenticated);
            if (records.Count >= expected || DateTime.UtcNow > deadline)
            {
                return records;
            }

            await Task.Delay(50);
        }
    }

    private static long CountOf(AuditEvent e) => long.Parse(CountPattern().Match(e.Details!).Groups[1].Value, CultureInfo.InvariantCulture);

    [GeneratedRegex("^count=([0-9]+) ")]
    private static partial Regex CountPattern();

    [Fact]
    public async Task A_flood_without_credentials_is_one_record_per_source_key_store_and_reason_with_its_count()
    {
        await using var node = await StartAsync(perSecondPerSource: 0);
        var forged = Forged(node);
        for (var i = 0; i < Flood; i++)
        {
            XksAssert.Error(await UnknownPrefixAsync(node), 404, "InvalidUriPathException");
            XksAssert.Error(await forged.GetKeyMetadataAsync(node.Info.KeyId), 401, "AuthenticationFailedException");
        }

        var records = await EndIntervalAsync(node, expected: 2);

        Assert.Equal(2, records.Count);
        var unknown = Assert.Single(records, r => r.Event.Reason == AnonymousReasons.UnknownPrefix).Event;
        Assert.Equal("InvalidUriPathException", unknown.ErrorName);
        Assert.Null(unknown.KeyStore);
        Assert.Contains("samples: POST /no-such-store/kms/xks/v1/keys/k/encrypt | POST", unknown.Details, StringComparison.Ordinal);
        var signature = Assert.Single(records, r => r.Event.ErrorName == "AuthenticationFailedException").Event;
        Assert.Equal(await node.KeyStoreIdAsync(node.Info.UriPrefix), signature.KeyStore);
        Assert.Equal("SignatureMismatch", signature.Reason);
        Assert.All(records, r =>
        {
            Assert.Equal(Flood, CountOf(r.Event));
            Assert.Equal(AuditOutcome.Error, r.Event.Outcome);
            Assert.Equal(AuditActorKinds.Anonymous, r.Event.ActorKind);
            Assert.Equal("127.0.0.1", r.Event.SourceIp);
            Assert.StartsWith($"count={Flood} first=2026-11-28T08:00:00.000Z last=2026-11-28T08:00:00.000Z samples: ", r.Event.Details, StringComparison.Ordinal);
            Assert.Equal(AnonymousFailures.MaxSamples - 1, r.Event.Details!.Split(" | ").Length - 1);
        });

        // No request was a record of its own; the counts are in the chain, listed and verified like any record.
        Assert.DoesNotContain(await RecordsAsync(node), r => r.Event.ActorKind == AuditActorKinds.Anonymous && r.Event.Action != AuditActions.XksUnauthenticated);
        var listed = await node.Admin.GetJsonAsync("/api/v1/audit/records?action=xks.unauthenticated");
        Assert.Equal(2, listed["records"]!.AsArray().Count);
        var verified = await node.Admin.VerifyAsync();
        Assert.True((bool)verified["ok"]!, verified.ToJsonString());
    }

    [Fact]
    public async Task Authenticated_calls_stay_one_durable_record_each_and_the_failures_between_them_none()
    {
        await using var node = await StartAsync(perSecondPerSource: 0);
        var xks = Signed(node);
        var forged = Forged(node);
        var ids = new[] { XksRequests.NewRequestId(), XksRequests.NewRequestId(), XksRequests.NewRequestId() };

        XksAssert.Ok(await xks.EncryptAsync(node.Info.KeyId, [1], kmsRequestId: ids[0]));
        XksAssert.Error(await forged.EncryptAsync(node.Info.KeyId, [1]), 401, "AuthenticationFailedException");
        XksAssert.Error(await xks.EncryptAsync("no-such-key", [1], kmsRequestId: ids[1]), 404, "KeyNotFoundException");
        XksAssert.Error(await UnknownPrefixAsync(node), 404, "InvalidUriPathException");
        XksAssert.Ok(await xks.GetKeyMetadataAsync(node.Info.KeyId, kmsRequestId: ids[2]));

        // Written before each answer, without waiting for the interval.
        var records = await RecordsAsync(node);
        var xksRecords = records.Where(r => r.Event.Action.StartsWith("xks.", StringComparison.Ordinal)).ToList();
        Assert.Equal(ids, xksRecords.Select(r => r.Event.KmsRequestId).Reverse());
        Assert.All(xksRecords, r => Assert.Equal(AuditActorKinds.Xks, r.Event.ActorKind));
        Assert.Equal(new[] { AuditOutcome.Ok, AuditOutcome.Error, AuditOutcome.Ok }, xksRecords.Select(r => r.Event.Outcome).Reverse());
    }

    [Fact]
    public async Task An_externalKeyId_over_128_characters_is_refused_before_authentication_and_recorded_cut()
    {
        await using var node = await StartAsync(perSecondPerSource: 0);
        var longId = new string('k', 7_900);

        XksAssert.Error(await XksClient.SendUnsignedAsync(HttpMethod.Post, Signed(node).UrlOf($"keys/{longId}/encrypt"), "{}"u8.ToArray()), 400, "ValidationException");
        XksAssert.Error(await Signed(node).EncryptAsync(longId, [1]), 400, "ValidationException");

        var record = Assert.Single(await EndIntervalAsync(node, expected: 1)).Event;
        Assert.Equal(AnonymousReasons.KeyIdTooLong, record.Reason);
        Assert.Equal("ValidationException", record.ErrorName);
        Assert.Equal(2, CountOf(record));
        Assert.Contains(new string('k', 100) + "...", record.Details, StringComparison.Ordinal);
        Assert.DoesNotContain(new string('k', AnonymousFailures.MaxSampleLength), record.Details, StringComparison.Ordinal);
        var callLines = node.Logs.Lines.Where(l => l.Contains("[2000]", StringComparison.Ordinal)).ToList();
        Assert.Contains(callLines, l => l.Contains(new string('k', 128) + "...", StringComparison.Ordinal));
        Assert.DoesNotContain(callLines, l => l.Contains(new string('k', 129), StringComparison.Ordinal));
    }

    [Fact]
    public async Task A_source_that_keeps_failing_is_throttled_at_that_key_store_until_its_allowance_refills()
    {
        await using var node = await StartAsync(perSecondPerSource: 5);
        var other = await node.CreateKeyStoreAsync("/" + Admin.Unique("other"));
        var stranger = Signed(node) with { AccessKeyId = "AKIANOSUCHCREDENTIAL" };

        var answers = new List<XksResponse>();
        for (var i = 0; i < 12; i++)
        {
            answers.Add(await stranger.GetKeyMetadataAsync(node.Info.KeyId));
        }

        Assert.All(answers.Take(5), a => XksAssert.Error(a, 401, "AuthenticationFailedException"));
        Assert.All(answers.Skip(5), a => XksAssert.Error(a, 429, "ThrottlingException"));
        // Other key stores still answer the address.
        XksAssert.Ok(await (other.Client with { SigningTime = _time.GetUtcNow() }).HealthAsync());
        _time.Advance(TimeSpan.FromSeconds(1));
        XksAssert.Error(await stranger.GetKeyMetadataAsync(node.Info.KeyId), 401, "AuthenticationFailedException");

        var records = await EndIntervalAsync(node, expected: 2);
        Assert.Equal(6, CountOf(Assert.Single(records, r => r.Event.ErrorName == "AuthenticationFailedException").Event));
        var throttled = Assert.Single(records, r => r.Event.Reason == AnonymousReasons.SourceLimit).Event;
        Assert.Equal("ThrottlingException", throttled.ErrorName);
        Assert.Equal(7, CountOf(throttled));
    }

    [Fact]
    public async Task A_source_over_its_allowance_still_gets_its_signed_calls_answered_and_its_forged_ones_slowly()
    {
        // Behind a TCP load balancer AWS KMS and a flood share one address: the flood must not lock AWS out.
        await using var node = await StartAsync(perSecondPerSource: 5);
        var stranger = Signed(node) with { AccessKeyId = "AKIANOSUCHCREDENTIAL" };
        for (var i = 0; i < 6; i++)
        {
            await stranger.GetKeyMetadataAsync(node.Info.KeyId);
        }

        XksAssert.Error(await stranger.GetKeyMetadataAsync(node.Info.KeyId), 429, "ThrottlingException");
        XksAssert.Ok(await Signed(node).GetKeyMetadataAsync(node.Info.KeyId));
        var forging = System.Diagnostics.Stopwatch.StartNew();
        XksAssert.Error(await Forged(node).GetKeyMetadataAsync(node.Info.KeyId), 401, "AuthenticationFailedException");
        Assert.True(forging.Elapsed >= SourceLimits.Pause - TimeSpan.FromMilliseconds(20), $"a forged call over the allowance was answered after {forging.Elapsed}");
    }

    [Fact]
    public async Task A_graceful_stop_writes_the_counts_of_the_unfinished_interval()
    {
        var node = await StartAsync(perSecondPerSource: 0);
        for (var i = 0; i < 3; i++)
        {
            XksAssert.Error(await UnknownPrefixAsync(node), 404, "InvalidUriPathException");
        }

        node = await node.RestartAsync();
        await using var restarted = node;
        var record = Assert.Single(await RecordsAsync(node, AuditActions.XksUnauthenticated)).Event;
        Assert.Equal(3, CountOf(record));
        Assert.Equal(AnonymousReasons.UnknownPrefix, record.Reason);
    }
}
