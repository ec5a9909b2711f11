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
        Assert.True((await Principals.DeleteRoleAsync("reader", T0)).Deleted);
        var again = await Principals.DeleteRoleAsync("reader", T0);
        Assert.False(again.Found);
        Assert.Empty(again.Holders);
        Assert.Null(await Principals.GetRoleAsync("reader"));
    }

    [Fact]
    public async Task A_custom_role_is_kept_while_an_enabled_principal_or_a_valid_bare_token_holds_it()
    {
        await Principals.PutRoleAsync(new CustomRole("reader", "reads", ["keys.read"], T0));
        await Principals.AddAsync(NewPrincipal("usr-1", grants: new RoleGrant("reader", "ks-1")));
        await SystemRepository.AddTokenAsync(new ApiToken("tok-1", "bare", Enumerable.Repeat((byte)0x21, 32).ToArray(), "reader", T0, T0.AddDays(1), null));

        var held = await Principals.DeleteRoleAsync("reader", T0.AddHours(1));
        Assert.Equal(["usr-1", "tok-1"], held.Holders);
        Assert.False(held.Deleted);

        await Principals.DisableAsync("usr-1", T0.AddHours(1));
        Assert.Equal(["tok-1"], (await Principals.DeleteRoleAsync("reader", T0.AddHours(1))).Holders);
        Assert.True((await Principals.DeleteRoleAsync("reader", T0.AddDays(2))).Deleted); // the token has expired
    }

    [Fact]
    public async Task A_custom_role_that_does_not_exist_is_granted_by_no_write()
    {
        await Principals.PutRoleAsync(new CustomRole("reader", "reads", ["keys.read"], T0));
        await Principals.AddAsync(NewPrincipal("usr-1", grants: new RoleGrant("auditor")));

        await Assert.ThrowsAsync<ConflictException>(() => Principals.AddAsync(NewPrincipal("usr-2", grants: new RoleGrant("writer"))));
        await Assert.ThrowsAsync<ConflictException>(() => Principals.UpdateAsync(NewPrincipal("usr-1", grants: [new RoleGrant("auditor"), new RoleGrant("writer", "ks-1")]), T0));
        await Assert.ThrowsAsync<ConflictException>(() => SystemRepository.AddTokenAsync(new ApiToken("tok-1", "bare", new byte[32], "writer", T0, null, null)));

        Assert.Null(await Principals.GetAsync("usr-2"));
        Assert.Equal([new RoleGrant("auditor")], (await Principals.GetAsync("usr-1"))!.Grants);
        Assert.Empty(await SystemRepository.ListTokensAsync());
        await Principals.AddAsync(NewPrincipal("usr-3", grants: new RoleGrant("reader")));
    }

    [Fact]
    public async Task A_grant_racing_the_deletion_of_its_role_never_leaves_the_deleted_role_granted()
    {
        for (var round = 0; round < 20; round++)
        {
            var role = "racer-" + round;
            await Principals.PutRoleAsync(new CustomRole(role, "races", ["keys.read"], T0));
            using var start = new ManualResetEventSlim();
            var grant = Task.Run(async () =>
            {
                start.Wait();
                try
                {
                    await Principals.AddAsync(NewPrincipal("usr-" + round, grants: new RoleGrant(role)));
                    return true;
                }
                catch (ConflictException)
                {
                    return false;
                }
            });
            var delete = Task.Run(async () =>
            {
                start.Wait();
                return await Principals.DeleteRoleAsync(role, T0);
            });
            start.Set();

            var granted = await grant;
            var deletion = await delete;
            Assert.NotEqual(granted, deletion.Deleted); // exactly one of them won
            Assert.Equal(deletion.Deleted, await Principals.GetRoleAsync(role) is null);
            Assert.Equal(granted, await Principals.GetAsync("usr-" + round) is not null);
        }
    }
}
