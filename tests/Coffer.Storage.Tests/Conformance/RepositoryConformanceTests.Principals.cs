using Coffer.Auth;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    private static Principal NewPrincipal(string id, string kind = CallerKinds.User, string? subject = null, params RoleGrant[] grants) =>
        new(id, kind, "principal " + id, subject, grants, ["custodians", "team-a"], T0, null);

    private static ApiToken OwnedToken(string id, byte fill, string owner) =>
        new(id, "token " + id, Enumerable.Repeat(fill, 32).ToArray(), null, T0, null, null, owner);

    [Fact]
    public async Task A_principal_reads_back_whole_by_id_and_by_identity_provider_subject()
    {
        var alice = NewPrincipal("usr-1", subject: "sub|alice", grants: [new RoleGrant("key-officer", "ks-1"), new RoleGrant("auditor")]);
        await Principals.AddAsync(alice);
        await Principals.AddAsync(NewPrincipal("app-1", CallerKinds.App));

        var read = await Principals.GetAsync("usr-1");
        Assert.NotNull(read);
        Assert.Equal(alice.Grants, read.Grants);
        Assert.Equal(alice.Groups, read.Groups);
        Assert.Equal("sub|alice", read.OidcSubject);
        Assert.Equal("usr-1", (await Principals.FindByOidcSubjectAsync("sub|alice"))?.Id);
        Assert.Null(await Principals.FindByOidcSubjectAsync("sub|nobody"));
        Assert.Equal(["app-1"], (await Principals.ListAsync(CallerKinds.App)).Select(p => p.Id));
        Assert.Equal(2, (await Principals.ListAsync()).Count);
        await Assert.ThrowsAsync<ConflictException>(() => Principals.AddAsync(NewPrincipal("usr-2", subject: "sub|alice")));
    }

    [Fact]
    public async Task Disabling_a_principal_revokes_its_tokens_and_is_final()
    {
        await Principals.AddAsync(NewPrincipal("usr-1", grants: new RoleGrant("auditor")));
        await SystemRepository.AddTokenAsync(OwnedToken("tok-1", 0x11, "usr-1"));

        Assert.Equal(GuardedChange.Done, await Principals.DisableAsync("usr-1", T0.AddHours(1)));
        Assert.Equal(GuardedChange.Unchanged, await Principals.DisableAsync("usr-1", T0.AddHours(2)));
        Assert.Equal(GuardedChange.Unchanged, await Principals.UpdateAsync(NewPrincipal("usr-1"), T0.AddHours(2)));
        Assert.Equal(T0.AddHours(1), (await Principals.GetAsync("usr-1"))!.DisabledAt);
        Assert.Equal(T0.AddHours(1), (await SystemRepository.ListTokensAsync()).Single().RevokedAt);
    }

    [Fact]
    public async Task The_last_way_in_as_administrator_cannot_be_revoked_disabled_or_demoted()
    {
        await Principals.AddAsync(NewPrincipal("usr-1", grants: new RoleGrant("administrator")));
        await SystemRepository.AddTokenAsync(OwnedToken("tok-user", 0x11, "usr-1"));
        await SystemRepository.AddTokenAsync(NewToken("tok-root", 0x22));
        var at = T0.AddHours(1);

        Assert.Equal(GuardedChange.Done, await SystemRepository.RevokeTokenAsync("tok-root", at));
        Assert.Equal(GuardedChange.WouldLockOut, await SystemRepository.RevokeTokenAsync("tok-user", at));
        Assert.Equal(GuardedChange.WouldLockOut, await Principals.DisableAsync("usr-1", at));
        Assert.Equal(GuardedChange.WouldLockOut, await Principals.UpdateAsync(NewPrincipal("usr-1", grants: new RoleGrant("administrator", "ks-1")), at));

        // Nothing of the refused changes stayed.
        var user = await Principals.GetAsync("usr-1");
        Assert.Null(user!.DisabledAt);
        Assert.Equal([new RoleGrant("administrator")], user.Grants);
        Assert.True((await SystemRepository.ListTokensAsync()).Single(t => t.Id == "tok-user").IsValidAt(at));
    }

    [Fact]
    public async Task Two_administrators_revoking_each_other_at_once_leave_one()
    {
        await SystemRepository.AddTokenAsync(NewToken("tok-a", 0x11));
        await SystemRepository.AddTokenAsync(NewToken("tok-b", 0x22));

        var results = await Task.WhenAll(
            Task.Run(() => SystemRepository.RevokeTokenAsync("tok-a", T0.AddHours(1))),
            Task.Run(() => SystemRepository.RevokeTokenAsync("tok-b", T0.AddHours(1))));

        Assert.Single(results, r => r == GuardedChange.Done);
        Assert.Single(results, r => r == GuardedChange.WouldLockOut);
        Assert.Single(await SystemRepository.ListTokensAsync(), t => t.IsValidAt(T0.AddHours(1)));
    }

    [Fact]
    public async Task Custom_roles_are_created_replaced_and_deleted()
    {
        await Principals.PutRoleAsync(new CustomRole("reader", "reads", ["keys.read"], T0));
        await Principals.PutRoleAsync(new CustomRole("reader", "reads more", ["keys.read", "keystores.read"], T0.AddHours(1)));

        var read = await Principals.GetRoleAsync("reader");
        Assert.Equal(["keys.read", "keystores.read"], read!.Permissions);
        Assert.Equal("reads more", read.Description);
        Assert.Single(await Principals.ListRolesAsync());
        Assert.True(await Principals.DeleteRoleAsync("reader"));
        Assert.False(await Principals.DeleteRoleAsync("reader"));
        Assert.Null(await Principals.GetRoleAsync("reader"));
    }
}
