using Coffer.Approvals;
using Coffer.Audit;
using Coffer.Auth;
using Coffer.Keys;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>
/// Two storages opened on one database (two pools: two nodes of a cluster) racing the same write.
/// Each race runs several rounds, so an interleaving that breaks the rule has many chances to show.
/// </summary>
public abstract partial class RepositoryConformanceTests
{
    private const int Rounds = 8;

    [Fact]
    public async Task Two_nodes_appending_after_the_same_head_never_fork_the_audit_chain()
    {
        var other = await OpenAsync();
        var head = AuditRecord.GenesisHash.ToArray();
        var sequence = 1L;
        for (var round = 0; round < Rounds; round++)
        {
            var mine = Chain(head, sequence, new AuditEvent { Action = "node-a" }, new AuditEvent { Action = "node-a" });
            var theirs = Chain(head, sequence, new AuditEvent { Action = "node-b" });

            var results = await Task.WhenAll(
                Task.Run(() => Attempt(() => Audit.AppendAsync(mine, null))),
                Task.Run(() => Attempt(() => other.Audit.AppendAsync(theirs, null))));

            Assert.Equal(1, results.Count(r => r is null));
            Assert.IsType<ConflictException>(Assert.Single(results, r => r is not null));
            var winner = results[0] is null ? mine : theirs;
            head = winner[^1].Hash;
            sequence = winner[^1].Sequence + 1;
        }

        var chain = await other.Audit.ReadChainAsync(1, 1000);
        Assert.Equal(Enumerable.Range(1, (int)sequence - 1).Select(i => (long)i), chain.Records.Select(r => r.Sequence));
        var previous = AuditRecord.GenesisHash.ToArray();
        foreach (var record in chain.Records)
        {
            Assert.Equal(previous, record.PrevHash);
            Assert.Equal(record.ComputeHash(), record.Hash);
            previous = record.Hash;
        }

        Assert.Equal(new AuditHead(sequence - 1, head), await Audit.GetHeadAsync(), AuditHeadComparer.Instance);
    }

    [Fact]
    public async Task Two_nodes_creating_key_stores_with_one_name_have_one_winner()
    {
        var other = await OpenAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var name = $"shared-{round}";
            var results = await Task.WhenAll(
                Task.Run(() => Attempt(() => KeyStores.CreateKeyStoreAsync(NewKeyStore(name: name)))),
                Task.Run(() => Attempt(() => other.KeyStores.CreateKeyStoreAsync(NewKeyStore(name: name)))));

            Assert.Equal(1, results.Count(r => r is null));
            var refused = Assert.IsType<ConflictException>(Assert.Single(results, r => r is not null));
            Assert.Contains($"named '{name}'", refused.Message, StringComparison.Ordinal);
        }

        Assert.Equal(Rounds, (await KeyStores.ListKeyStoresAsync()).Count);
    }

    [Fact]
    public async Task Votes_cast_on_two_nodes_at_once_are_all_counted_by_the_last_one()
    {
        var other = await OpenAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var request = NewRequest();
            await Store.Approvals.CreateRequestAsync(request);

            var counts = await Task.WhenAll(Enumerable.Range(0, 4).Select(i => Task.Run(() =>
                (i % 2 == 0 ? Store.Approvals : other.Approvals).AddVoteAsync(
                    new ApprovalVote(request.Id, $"usr-{i}", CallerKinds.User, $"Voter {i}", true, null, T0.AddTicks(i))))));

            // Votes on one request are one after the other: their counts are 1, 2, 3, 4 in some order,
            // so whichever vote reaches the quorum sees it.
            Assert.Equal([1, 2, 3, 4], counts.Select(c => c ?? 0).Order());
        }
    }

    [Fact]
    public async Task A_vote_racing_the_end_of_its_request_is_either_counted_before_it_or_not_recorded()
    {
        var other = await OpenAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var request = NewRequest();
            await Store.Approvals.CreateRequestAsync(request);

            var vote = Task.Run(() => other.Approvals.AddVoteAsync(new ApprovalVote(request.Id, "usr-9", CallerKinds.User, "Late", true, null, T0)));
            var move = Task.Run(() => Store.Approvals.MoveAsync(request.Id, ApprovalStates.Pending, ApprovalStates.Denied, T0, "expired"));
            var (counted, moved) = (await vote, await move);

            Assert.True(moved);
            var votes = await Store.Approvals.ListVotesAsync(request.Id);
            Assert.Equal(counted is null ? 0 : 1, votes.Count);
        }
    }

    [Fact]
    public async Task Two_nodes_claiming_one_scheduled_rotation_rotate_the_key_once()
    {
        var other = await OpenAsync();
        for (var round = 0; round < Rounds; round++)
        {
            var key = await CreateKeyAsync((await CreateKeyStoreAsync()).Id);
            var claim = new RotationClaim(T0.AddDays(1));
            var next = FirstVersion(key) with { Version = 2, Material = [2, 2], CreatedAt = T0.AddDays(1) };

            var results = await Task.WhenAll(
                Task.Run(() => Attempt(() => Keys.RotateAsync(key.Id, 1, next, T0.AddDays(1), "scheduler", claim))),
                Task.Run(() => Attempt(() => other.Keys.RotateAsync(key.Id, 1, next, T0.AddDays(1), "scheduler", claim))));

            Assert.Equal(1, results.Count(r => r is null));
            Assert.IsType<ConflictException>(Assert.Single(results, r => r is not null));
            Assert.Equal(2, (await Keys.ListVersionsAsync(key.Id)).Count);
            Assert.Equal(claim.DueAt, Assert.Single(await Rotation.ListCandidatesAsync(key.Id)).LastDueAt);
        }
    }

    [Fact]
    public async Task Two_nodes_revoking_the_last_two_administrator_tokens_leave_one()
    {
        var other = await OpenAsync();
        var survivor = NewToken("adm-0", 1);
        await SystemRepository.AddTokenAsync(survivor);
        for (var round = 1; round <= Rounds; round++)
        {
            // The survivor of the round before and a new token: the last two administrators.
            var fresh = NewToken($"adm-{round}", (byte)(round + 1));
            await SystemRepository.AddTokenAsync(fresh);

            var results = await Task.WhenAll(
                Task.Run(() => SystemRepository.RevokeTokenAsync(survivor.Id, T0)),
                Task.Run(() => other.System.RevokeTokenAsync(fresh.Id, T0)));

            Assert.Equal([GuardedChange.Done, GuardedChange.WouldLockOut], results.Order());
            survivor = results[0] == GuardedChange.Done ? fresh : survivor;
            Assert.Equal([survivor.Id], (await SystemRepository.ListTokensAsync()).Where(t => t.IsValidAt(T0)).Select(t => t.Id));
        }
    }

    private sealed class AuditHeadComparer : IEqualityComparer<AuditHead>
    {
        public static readonly AuditHeadComparer Instance = new();

        public bool Equals(AuditHead x, AuditHead y) => x.Sequence == y.Sequence && x.Hash.AsSpan().SequenceEqual(y.Hash);

        public int GetHashCode(AuditHead obj) => obj.Sequence.GetHashCode();
    }
}
