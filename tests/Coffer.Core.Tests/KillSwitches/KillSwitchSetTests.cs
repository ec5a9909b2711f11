using Coffer.KillSwitches;

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
    [InlineData("arn:aws:iam::210987654321:role/app", "210987654321")]
    [InlineData("arn:aws:sts::210987654321:assumed-role/app/session", "210987654321")]
    [InlineData("arn:aws:iam::21098765432:role/app", null)]
    [InlineData("not-an-arn", null)]
    [InlineData("arn:aws:iam", null)]
    public void Principal_account_is_read_from_well_formed_ARNs_only(string arn, string? account) =>
        Assert.Equal(account, KillSwitchSet.PrincipalAccount(arn));

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
