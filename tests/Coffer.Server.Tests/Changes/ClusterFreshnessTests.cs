using Coffer.Server.Changes;
using Microsoft.Extensions.Time.Testing;

namespace Coffer.Server.Tests.Changes;

/// <summary>When a node may trust its caches (src/Coffer.Server/Changes/ClusterFreshness.cs), on a
/// clock the test moves.</summary>
public sealed class ClusterFreshnessTests
{
    private readonly FakeTimeProvider _clock = new();

    [Fact]
    public void A_single_node_is_always_current() => Assert.True(ClusterFreshness.Always.IsCurrent);

    [Fact]
    public void A_node_on_a_shared_database_is_not_current_until_confirmed()
    {
        var freshness = ClusterFreshness.Bounded(TimeSpan.FromSeconds(5), _clock);

        Assert.False(freshness.IsCurrent);
    }

    [Fact]
    public void A_confirmation_holds_for_the_bound_counted_from_when_its_round_trip_began()
    {
        var freshness = ClusterFreshness.Bounded(TimeSpan.FromSeconds(5), _clock);
        var sent = _clock.GetTimestamp();
        _clock.Advance(TimeSpan.FromSeconds(1));

        freshness.Confirm(sent);

        _clock.Advance(TimeSpan.FromSeconds(3.9));
        Assert.True(freshness.IsCurrent);
        _clock.Advance(TimeSpan.FromSeconds(0.1));
        Assert.False(freshness.IsCurrent);
    }

    [Fact]
    public void A_lost_connection_ends_freshness_at_once()
    {
        var freshness = ClusterFreshness.Bounded(TimeSpan.FromSeconds(5), _clock);
        freshness.Confirm(_clock.GetTimestamp());

        freshness.Lose();

        Assert.False(freshness.IsCurrent);
    }
}
