using Coffer.Server.Management.Oidc;

namespace Coffer.Server.Tests.Management;

/// <summary>The memory of accepted identity-provider tokens behind "one auth.login record per token".</summary>
public sealed class OidcSeenTokensTests
{
    private static readonly DateTimeOffset Now = new(2026, 11, 28, 9, 0, 0, TimeSpan.Zero);

    [Fact]
    public void A_token_is_new_once_until_it_expires_or_is_forgotten()
    {
        var seen = new OidcSeenTokens();

        Assert.True(seen.TryRemember("a.b.c", Now.AddMinutes(5), Now));
        Assert.False(seen.TryRemember("a.b.c", Now.AddMinutes(5), Now.AddMinutes(4)));
        Assert.True(seen.TryRemember("a.b.d", Now.AddMinutes(5), Now));
        Assert.True(seen.TryRemember("a.b.c", Now.AddMinutes(15), Now.AddMinutes(5)));

        seen.Forget("a.b.c");
        Assert.True(seen.TryRemember("a.b.c", Now.AddMinutes(15), Now.AddMinutes(6)));
    }

    [Fact]
    public void Memory_is_bounded_expired_tokens_make_room_and_a_full_memory_records_again()
    {
        var seen = new OidcSeenTokens();
        for (var i = 0; i < OidcSeenTokens.Capacity; i++)
        {
            Assert.True(seen.TryRemember("old-" + i, Now.AddMinutes(1), Now));
        }

        // Full of live tokens: a new one is not remembered, so each use is a login record again.
        Assert.True(seen.TryRemember("extra", Now.AddMinutes(10), Now));
        Assert.True(seen.TryRemember("extra", Now.AddMinutes(10), Now));
        Assert.Equal(OidcSeenTokens.Capacity, seen.Count);

        // Once the old ones expired they are dropped to make room.
        Assert.True(seen.TryRemember("extra", Now.AddMinutes(10), Now.AddMinutes(2)));
        Assert.False(seen.TryRemember("extra", Now.AddMinutes(10), Now.AddMinutes(3)));
        Assert.Equal(1, seen.Count);
    }
}
