using Coffer.Audit;

namespace Coffer.Core.Tests.Audit;

public sealed class AuditReportTests
{
    private static readonly DateTimeOffset From = new(2026, 4, 1, 0, 0, 0, TimeSpan.Zero);
    private static readonly DateTimeOffset To = From.AddDays(1);

    private static AuditEvent Call(string action, string? region, AuditOutcome outcome = AuditOutcome.Ok, string key = "key_a", string? reason = null) =>
        new AuditEvent
        {
            Action = action,
            Outcome = outcome,
            KeyStore = "tenant-a",
            KeyId = key,
            ActorKind = AuditActorKinds.Xks,
            ActorId = "AKID",
            AwsPrincipalArn = "arn:aws:iam::111122223333:role/app",
            Reason = reason,
            ErrorName = outcome == AuditOutcome.Denied ? "AccessDeniedException" : null,
        }.WithKmsKeyArn(region is null ? null : $"arn:aws:kms:{region}:111122223333:key/k");

    private static AuditReport Build(IReadOnlyList<string>? allowed, params (AuditEvent Event, DateTimeOffset Time)[] events)
    {
        var builder = new AuditReportBuilder(From, To, allowed);
        var prev = AuditRecord.GenesisHash.ToArray();
        for (var i = 0; i < events.Length; i++)
        {
            var record = AuditRecord.Create(events[i].Event, i + 1, events[i].Time, "n", prev);
            builder.Add(record);
            prev = record.Hash;
        }

        return builder.Build(To, "verified", new AuditReportArchives("No records are archived.", []),
            new AuditReportNames(new Dictionary<string, string> { ["tenant-a"] = "Tenant A" }, new Dictionary<string, string> { ["key_a"] = "alpha" }));
    }

    [Fact]
    public void Requests_refused_before_authentication_are_counted_by_their_tally_and_are_no_calls()
    {
        var tally = new AuditEvent
        {
            Action = AuditActions.XksUnauthenticated,
            Outcome = AuditOutcome.Denied,
            ErrorName = "AuthenticationFailedException",
            ActorKind = AuditActorKinds.Anonymous,
            KeyStore = "tenant-a",
            SourceIp = "192.0.2.7",
            Details = UnauthenticatedTally.Details(40, From.AddHours(1), From.AddHours(1).AddSeconds(59), ["POST /demo/kms/xks/v1/keys/k/encrypt"]),
        };

        var report = Build(["eu-west-1"], (tally, From.AddHours(1).AddMinutes(1)), (tally, From.AddHours(2)), (Call("xks.encrypt", "eu-west-1"), From.AddHours(3)));

        Assert.Equal(80, report.UnauthenticatedRequests);
        Assert.Equal(new AuditCallCounts(1, 0, 0), report.XksCalls);
        Assert.Equal(AuditCallCounts.None, report.CallsWithoutRegion);
        Assert.Equal("No use came from outside the allowed regions (eu-west-1).", report.RegionStatement);
        Assert.Contains("80 XKS requests refused before authentication.", AuditReportMarkdown.Render(report), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("count=40 first=x", 40)]
    [InlineData("count=7", 7)]
    [InlineData("count=0 first=x", 1)]
    [InlineData("count=-3 first=x", 1)]
    [InlineData("samples: count=9", 1)]
    [InlineData(null, 1)]
    public void A_tally_stands_for_its_count_or_for_one_request(string? details, long requests) =>
        Assert.Equal(requests, UnauthenticatedTally.CountOf(details));

    [Fact]
    public void Counts_each_keys_calls_by_region_account_principal_and_operation_with_denials_by_rule()
    {
        var at = From.AddHours(1);
        var report = Build(null,
            (Call("xks.encrypt", "eu-west-1"), at), (Call("xks.encrypt", "eu-west-1"), at), (Call("xks.decrypt", "eu-central-1"), at),
            (Call("xks.decrypt", "us-east-1", AuditOutcome.Denied, reason: "rule eea-only"), at),
            (Call("xks.encrypt", "eu-west-1", key: "key_b"), at));

        var a = report.Keys.Single(k => k.KeyId == "key_a");
        Assert.Equal(new AuditCallCounts(3, 1, 0), a.Calls);
        Assert.Equal(("alpha", "tenant-a", "Tenant A"), (a.KeyName, a.KeyStoreId, a.KeyStoreName));
        Assert.Equal(new AuditCallCounts(2, 0, 0), a.ByOperation["xks.encrypt"]);
        Assert.Equal(new AuditCallCounts(1, 1, 0), a.ByOperation["xks.decrypt"]);
        Assert.Equal(new AuditCallCounts(2, 0, 0), a.ByRegion["eu-west-1"]);
        Assert.Equal(new AuditCallCounts(0, 1, 0), a.ByRegion["us-east-1"]);
        Assert.Equal(new AuditCallCounts(3, 1, 0), a.ByAccount["111122223333"]);
        Assert.Equal(new AuditCallCounts(3, 1, 0), a.ByPrincipal["arn:aws:iam::111122223333:role/app"]);
        Assert.Equal(1, a.Denials["rule eea-only"]);
        var b = report.Keys.Single(k => k.KeyId == "key_b");
        Assert.Equal((new AuditCallCounts(1, 0, 0), null), (b.Calls, b.KeyName)); // a key Coffer has no name for keeps its id
        Assert.Equal(new AuditCallCounts(4, 1, 0), report.XksCalls);
        Assert.StartsWith("No allowed-region list was given. Calls came from: eu-central-1 (1 served, 0 refused), eu-west-1 (3 served, 0 refused), us-east-1 (0 served, 1 refused).",
            report.RegionStatement, StringComparison.Ordinal);
    }

    [Fact]
    public void States_plainly_whether_any_use_came_from_outside_the_allowed_regions()
    {
        var at = From.AddHours(2);
        var inside = Build(["eu-west-1", "eu-central-1"], (Call("xks.encrypt", "eu-west-1"), at), (Call("xks.decrypt", "eu-central-1"), at));
        var outside = Build(["eu-west-1"], (Call("xks.encrypt", "eu-west-1"), at), (Call("xks.decrypt", "us-east-1"), at), (Call("xks.decrypt", "us-east-1"), at));
        var unplaced = Build(["eu-west-1"], (Call("xks.encrypt", null), at));

        Assert.Equal("No use came from outside the allowed regions (eu-central-1, eu-west-1).", inside.RegionStatement);
        Assert.Equal(AuditCallCounts.None, inside.CallsOutsideAllowedRegions);
        Assert.Equal("2 calls came from outside the allowed regions (eu-west-1): 2 served, 0 refused. By region: us-east-1 (2 served, 0 refused).", outside.RegionStatement);
        Assert.Equal(new AuditCallCounts(2, 0, 0), outside.CallsOutsideAllowedRegions);
        Assert.Contains("1 calls named no region (no valid kmsKeyArn), so they cannot be placed: 1 served, 0 refused.", unplaced.RegionStatement, StringComparison.Ordinal);
        Assert.Equal(1, unplaced.CallsWithoutRegion.Calls);
    }

    [Fact]
    public void Calls_from_outside_the_allowed_regions_are_split_into_served_refused_and_failed()
    {
        var at = From.AddHours(2);
        var report = Build(["eu-west-1"],
            (Call("xks.encrypt", "us-east-1"), at), (Call("xks.decrypt", "us-east-1"), at),
            (Call("xks.decrypt", "us-east-1", AuditOutcome.Denied, reason: "rule eea-only"), at),
            (Call("xks.decrypt", "ap-south-1", AuditOutcome.Denied, reason: "kill-switch=ks_1"), at),
            (Call("xks.encrypt", "ap-south-1", AuditOutcome.Denied, reason: "rule eea-only"), at),
            (Call("xks.decrypt", "us-east-1", AuditOutcome.Error), at),
            (Call("xks.encrypt", "eu-west-1"), at));

        Assert.Equal(new AuditCallCounts(2, 3, 1), report.CallsOutsideAllowedRegions);
        Assert.Equal(6, report.CallsOutsideAllowedRegions.Calls);
        Assert.Equal("6 calls came from outside the allowed regions (eu-west-1): 2 served, 3 refused, 1 failed. By region: ap-south-1 (0 served, 2 refused), us-east-1 (2 served, 1 refused, 1 failed).",
            report.RegionStatement);
        Assert.Equal(new AuditCallCounts(2, 1, 1), report.CallsByRegion["us-east-1"]);
        Assert.Equal(new AuditCallCounts(1, 0, 0), report.CallsByRegion["eu-west-1"]);
        var a = Assert.Single(report.Keys);
        Assert.Equal(new AuditCallCounts(3, 3, 1), a.Calls);
        Assert.Equal((2L, 1L), (a.Denials["rule eea-only"], a.Denials["kill-switch=ks_1"]));
    }

    [Fact]
    public void Lists_changes_with_who_made_them_and_leaves_out_requests_failed_logins_and_other_periods()
    {
        var at = From.AddHours(3);
        var report = Build(null,
            (new AuditEvent { Action = "key.disable", Outcome = AuditOutcome.Requested, ActorKind = "token", ActorId = "tok_1", KeyId = "key_a" }, at),
            (new AuditEvent { Action = "key.disable", ActorKind = "token", ActorId = "tok_1", KeyId = "key_a", Details = "-> 200" }, at),
            (new AuditEvent { Action = "auth.failed", Outcome = AuditOutcome.Denied, ActorKind = "anonymous" }, at),
            (new AuditEvent { Action = "key.enable", ActorKind = "token", ActorId = "tok_2", KeyId = "key_a" }, To),
            (Call("xks.encrypt", "eu-west-1"), From.AddSeconds(-1)));

        var change = Assert.Single(report.Changes);
        Assert.Equal(("key.disable", "ok", "tok_1", "key_a"), (change.Action, change.Outcome, change.Actor, change.KeyId));
        Assert.Equal(1, report.FailedLogins);
        Assert.Equal(3, report.Records);
        Assert.Empty(report.Keys);
    }

    [Fact]
    public void Markdown_leads_with_the_region_statement_and_escapes_caller_values()
    {
        var at = From.AddHours(1);
        var evil = Call("xks.encrypt", "eu-west-1") with { AwsPrincipalArn = "arn|x\n# heading" };
        var report = Build(["eu-west-1"], (evil, at));

        var md = AuditReportMarkdown.Render(report);

        Assert.Contains("**Regions:** No use came from outside the allowed regions (eu-west-1).", md, StringComparison.Ordinal);
        Assert.Contains("### Key alpha (id key\\_a) in key store Tenant A (id tenant-a)", md, StringComparison.Ordinal);
        Assert.Contains("| arn\\|x \\# heading | 1 | 0 | 0 |", md, StringComparison.Ordinal);
        Assert.DoesNotContain("\n# heading", md, StringComparison.Ordinal);
    }
}
