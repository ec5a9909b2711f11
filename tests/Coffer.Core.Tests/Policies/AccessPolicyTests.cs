using System.Net;
using System.Text.Json;
using Coffer.Policies;

namespace Coffer.Core.Tests.Policies;

/// <summary>The rule engine, table by table: each case is one rule document, one request and the
/// expected decision with the rule that made it.</summary>
public sealed class AccessPolicyTests
{
    private const string Principal = "arn:aws:iam::111122223333:role/app";
    private const string KeyArn = "arn:aws:kms:eu-central-1:444455556666:key/1234abcd-12ab-34cd-56ef-1234567890ab";
    private static readonly DateTimeOffset Now = new(2026, 6, 1, 12, 0, 0, TimeSpan.Zero);

    private static readonly Dictionary<string, string[]> UserSets = new(StringComparer.Ordinal)
    {
        ["frankfurt-only"] = ["eu-central-1"],
    };

    private static AccessRequest Request(
        AccessOperation operation = AccessOperation.Encrypt,
        string? principal = Principal,
        string? keyArn = KeyArn,
        string? kmsOperation = "GenerateDataKey",
        string? signingRegion = "eu-central-1",
        string? via = null,
        string? vpc = null,
        string? vpce = null,
        string? ip = "192.0.2.10",
        DateTimeOffset? now = null) => new()
        {
            Operation = operation,
            AwsPrincipalArn = principal,
            KmsKeyArn = keyArn,
            KmsOperation = kmsOperation,
            SigningRegion = signingRegion,
            KmsViaService = via,
            AwsSourceVpc = vpc,
            AwsSourceVpce = vpce,
            SourceIp = ip is null ? null : IPAddress.Parse(ip),
            Now = now ?? Now,
        };

    /// <summary>Compiles <paramref name="json"/> (single quotes for readability) or fails the test.</summary>
    internal static AccessRuleSet Compile(string json)
    {
        var document = JsonSerializer.Deserialize(json.Replace('\'', '"'), AccessPolicyJson.Default.AccessPolicyDocument)!;
        Assert.True(AccessPolicyCompiler.TryCompile(document, Sets, out var rules, out var error), error?.ToString());
        return rules;
    }

    internal static IReadOnlyList<string>? Sets(string name) =>
        RegionSets.BuiltIn.GetValueOrDefault(name) ?? (UserSets.TryGetValue(name, out var set) ? set : null);

    /// <summary>One allow rule with one matcher: it allows the request iff the matcher matches.</summary>
    public static TheoryData<string, AccessRequest, bool> Matchers => new()
    {
        { "'operation':['encrypt']", Request(), true },
        { "'operation':['decrypt','metadata']", Request(), false },
        { "'operation':['metadata']", Request(AccessOperation.Metadata), true },
        { "'kmsOperation':['GenerateDataKey']", Request(), true },
        { "'kmsOperation':['Generate*']", Request(), true },
        { "'kmsOperation':['Decrypt']", Request(), false },
        { "'kmsOperation':['generatedatakey']", Request(), false },
        { "'awsPrincipalArn':['arn:aws:iam::111122223333:role/app']", Request(), true },
        { "'awsPrincipalArn':['arn:aws:iam::111122223333:role/*']", Request(), true },
        { "'awsPrincipalArn':['arn:aws:iam::*:role/app']", Request(), true },
        { "'awsPrincipalArn':['*']", Request(), true },
        { "'awsPrincipalArn':['arn:aws:iam::111122223333:role/ap']", Request(), false },
        { "'awsPrincipalArn':['arn:aws:iam::111122223333:user/*']", Request(), false },
        { "'awsPrincipalArn':['*']", Request(principal: null), false },
        { "'awsAccount':['111122223333']", Request(), true },
        { "'awsAccount':['444455556666']", Request(), false },
        { "'awsAccount':['111122223333']", Request(principal: "arn:aws:sts::111122223333:assumed-role/r/session"), true },
        { "'kmsKeyAccount':['444455556666']", Request(), true },
        { "'kmsKeyAccount':['111122223333']", Request(), false },
        { "'kmsKeyRegion':['eu-central-1']", Request(), true },
        { "'kmsKeyRegion':['eu-*']", Request(), true },
        { "'kmsKeyRegion':['us-east-1','eu-west-1']", Request(), false },
        { "'kmsKeyRegion':['frankfurt-only']", Request(), true },
        { "'kmsKeyRegion':['eea']", Request(keyArn: "arn:aws:kms:us-east-1:444455556666:key/k"), false },
        { "'kmsKeyRegion':['*']", Request(keyArn: null), false },
        { "'signingRegion':['eu-central-1']", Request(), true },
        { "'signingRegion':['eea']", Request(signingRegion: "eu-west-2"), false },
        { "'signingRegion':['eu-adequacy']", Request(signingRegion: "eu-west-2"), true },
        { "'kmsViaService':['s3.eu-central-1.amazonaws.com']", Request(via: "s3.eu-central-1.amazonaws.com"), true },
        { "'kmsViaService':['s3.*.amazonaws.com']", Request(via: "ec2.eu-central-1.amazonaws.com"), false },
        { "'kmsViaService':['*']", Request(via: null), false },
        { "'awsSourceVpc':['vpc-0123']", Request(vpc: "vpc-0123"), true },
        { "'awsSourceVpc':['vpc-0123']", Request(vpc: "vpc-9999"), false },
        { "'awsSourceVpce':['vpce-*']", Request(vpce: "vpce-0abc"), true },
        { "'awsSourceVpce':['vpce-*']", Request(vpce: null), false },
        { "'sourceIp':['192.0.2.0/24']", Request(), true },
        { "'sourceIp':['192.0.2.10']", Request(), true },
        { "'sourceIp':['198.51.100.0/24','10.0.0.0/8']", Request(), false },
        { "'sourceIp':['2001:db8::/32']", Request(ip: "2001:db8:1::5"), true },
        { "'sourceIp':['2001:db8::/32']", Request(ip: "2001:db9::5"), false },
        { "'sourceIp':['192.0.2.0/24']", Request(ip: "::ffff:192.0.2.77"), true },
        { "'sourceIp':['2001:db8::/32']", Request(ip: "192.0.2.10"), false },
        { "'sourceIp':['0.0.0.0/0']", Request(ip: null), false },
        { "'notBefore':'2026-06-01T12:00:00Z'", Request(), true },
        { "'notBefore':'2026-06-01T12:00:01Z'", Request(), false },
        { "'notAfter':'2026-06-01T12:00:01Z'", Request(), true },
        { "'notAfter':'2026-06-01T12:00:00Z'", Request(), false },
        { "'notBefore':'2026-01-01T00:00:00Z','notAfter':'2027-01-01T00:00:00Z'", Request(now: Now.AddYears(1)), false },
    };

    [Theory]
    [MemberData(nameof(Matchers))]
    public void An_allow_rule_allows_exactly_what_its_matcher_matches(string matcher, AccessRequest request, bool allowed)
    {
        var rules = Compile($"{{'rules':[{{'name':'only','effect':'allow',{matcher}}}]}}");

        var decision = AccessPolicy.Decide(rules, null, request);

        Assert.Equal(allowed, decision.Allowed);
        Assert.Equal(allowed ? "rule=only" : AccessDecision.NoRuleAllowed, decision.Reason);
    }

    [Fact]
    public void No_rules_at_all_allow_everything_without_naming_a_rule()
    {
        var decision = AccessPolicy.Decide(null, AccessRuleSet.Empty, Request());

        Assert.True(decision.Allowed);
        Assert.Null(decision.Rule);
        Assert.Null(decision.Reason);
    }

    [Fact]
    public void Deny_wins_over_an_earlier_allow()
    {
        var rules = Compile("{'rules':[{'name':'all','effect':'allow'},{'name':'deny-us','effect':'deny','kmsKeyRegion':['us-*']}]}");

        var denied = AccessPolicy.Decide(rules, null, Request(keyArn: "arn:aws:kms:us-east-1:444455556666:key/k"));
        var allowed = AccessPolicy.Decide(rules, null, Request());

        Assert.False(denied.Allowed);
        Assert.Equal("rule=deny-us", denied.Reason);
        Assert.True(allowed.Allowed);
        Assert.Equal("rule=all", allowed.Reason);
    }

    [Fact]
    public void A_key_store_deny_wins_over_a_key_allow_and_a_key_deny_over_a_key_store_allow()
    {
        var storeDeny = Compile("{'rules':[{'name':'store-deny','effect':'deny','operation':['decrypt']}]}");
        var keyAllow = Compile("{'rules':[{'name':'key-allow','effect':'allow'}]}");
        var storeAllow = Compile("{'rules':[{'name':'store-allow','effect':'allow'}]}");
        var keyDeny = Compile("{'rules':[{'name':'key-deny','effect':'deny','awsAccount':['111122223333']}]}");

        Assert.Equal("rule=store-deny", AccessPolicy.Decide(storeDeny, keyAllow, Request(AccessOperation.Decrypt)).Reason);
        Assert.True(AccessPolicy.Decide(storeDeny, keyAllow, Request(AccessOperation.Encrypt)).Allowed);
        var decision = AccessPolicy.Decide(storeAllow, keyDeny, Request());
        Assert.False(decision.Allowed);
        Assert.Equal("rule=key-deny", decision.Reason);
    }

    [Fact]
    public void With_rules_present_what_no_rule_allows_is_denied()
    {
        var rules = Compile("{'rules':[{'name':'deny-us','effect':'deny','kmsKeyRegion':['us-*']}]}");

        var decision = AccessPolicy.Decide(null, rules, Request());

        Assert.False(decision.Allowed);
        Assert.Null(decision.Rule);
        Assert.Equal("no rule allowed", decision.Reason);
    }

    [Fact]
    public void All_matchers_of_a_rule_must_match()
    {
        var rules = Compile("{'rules':[{'name':'eea-encrypt','effect':'allow','operation':['encrypt'],'kmsKeyRegion':['eea']}]}");

        Assert.True(AccessPolicy.Decide(rules, null, Request()).Allowed);
        Assert.False(AccessPolicy.Decide(rules, null, Request(AccessOperation.Decrypt)).Allowed);
        Assert.False(AccessPolicy.Decide(rules, null, Request(keyArn: "arn:aws:kms:eu-west-2:444455556666:key/k")).Allowed);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("not-an-arn")]
    [InlineData("arn:aws:kms")]
    [InlineData("arn:aws:kms:eu-central-1:444455556666")]
    [InlineData("arn:aws:kms:eu-central-1:44445555666:key/k")]
    [InlineData("arn:aws:kms:eu-central-1:444455556666:alias/k")]
    [InlineData("arn:aws:s3:eu-central-1:444455556666:key/k")]
    [InlineData("arn:aws:kms:EU-CENTRAL-1:444455556666:key/k")]
    [InlineData("arn::kms:eu-central-1:444455556666:key/k")]
    [InlineData("arn:aws:kms::444455556666:key/k")]
    public void A_malformed_key_ARN_matches_no_region_or_account_matcher_and_is_denied(string? keyArn)
    {
        var rules = Compile("{'rules':[{'name':'eea','effect':'allow','kmsKeyRegion':['eea','*']},{'name':'acct','effect':'allow','kmsKeyAccount':['444455556666']}]}");

        var decision = AccessPolicy.Decide(rules, null, Request(keyArn: keyArn));

        Assert.False(decision.Allowed);
        Assert.Equal(AccessDecision.NoRuleAllowed, decision.Reason);
    }

    [Theory]
    [InlineData("arn:aws:iam::11112222333:role/app")]
    [InlineData("arn:aws:iam::111122223333")]
    [InlineData("arn:aws:iam::111122223333:")]
    [InlineData("111122223333")]
    [InlineData("arn:aws:iam::1111222233334444:role/app")]
    public void A_malformed_principal_ARN_matches_no_account_matcher(string principal)
    {
        var rules = Compile("{'rules':[{'name':'acct','effect':'allow','awsAccount':['111122223333']}]}");

        Assert.False(AccessPolicy.Decide(rules, null, Request(principal: principal)).Allowed);
    }

    [Fact]
    public void A_deny_on_region_does_not_match_a_malformed_ARN_so_the_call_is_still_denied_by_default()
    {
        // Deny rules alone never allow: the malformed ARN escapes the deny, and no rule allows it.
        var rules = Compile("{'rules':[{'name':'deny-us','effect':'deny','kmsKeyRegion':['us-*']},{'name':'eea','effect':'allow','kmsKeyRegion':['eea']}]}");

        Assert.Equal(AccessDecision.NoRuleAllowed, AccessPolicy.Decide(rules, null, Request(keyArn: "arn:aws:kms:garbage")).Reason);
    }

    [Theory]
    [InlineData("eu-central-1", true)]
    [InlineData("eu-west-1", true)]
    [InlineData("eu-west-3", true)]
    [InlineData("eu-north-1", true)]
    [InlineData("eu-south-1", true)]
    [InlineData("eu-south-2", true)]
    [InlineData("eusc-de-east-1", true)]
    [InlineData("eu-central-2", false)]
    [InlineData("eu-west-2", false)]
    [InlineData("us-east-1", false)]
    [InlineData("il-central-1", false)]
    public void The_eea_set_holds_exactly_the_regions_in_the_EEA(string region, bool inEea)
    {
        Assert.Equal(inEea, RegionSets.BuiltIn[RegionSets.Eea].Contains(region));
        var rules = Compile("{'rules':[{'name':'eea','effect':'allow','kmsKeyRegion':['eea']}]}");
        Assert.Equal(inEea, AccessPolicy.Decide(rules, null, Request(keyArn: $"arn:aws:kms:{region}:444455556666:key/k")).Allowed);
    }

    [Theory]
    [InlineData("eu-central-1", true)]
    [InlineData("eu-west-2", true)]
    [InlineData("eu-central-2", true)]
    [InlineData("il-central-1", true)]
    [InlineData("ap-northeast-1", true)]
    [InlineData("ap-northeast-2", true)]
    [InlineData("ap-northeast-3", true)]
    [InlineData("ca-central-1", true)]
    [InlineData("ca-west-1", true)]
    [InlineData("ap-southeast-6", true)]
    [InlineData("us-east-1", false)]
    [InlineData("us-west-2", false)]
    [InlineData("sa-east-1", false)]
    [InlineData("ap-southeast-2", false)]
    public void The_eu_adequacy_set_is_the_eea_plus_adequate_countries_without_the_US(string region, bool adequate)
    {
        Assert.Equal(adequate, RegionSets.BuiltIn[RegionSets.EuAdequacy].Contains(region));
        Assert.Subset(RegionSets.BuiltIn[RegionSets.EuAdequacy].ToHashSet(), RegionSets.BuiltIn[RegionSets.Eea].ToHashSet());
    }

    [Theory]
    [InlineData("'kmsKeyRegion':['eea']")]
    [InlineData("'awsAccount':['111122223333']")]
    [InlineData("'sourceIp':['192.0.2.0/24']")]
    [InlineData("'kmsKeyRegion':['eea'],'awsAccount':['111122223333'],'sourceIp':['192.0.2.0/24']")]
    public void A_decision_allocates_nothing(string matchers)
    {
        // The decision on the hot path: 100 rules that do not match, then an allow.
        var json = "{'rules':[" + string.Join(',', Enumerable.Range(0, 100).Select(i => $"{{'name':'r{i}','effect':'deny','awsSourceVpc':['vpc-{i}']}}"))
            + ",{'name':'eea','effect':'allow'," + matchers + "}]}";
        var rules = Compile(json);
        var request = Request(vpc: "vpc-other");
        for (var i = 0; i < 3; i++)
        {
            _ = AccessPolicy.Decide(rules, null, request); // warm: first calls JIT and initialise statics
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        var decision = AccessPolicy.Decide(rules, null, request);
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal("rule=eea", decision.Reason);
        Assert.Equal(0, allocated);
    }
}
