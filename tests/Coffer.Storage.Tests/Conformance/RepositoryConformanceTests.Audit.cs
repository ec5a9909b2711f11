using Coffer.Audit;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    private static readonly DateTimeOffset AuditT0 = new(2026, 5, 6, 7, 8, 9, 123, TimeSpan.Zero);

    private static AuditEvent FullEvent => new()
    {
        Action = "xks.decrypt",
        Outcome = AuditOutcome.Denied,
        ErrorName = "AccessDeniedException",
        Reason = "rule eea-only",
        ActorKind = "xks",
        ActorId = "AKIDEXAMPLE234567ABC",
        KeyStore = "ks_1",
        KeyId = "key_1",
        KeyVersion = 7,
        LatencyMs = 0.987,
        SourceIp = "2001:db8::1",
        KmsRequestId = "req-1",
        AwsPrincipalArn = "arn:aws:iam::123456789012:role/Émile",
        KmsKeyArn = "arn:aws:kms:eu-north-1:123456789012:key/k",
        AwsAccount = "123456789012",
        AwsRegion = "eu-north-1",
        KmsOperation = "Decrypt",
        KmsViaService = "ebs",
        AwsSourceVpc = "vpc-1",
        AwsSourceVpce = "",
        Details = "😀 and 'quotes'",
    };

    [Fact]
    public async Task Audit_records_round_trip_every_field_and_still_hash_the_same()
    {
        var records = Chain(AuditRecord.GenesisHash.ToArray(), 1, FullEvent, new AuditEvent { Action = "auth.failed" });
        var checkpoint = new AuditCheckpoint(2, records[1].Hash, AuditT0, new byte[32]);

        await Audit.AppendAsync(records, checkpoint);
        var page = await Audit.ReadChainAsync(1, 10);

        Assert.True(page.IsLast);
        Assert.Equal(2, page.Records.Count);
        Assert.Equal(FullEvent with { LatencyMs = 0.987 }, page.Records[0].Event);
        Assert.Null(page.Records[1].Event.Details);
        Assert.Equal((1L, AuditT0, "node-x"), (page.Records[0].Sequence, page.Records[0].Time, page.Records[0].Node));
        Assert.All(page.Records, r => Assert.Equal(r.Hash, r.ComputeHash()));
        Assert.Equal(records[1].PrevHash, page.Records[1].PrevHash);
        var stored = Assert.Single(page.Checkpoints);
        Assert.Equal((2L, AuditT0), (stored.Sequence, stored.Time));
        Assert.Equal(records[1].Hash, stored.Hash);
    }

    [Fact]
    public async Task Audit_text_with_a_lone_surrogate_is_stored_as_normalised_and_still_hashes_the_same()
    {
        // Text is bound as UTF-16 and converted by the database; it must come back as the UTF-8 the hash covered.
        var records = Chain(AuditRecord.GenesisHash.ToArray(), 1, new AuditEvent { Action = "xks.encrypt", Reason = "lone \ud800 high", Details = "pair \ud83d\udd11 and lone \udc00" });

        await Audit.AppendAsync(records, null);
        var stored = Assert.Single((await Audit.ReadChainAsync(1, 10)).Records);

        Assert.Equal("lone \ufffd high", stored.Event.Reason);
        Assert.Equal("pair \ud83d\udd11 and lone \ufffd", stored.Event.Details);
        Assert.Equal(records[0].Hash, stored.ComputeHash());
    }

    [Fact]
    public async Task Audit_head_is_empty_at_first_then_the_last_record_and_survives_reopening()
    {
        Assert.Equal(0, (await Audit.GetHeadAsync()).Sequence);
        var records = Chain(AuditRecord.GenesisHash.ToArray(), 1, new AuditEvent { Action = "a" }, new AuditEvent { Action = "b" }, new AuditEvent { Action = "c" });
        await Audit.AppendAsync(records, null);

        var reopened = await OpenAsync();
        var head = await reopened.Audit.GetHeadAsync();

        Assert.Equal(3, head.Sequence);
        Assert.Equal(records[2].Hash, head.Hash);
    }

    [Fact]
    public async Task Audit_append_that_does_not_follow_the_head_is_a_conflict_and_writes_nothing()
    {
        var first = Chain(AuditRecord.GenesisHash.ToArray(), 1, new AuditEvent { Action = "a" });
        await Audit.AppendAsync(first, null);

        var skipping = Chain(first[0].Hash, 3, new AuditEvent { Action = "b" });
        var forking = Chain(new byte[32], 2, new AuditEvent { Action = "b" });

        await Assert.ThrowsAsync<ConflictException>(() => Audit.AppendAsync(skipping, null));
        await Assert.ThrowsAsync<ConflictException>(() => Audit.AppendAsync(forking, null));
        await Assert.ThrowsAsync<ConflictException>(() => Audit.AppendAsync(first, null));
        Assert.Equal(1, (await Audit.GetHeadAsync()).Sequence);
    }

    [Fact]
    public async Task Audit_batch_is_one_transaction_nothing_stays_when_a_later_row_fails()
    {
        var first = Chain(AuditRecord.GenesisHash.ToArray(), 1, new AuditEvent { Action = "a" });
        await Audit.AppendAsync(first, new AuditCheckpoint(1, first[0].Hash, AuditT0, new byte[32]));
        var next = Chain(first[0].Hash, 2, new AuditEvent { Action = "b" }, new AuditEvent { Action = "c" });

        // The checkpoint repeats sequence 1: its insert fails after the batch's records went in.
        await Assert.ThrowsAnyAsync<Exception>(() => Audit.AppendAsync(next, new AuditCheckpoint(1, first[0].Hash, AuditT0, new byte[32])));

        var page = await Audit.ReadChainAsync(1, 10);
        Assert.Single(page.Records);
        Assert.Single(page.Checkpoints);
        await Audit.AppendAsync(next, null);
        Assert.Equal(3, (await Audit.GetHeadAsync()).Sequence);
    }

    [Fact]
    public async Task Audit_append_refuses_a_batch_that_is_not_one_stretch_of_the_chain()
    {
        var records = Chain(AuditRecord.GenesisHash.ToArray(), 1, new AuditEvent { Action = "a" }, new AuditEvent { Action = "b" }, new AuditEvent { Action = "c" });
        var gap = new[] { records[0], records[2] };
        var unlinked = new[] { records[0], new AuditRecord(records[1].Event, 2, records[1].Time, records[1].Node, new byte[32], records[1].Hash) };

        await Assert.ThrowsAsync<ArgumentException>(() => Audit.AppendAsync(gap, null));
        await Assert.ThrowsAsync<ArgumentException>(() => Audit.AppendAsync(unlinked, null));

        Assert.Equal(0, (await Audit.GetHeadAsync()).Sequence);
        await Audit.AppendAsync(records, null);
        Assert.Equal(3, (await Audit.GetHeadAsync()).Sequence);
    }

    [Fact]
    public async Task Audit_query_decides_record_by_record_inside_a_batch()
    {
        // One batch (one time): a value searched for in one field also sits in another field of a
        // record that must not match.
        var records = Chain(AuditRecord.GenesisHash.ToArray(), 1,
            new AuditEvent { Action = "xks.encrypt", KeyId = "k1", AwsRegion = "eu-west-1", KmsRequestId = "r1" },
            new AuditEvent { Action = "xks.encrypt", KeyId = "k2", ActorId = "eu-west-1", KmsRequestId = "r2" },
            new AuditEvent { Action = "xks.decrypt", KeyId = "k1", AwsRegion = "eu-west-1", KmsRequestId = "r3", Details = "k2" },
            new AuditEvent { Action = "xks.encrypt", KeyId = "k1", AwsRegion = "us-east-1", KmsRequestId = "r4" },
            new AuditEvent { Action = "xks.encrypt", KeyId = "k1", AwsRegion = "eu-west-1", KmsRequestId = "r5" });
        await Audit.AppendAsync(records, null);

        async Task<long[]> Seqs(AuditQuery q) => [.. (await Audit.QueryAsync(q)).Records.Select(r => r.Sequence)];

        Assert.Equal(new long[] { 5L, 3, 1 }, await Seqs(new AuditQuery { AwsRegion = "eu-west-1" }));
        Assert.Equal(new long[] { 2L }, await Seqs(new AuditQuery { KeyId = "k2" }));
        Assert.Equal(new long[] { 4L }, await Seqs(new AuditQuery { KmsRequestId = "r4" }));
        Assert.Equal(new long[] { 5L, 4, 2, 1 }, await Seqs(new AuditQuery { Action = "xks.encrypt" }));
        Assert.Equal(new long[] { 5L, 1 }, await Seqs(new AuditQuery { Action = "xks.encrypt", AwsRegion = "eu-west-1" }));
        Assert.Empty(await Seqs(new AuditQuery { KmsRequestId = "r" }));
        Assert.Empty(await Seqs(new AuditQuery { To = AuditT0 }));

        // Keyset pages that end inside the batch.
        var first = await Audit.QueryAsync(new AuditQuery { KeyId = "k1", Limit = 2 });
        Assert.Equal([5L, 4], first.Records.Select(r => r.Sequence));
        var second = await Audit.QueryAsync(new AuditQuery { KeyId = "k1", Limit = 2, Before = first.Next });
        Assert.Equal([3L, 1], second.Records.Select(r => r.Sequence));
        Assert.Null(second.Next);
    }

    [Fact]
    public async Task Audit_query_by_key_reads_past_the_first_page_of_candidate_batches()
    {
        // More batches name the key than one page of batch names (256): each later page of names, and
        // each later page of records, is read below the bound the one before ended at.
        var prev = AuditRecord.GenesisHash.ToArray();
        for (var sequence = 1L; sequence <= 600; sequence++)
        {
            var records = Chain(prev, sequence, new AuditEvent { Action = "a", KeyId = sequence % 2 == 0 ? "k-even" : "k-odd" });
            await Audit.AppendAsync(records, null);
            prev = records[^1].Hash;
        }

        var all = await Audit.QueryAsync(new AuditQuery { KeyId = "k-even", Limit = 1000 });
        Assert.Equal(Enumerable.Range(1, 300).Select(i => 602L - (2 * i)), all.Records.Select(r => r.Sequence));
        Assert.Null(all.Next);

        var first = await Audit.QueryAsync(new AuditQuery { KeyId = "k-odd", Limit = 280 });
        var second = await Audit.QueryAsync(new AuditQuery { KeyId = "k-odd", Limit = 280, Before = first.Next });
        Assert.Equal(Enumerable.Range(1, 300).Select(i => 601L - (2 * i)), first.Records.Concat(second.Records).Select(r => r.Sequence));
        Assert.Null(second.Next);
    }

    [Fact]
    public async Task Audit_prune_through_a_record_inside_a_batch_keeps_the_rest_linked_and_findable()
    {
        var first = Chain(AuditRecord.GenesisHash.ToArray(), 1, [.. Enumerable.Range(1, 5).Select(i => new AuditEvent { Action = "a", KeyId = "k" + i })]);
        var second = Chain(first[^1].Hash, 6, new AuditEvent { Action = "b", KeyId = "k5" });
        await Audit.AppendAsync(first, null);
        await Audit.AppendAsync(second, null);

        Assert.Equal(3, await Audit.PruneArchivedAsync(3, 100));
        Assert.Equal(0, await Audit.PruneArchivedAsync(3, 100));

        var chain = await Audit.ReadChainAsync(1, 10);
        Assert.Equal([4L, 5, 6], chain.Records.Select(r => r.Sequence));
        Assert.Equal(Convert.ToHexString(first[2].Hash), Convert.ToHexString(chain.Records[0].PrevHash));
        Assert.All(chain.Records, r => Assert.Equal(Convert.ToHexString(r.Hash), Convert.ToHexString(r.ComputeHash())));
        Assert.Equal([6L, 5], (await Audit.QueryAsync(new AuditQuery { KeyId = "k5" })).Records.Select(r => r.Sequence));
        Assert.Equal([4L], (await Audit.QueryAsync(new AuditQuery { KeyId = "k4" })).Records.Select(r => r.Sequence));
        Assert.Empty((await Audit.QueryAsync(new AuditQuery { KeyId = "k3" })).Records);
        Assert.Equal(6, (await Audit.GetHeadAsync()).Sequence);
    }

    [Fact]
    public async Task Audit_chain_pages_carry_the_checkpoints_of_their_range_and_the_last_page_all_later_ones()
    {
        var prev = AuditRecord.GenesisHash.ToArray();
        for (var batch = 0; batch < 3; batch++)
        {
            var records = Chain(prev, (batch * 3) + 1, new AuditEvent { Action = "a" }, new AuditEvent { Action = "b" }, new AuditEvent { Action = "c" });
            await Audit.AppendAsync(records, new AuditCheckpoint(records[^1].Sequence, records[^1].Hash, AuditT0, new byte[32]));
            prev = records[^1].Hash;
        }

        var first = await Audit.ReadChainAsync(1, 4);
        var last = await Audit.ReadChainAsync(5, 10);

        Assert.False(first.IsLast);
        Assert.Equal([1L, 2, 3, 4], first.Records.Select(r => r.Sequence));
        Assert.Equal([3L], first.Checkpoints.Select(c => c.Sequence));
        Assert.True(last.IsLast);
        Assert.Equal([5L, 6, 7, 8, 9], last.Records.Select(r => r.Sequence));
        Assert.Equal([6L, 9], last.Checkpoints.Select(c => c.Sequence));
    }

    [Fact]
    public async Task Audit_query_filters_on_each_field_newest_first()
    {
        var events = new[]
        {
            new AuditEvent { Action = "xks.encrypt", KeyId = "k1", KeyStore = "s1", ActorId = "A1", AwsRegion = "eu-west-1", AwsAccount = "111111111111", KmsRequestId = "r1" },
            new AuditEvent { Action = "xks.decrypt", KeyId = "k2", KeyStore = "s1", ActorId = "A1", AwsRegion = "us-east-1", AwsAccount = "111111111111", KmsRequestId = "r2", Outcome = AuditOutcome.Denied },
            new AuditEvent { Action = "xks.encrypt", KeyId = "k1", KeyStore = "s2", ActorId = "A2", AwsRegion = "eu-west-1", AwsAccount = "222222222222", KmsRequestId = "r3", Outcome = AuditOutcome.Error },
            new AuditEvent { Action = "key.create", KeyId = "k1", KeyStore = "s1", ActorId = "tok_1" },
        };
        var prev = AuditRecord.GenesisHash.ToArray();
        for (var i = 0; i < events.Length; i++)
        {
            var r = AuditRecord.Create(events[i], i + 1, AuditT0.AddMinutes(i), "node-x", prev);
            await Audit.AppendAsync([r], null);
            prev = r.Hash;
        }

        async Task<long[]> Seqs(AuditQuery q) => [.. (await Audit.QueryAsync(q)).Records.Select(r => r.Sequence)];

        Assert.Equal(new long[] { 4L, 3, 2, 1 }, await Seqs(new AuditQuery()));
        Assert.Equal(new long[] { 4L, 3, 1 }, await Seqs(new AuditQuery { KeyId = "k1" }));
        Assert.Equal(new long[] { 4L, 2, 1 }, await Seqs(new AuditQuery { KeyStore = "s1" }));
        Assert.Equal(new long[] { 2L, 1 }, await Seqs(new AuditQuery { Actor = "A1" }));
        Assert.Equal(new long[] { 3L, 1 }, await Seqs(new AuditQuery { Action = "xks.encrypt" }));
        Assert.Equal(new long[] { 2L }, await Seqs(new AuditQuery { Outcome = AuditOutcome.Denied }));
        Assert.Equal(new long[] { 3L }, await Seqs(new AuditQuery { KmsRequestId = "r3" }));
        Assert.Equal(new long[] { 3L, 1 }, await Seqs(new AuditQuery { AwsRegion = "eu-west-1" }));
        Assert.Equal(new long[] { 3L }, await Seqs(new AuditQuery { AwsAccount = "222222222222" }));
        Assert.Equal(new long[] { 3L, 2 }, await Seqs(new AuditQuery { From = AuditT0.AddMinutes(1), To = AuditT0.AddMinutes(3) }));
        Assert.Equal(new long[] { 1L }, await Seqs(new AuditQuery { KeyId = "k1", AwsRegion = "eu-west-1", Actor = "A1" }));
        Assert.Empty(await Seqs(new AuditQuery { KeyId = "nope" }));
    }

    [Fact]
    public async Task Audit_query_finds_an_actor_without_an_id_by_its_kind_as_listings_show_it()
    {
        await Audit.AppendAsync(Chain(AuditRecord.GenesisHash.ToArray(), 1,
            new AuditEvent { Action = "key.rotate", ActorKind = "system", KeyId = "k1" },
            new AuditEvent { Action = "key.rotate", ActorKind = "token", ActorId = "tok_1", KeyId = "k1" },
            new AuditEvent { Action = "auth.failed", ActorKind = "anonymous" }), null);

        async Task<long[]> Seqs(AuditQuery q) => [.. (await Audit.QueryAsync(q)).Records.Select(r => r.Sequence)];

        // An id wins over the kind, as in a listing: the token's record is not the system's.
        Assert.Equal(new long[] { 1L }, await Seqs(new AuditQuery { Actor = "system" }));
        Assert.Equal(new long[] { 3L }, await Seqs(new AuditQuery { Actor = "anonymous" }));
        Assert.Equal(new long[] { 2L }, await Seqs(new AuditQuery { Actor = "tok_1" }));
        Assert.Empty(await Seqs(new AuditQuery { Actor = "token" }));
    }

    [Fact]
    public async Task Audit_query_pages_by_keyset_until_the_oldest_record()
    {
        var prev = AuditRecord.GenesisHash.ToArray();
        var records = Chain(prev, 1, [.. Enumerable.Range(0, 7).Select(i => new AuditEvent { Action = "a" + i })]);
        await Audit.AppendAsync(records, null);

        var seen = new List<long>();
        long? before = null;
        var pages = 0;
        do
        {
            var page = await Audit.QueryAsync(new AuditQuery { Before = before, Limit = 3 });
            seen.AddRange(page.Records.Select(r => r.Sequence));
            before = page.Next;
            pages++;
        }
        while (before is not null);

        Assert.Equal(3, pages);
        Assert.Equal([7L, 6, 5, 4, 3, 2, 1], seen);
    }

    private static AuditRecord[] Chain(byte[] prevHash, long firstSequence, params AuditEvent[] events)
    {
        var result = new AuditRecord[events.Length];
        var prev = prevHash;
        for (var i = 0; i < events.Length; i++)
        {
            result[i] = AuditRecord.Create(events[i], firstSequence + i, AuditT0, "node-x", prev);
            prev = result[i].Hash;
        }

        return result;
    }
}
