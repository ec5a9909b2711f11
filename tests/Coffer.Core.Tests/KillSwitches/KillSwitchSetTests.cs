using Coffer.KillSwitches;
using Coffer.Policies;

namespace Coffer.Core.Tests.KillSwitches;

/// <summary>The kill switch matcher, scope by scope: each blocks exactly what it names.</summary>
public sealed class KillSwitchSetTests
{
    private static readonly KillSwitchCall Call = new(
        "ks_store", "key_one", "eu-west-1", "123456789012", "arn:aws:iam::210987654321:role/app", "vpc-1", "vpce-1");

    [Theory]
    [InlineData(KillSwitchScope.All, null, true)]
    [InlineData(KillSwitchScope.KeyStore, "ks_store", true)]
    [InlineData(KillSwitchScope.KeyStore, "ks_other", false)]
    [InlineData(KillSwitchScope.Key, "key_one", true)]
    [InlineData(KillSwitchScope.Key, "key_two", false)]
    [InlineData(KillSwitchScope.Region, "eu-west-1", true)]
    [InlineData(KillSwitchScope.Region, "us-east-1", false)]
    [InlineData(KillSwitchScope.Account, "123456789012", true)]   // the KMS key's account
    [InlineData(KillSwitchScope.Account, "210987654321", true)]   // the principal's account
    [InlineData(KillSwitchScope.Account, "999999999999", false)]
    [InlineData(KillSwitchScope.Principal, "arn:aws:iam::210987654321:role/app", true)]
    [InlineData(KillSwitchScope.Principal, "arn:aws:iam::210987654321:role/other", false)]
    [InlineData(KillSwitchScope.Vpc, "vpc-1", true)]
    [InlineData(KillSwitchScope.Vpc, "vpc-2", false)]
    [InlineData(KillSwitchScope.Vpce, "vpce-1", true)]
    [InlineData(KillSwitchScope.Vpce, "vpce-2", false)]
    public void Engaged_switch_matches_exactly_what_it_names(KillSwitchScope scope, string? value, bool blocks)
    {
        var set = new KillSwitchSet([Switch("kill_a", scope, value)]);

        Assert.Equal(blocks ? "kill_a" : null, set.Match(Call)?.Id);
    }

    [Theory]
    [InlineData("eu-central-1", true)]
    [InlineData("eu-west-1", true)]
    [InlineData("us-east-1", false)]
    [InlineData(null, false)]
    public void Region_switch_naming_a_region_set_covers_every_region_of_the_set(string? region, bool blocks)
    {
        var sets = new Dictionary<string, IReadOnlyList<string>> { ["eea"] = ["eu-central-1", "eu-west-1"] };
        var set = new KillSwitchSet([Switch("kill_eea", KillSwitchScope.Region, "eea")], sets);

        Assert.Equal(blocks, set.Match(Call with { Region = region }) is not null);
    }

    [Fact]
    public void Released_switches_block_nothing_and_the_empty_set_matches_nothing()
    {
        var released = Switch("kill_a", KillSwitchScope.All, null) with { ReleasedAt = DateTimeOffset.UnixEpoch, ReleasedBy = "tok_x" };

        Assert.Null(new KillSwitchSet([released]).Match(Call));
        Assert.Null(KillSwitchSet.Empty.Match(Call));
        Assert.Empty(new KillSwitchSet([released]).Engaged);
    }

    [Fact]
    public void Calls_without_metadata_are_not_matched_by_metadata_scopes_but_are_by_ids()
    {
        var bare = new KillSwitchCall("ks_store", "key_one", null, null, null, null, null);
        var set = new KillSwitchSet([Switch("kill_r", KillSwitchScope.Region, "eu-west-1"), Switch("kill_p", KillSwitchScope.Principal, "arn:aws:iam::1:x")]);

        Assert.Null(set.Match(bare));
        Assert.Equal("kill_k", new KillSwitchSet([Switch("kill_k", KillSwitchScope.Key, "key_one")]).Match(bare)?.Id);
    }

    [Theory]
    [InlineData("arn:aws:iam::210987654321:role/*", "arn:aws:iam::210987654321:role/app-x", true)]
    [InlineData("arn:aws:iam::210987654321:role/*", "arn:aws:iam::111122223333:role/app-x", false)]
    [InlineData("arn:aws:iam::210987654321:role/app-*", "arn:aws:iam::210987654321:role/other", false)]
    [InlineData("arn:aws:sts::*:assumed-role/admin/*", "arn:aws:sts::210987654321:assumed-role/admin/alice", true)]
    [InlineData("arn:aws:iam::210987654321:role/app", "arn:aws:iam::210987654321:role/app-x", false)]
    public void Principal_switch_matches_like_an_access_rule_with_wildcards(string value, string principal, bool blocks)
    {
        var set = new KillSwitchSet([Switch("kill_p", KillSwitchScope.Principal, value)]);

        Assert.Equal(blocks, set.Match(Call with { PrincipalArn = principal }) is not null);
    }

    [Theory]
    [InlineData("arn:aws:iam::210987654321:role/app", true)]
    [InlineData("arn:aws:sts::210987654321:assumed-role/app/session", true)]
    [InlineData("arn:aws:iam::21098765432:role/app", false)]    // 11 digits: no account
    [InlineData("arn:aws:iam::210987654321:", false)]           // no resource: not a principal
    [InlineData("not-an-arn", false)]
    public void Account_switch_reads_the_principal_account_as_access_rules_do(string principal, bool blocks)
    {
        var set = new KillSwitchSet([Switch("kill_a", KillSwitchScope.Account, "210987654321")]);

        Assert.Equal(blocks, set.Match(Call with { KeyAccount = null, PrincipalArn = principal }) is not null);
    }

    [Theory]
    [InlineData(KillSwitchScope.Region, "eu-west-1", null)]
    [InlineData(KillSwitchScope.Region, "eusc-de-east-1", null)]
    [InlineData(KillSwitchScope.Region, "eea", null)]
    [InlineData(KillSwitchScope.Region, "eu-west-9", "'eu-west-9' is neither a known AWS region")]
    [InlineData(KillSwitchScope.Region, "EU West", "value is neither a known AWS region")]
    [InlineData(KillSwitchScope.Account, "210987654321", null)]
    [InlineData(KillSwitchScope.Account, "2109876543*", "12-digit")]
    [InlineData(KillSwitchScope.Principal, "arn:aws:iam::210987654321:role/*", null)]
    [InlineData(KillSwitchScope.Principal, "*", "principal ARN")]
    [InlineData(KillSwitchScope.Principal, "arn:aws:iam::210987654321:role/a b", "principal ARN")]
    [InlineData(KillSwitchScope.All, null, null)]
    [InlineData(KillSwitchScope.Key, null, "needs a value")]
    public void Values_are_checked_against_what_their_scope_names(KillSwitchScope scope, string? value, string? problem)
    {
        var found = KillSwitchScopes.ValueProblem(scope, value, name => name == "eea");

        if (problem is null)
        {
            Assert.Null(found);
        }
        else
        {
            Assert.Contains(problem, found, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Every_region_of_the_built_in_sets_is_a_known_region() =>
        Assert.All(RegionSets.BuiltIn.Values.SelectMany(regions => regions), region => Assert.True(AwsRegions.IsKnown(region), region));

    [Theory]
    [InlineData("all", KillSwitchScope.All)]
    [InlineData("keystore", KillSwitchScope.KeyStore)]
    [InlineData("vpce", KillSwitchScope.Vpce)]
    public void Scope_names_round_trip(string text, KillSwitchScope scope)
    {
        Assert.True(KillSwitchScopes.TryParse(text, out var parsed));
        Assert.Equal(scope, parsed);
        Assert.Equal(text, KillSwitchScopes.ToText(scope));
        Assert.False(KillSwitchScopes.TryParse("KeyStore", out _));
    }

    private static KillSwitch Switch(string id, KillSwitchScope scope, string? value) =>
        new(id, scope, value, "test", "tok_test", DateTimeOffset.UnixEpoch);
}
