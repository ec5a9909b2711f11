using Coffer.Auth;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task A_console_session_is_found_by_its_hash_touched_forward_only_and_deleted()
    {
        await SystemRepository.AddTokenAsync(NewToken("tok-console", 0x31));
        var hash = Enumerable.Repeat((byte)0x42, 32).ToArray();
        var session = new ConsoleSession(hash, "tok-console", T0, T0, T0.AddHours(8));
        await Store.ConsoleSessions.AddAsync(session);

        var found = await Store.ConsoleSessions.FindAsync(hash);
        Assert.NotNull(found);
        Assert.Equal(("tok-console", T0, T0, T0.AddHours(8)), (found.TokenId, found.CreatedAt, found.LastSeenAt, found.ExpiresAt));
        Assert.Equal(hash, found.Hash);
        Assert.Null(await Store.ConsoleSessions.FindAsync(Enumerable.Repeat((byte)0x43, 32).ToArray()));
        Assert.Equal(await SystemRepository.GetTokenAsync("tok-console"), await SystemRepository.FindTokenByHashAsync(Enumerable.Repeat((byte)0x31, 32).ToArray()), TokenComparer);

        await Store.ConsoleSessions.TouchAsync(hash, T0.AddMinutes(5));
        await Store.ConsoleSessions.TouchAsync(hash, T0.AddMinutes(2)); // a late writer never moves it back
        Assert.Equal(T0.AddMinutes(5), (await Store.ConsoleSessions.FindAsync(hash))!.LastSeenAt);

        Assert.True(await Store.ConsoleSessions.DeleteAsync(hash));
        Assert.False(await Store.ConsoleSessions.DeleteAsync(hash));
        Assert.Null(await Store.ConsoleSessions.FindAsync(hash));
    }

    [Fact]
    public async Task Ended_console_sessions_are_deleted_and_live_ones_kept()
    {
        await SystemRepository.AddTokenAsync(NewToken("tok-console", 0x31));
        var live = new ConsoleSession([.. Enumerable.Repeat((byte)1, 32)], "tok-console", T0, T0.AddMinutes(50), T0.AddHours(8));
        var idle = new ConsoleSession([.. Enumerable.Repeat((byte)2, 32)], "tok-console", T0, T0.AddMinutes(10), T0.AddHours(8));
        var expired = new ConsoleSession([.. Enumerable.Repeat((byte)3, 32)], "tok-console", T0, T0.AddMinutes(55), T0.AddMinutes(59));
        foreach (var session in new[] { live, idle, expired })
        {
            await Store.ConsoleSessions.AddAsync(session);
        }

        var now = T0.AddHours(1);
        Assert.Equal(2, await Store.ConsoleSessions.DeleteEndedAsync(now, idleBefore: now.AddMinutes(-15)));

        Assert.NotNull(await Store.ConsoleSessions.FindAsync(live.Hash));
        Assert.Null(await Store.ConsoleSessions.FindAsync(idle.Hash));
        Assert.Null(await Store.ConsoleSessions.FindAsync(expired.Hash));
    }

    [Fact]
    public async Task A_console_session_of_an_identity_provider_login_keeps_its_subject_name_and_groups_and_no_token()
    {
        var hash = Enumerable.Repeat((byte)0x44, 32).ToArray();
        var login = new ConsoleOidcLogin("sub-1", "Dana", ["kms-admins", "team-payments"]);
        await Store.ConsoleSessions.AddAsync(new ConsoleSession(hash, null, T0, T0, T0.AddHours(1), login));

        var found = await Store.ConsoleSessions.FindAsync(hash);

        Assert.NotNull(found);
        Assert.Null(found.TokenId);
        Assert.Equal(("sub-1", "Dana"), (found.Oidc?.Subject, found.Oidc?.Name));
        Assert.Equal(["kms-admins", "team-payments"], found.Oidc!.Groups);
        Assert.Equal(T0.AddHours(1), found.ExpiresAt);
    }

    private static readonly IEqualityComparer<ApiToken?> TokenComparer =
        EqualityComparer<ApiToken?>.Create((a, b) => a?.Id == b?.Id && a?.Name == b?.Name && a?.Role == b?.Role, t => t?.Id.GetHashCode(StringComparison.Ordinal) ?? 0);
}
