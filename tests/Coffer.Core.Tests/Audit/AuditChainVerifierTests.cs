using Coffer.Audit;

namespace Coffer.Core.Tests.Audit;

/// <summary>Each kind of tampering is found, with the record number it starts at.</summary>
public sealed class AuditChainVerifierTests
{
    private static readonly byte[] Key = Enumerable.Range(100, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Untouched_chain_verifies()
    {
        var (records, checkpoints) = Chain(10);

        var result = Verify(records, checkpoints, Head(records));

        Assert.True(result.Ok, result.Problem?.Message);
        Assert.Equal((10L, 10L, 10L), (result.Records, result.LastSequence, result.LastCheckpoint));
    }

    [Fact]
    public void Empty_chain_verifies()
    {
        var result = Verify([], [], AuditHead.Empty);

        Assert.True(result.Ok);
        Assert.Equal(0, result.LastSequence);
    }

    [Fact]
    public void Changed_field_is_found_at_its_record()
    {
        var (records, checkpoints) = Chain(10);
        records[6] = Replace(records[6], records[6].Event with { KeyId = "key_other" });

        var problem = Verify(records, checkpoints, Head(records)).Problem;

        Assert.Equal((AuditProblemKind.Changed, 7L), (problem?.Kind, problem?.Sequence));
    }

    [Fact]
    public void Changed_time_or_node_is_found_at_its_record()
    {
        var (records, checkpoints) = Chain(5);
        var r = records[2];
        records[2] = new AuditRecord(r.Event, r.Sequence, r.Time.AddSeconds(-1), r.Node, r.PrevHash, r.Hash);

        Assert.Equal(3, Verify(records, checkpoints, Head(records)).Problem?.Sequence);
    }

    [Fact]
    public void Deleted_record_is_a_gap_at_its_number()
    {
        var (records, checkpoints) = Chain(10);
        records.RemoveAt(4);

        var problem = Verify(records, checkpoints, Head(records)).Problem;

        Assert.Equal((AuditProblemKind.Missing, 5L), (problem?.Kind, problem?.Sequence));
        Assert.Contains("gap after record 4", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Deleted_first_record_is_a_gap_at_1()
    {
        var (records, checkpoints) = Chain(3);
        records.RemoveAt(0);

        Assert.Equal((AuditProblemKind.Missing, 1L), Kind(Verify(records, checkpoints, Head(records))));
    }

    [Fact]
    public void Swapped_records_are_reordered_at_the_first_of_them()
    {
        var (records, checkpoints) = Chain(10);
        // Swap the sequence numbers of records 4 and 5, as an editor would in SQL, then read in seq order.
        var four = records[3];
        var five = records[4];
        records[3] = new AuditRecord(five.Event, 4, five.Time, five.Node, five.PrevHash, five.Hash);
        records[4] = new AuditRecord(four.Event, 5, four.Time, four.Node, four.PrevHash, four.Hash);

        Assert.Equal((AuditProblemKind.Reordered, 4L), Kind(Verify(records, checkpoints, Head(records))));
    }

    [Fact]
    public void Repeated_sequence_number_is_reordered()
    {
        var (records, checkpoints) = Chain(5);
        records.Insert(3, records[1]);

        Assert.Equal((AuditProblemKind.Reordered, 2L), Kind(Verify(records, checkpoints, Head(records))));
    }

    [Fact]
    public void Checkpoint_with_a_forged_MAC_is_found_at_its_record()
    {
        var (records, checkpoints) = Chain(6);
        var forged = AuditCheckpointMac.Create(new byte[32], 4, records[3].Hash, T0);
        checkpoints[3] = forged;

        Assert.Equal((AuditProblemKind.BadCheckpoint, 4L), Kind(Verify(records, checkpoints, Head(records))));
    }

    [Fact]
    public void Chain_rebuilt_without_the_key_fails_at_the_first_rebuilt_record()
    {
        var (records, checkpoints) = Chain(8);
        // The editor changes record 5 and recomputes every hash after it; the checkpoints stay.
        var rebuilt = Rebuild(records, fromIndex: 4, change: e => e with { ActorId = "someone-else" });

        var result = Verify(rebuilt, checkpoints, Head(rebuilt));

        Assert.Equal((AuditProblemKind.Rewritten, 5L), Kind(result));
        Assert.Equal(4, result.LastCheckpoint);
    }

    [Fact]
    public void Chain_rebuilt_between_checkpoints_names_the_span_no_checkpoint_can_narrow()
    {
        // Checkpoints only every third record (as group commit makes under load).
        var (records, checkpoints) = Chain(9, checkpointEvery: 3);
        var rebuilt = Rebuild(records, fromIndex: 4, change: e => e with { Outcome = AuditOutcome.Denied });

        var problem = Verify(rebuilt, checkpoints, Head(rebuilt)).Problem;

        Assert.Equal((AuditProblemKind.Rewritten, 4L), (problem?.Kind, problem?.Sequence));
        Assert.Contains("records 4 to 6", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Chain_rebuilt_with_its_checkpoints_removed_is_unproven_from_the_rebuilt_record()
    {
        var (records, checkpoints) = Chain(8);
        var rebuilt = Rebuild(records, fromIndex: 4, change: e => e with { Details = "innocent" });
        checkpoints.RemoveAll(c => c.Sequence >= 5);

        Assert.Equal((AuditProblemKind.Unproven, 5L), Kind(Verify(rebuilt, checkpoints, expectedHead: null)));
    }

    [Fact]
    public void Rebuilt_tail_is_found_by_the_head_the_server_holds()
    {
        var (records, checkpoints) = Chain(8);
        var head = Head(records);
        var rebuilt = Rebuild(records, fromIndex: 7, change: e => e with { Details = "innocent" });
        checkpoints.RemoveAll(c => c.Sequence >= 8);

        Assert.Equal((AuditProblemKind.Rewritten, 8L), Kind(Verify(rebuilt, checkpoints, head)));
    }

    [Fact]
    public void Truncated_tail_with_its_checkpoints_is_found_by_the_servers_head()
    {
        var (records, checkpoints) = Chain(10);
        var head = Head(records);
        records.RemoveRange(7, 3);
        checkpoints.RemoveAll(c => c.Sequence > 7);

        var problem = Verify(records, checkpoints, head).Problem;

        Assert.Equal((AuditProblemKind.Truncated, 8L), (problem?.Kind, problem?.Sequence));
        Assert.Contains("records 8 to 10 were removed", problem!.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Rollback_to_an_earlier_consistent_chain_is_found_by_an_external_anchor()
    {
        var (records, checkpoints) = Chain(10);
        var anchor = new AuditHead(9, records[8].Hash);
        records.RemoveRange(6, 4);
        checkpoints.RemoveAll(c => c.Sequence > 6);
        var rolledBackHead = Head(records);

        using var withoutAnchor = new AuditChainVerifier(Key, rolledBackHead);
        withoutAnchor.Add(records, checkpoints);
        using var withAnchor = new AuditChainVerifier(Key, rolledBackHead, anchor: anchor);
        withAnchor.Add(records, checkpoints);

        Assert.True(withoutAnchor.Complete().Ok);
        Assert.Equal((AuditProblemKind.Truncated, 7L), Kind(withAnchor.Complete()));
    }

    [Fact]
    public void Anchor_naming_another_hash_is_a_rewrite()
    {
        var (records, checkpoints) = Chain(5);
        using var verifier = new AuditChainVerifier(Key, Head(records), anchor: new AuditHead(3, new byte[32]));
        verifier.Add(records, checkpoints);

        Assert.Equal(AuditProblemKind.Rewritten, verifier.Complete().Problem?.Kind);
    }

    [Fact]
    public void Truncated_tail_that_left_a_checkpoint_behind_is_found_without_a_head()
    {
        var (records, checkpoints) = Chain(10);
        records.RemoveRange(8, 2);

        Assert.Equal((AuditProblemKind.Truncated, 9L), Kind(Verify(records, checkpoints, expectedHead: null)));
    }

    [Fact]
    public void Records_after_the_last_checkpoint_are_unproven()
    {
        var (records, checkpoints) = Chain(6);
        checkpoints.RemoveAll(c => c.Sequence > 3);

        var result = Verify(records, checkpoints, Head(records));

        Assert.Equal((AuditProblemKind.Unproven, 4L), Kind(result));
        Assert.Equal(3, result.LastCheckpoint);
    }

    [Fact]
    public void Pages_give_the_same_verdict_as_one_walk()
    {
        var (records, checkpoints) = Chain(25, checkpointEvery: 4);
        records[17] = Replace(records[17], records[17].Event with { AwsRegion = "us-east-1" });

        using var verifier = new AuditChainVerifier(Key, Head(records));
        for (var from = 0; from < records.Count; from += 7)
        {
            var page = records.Skip(from).Take(7).ToList();
            var last = from + 7 >= records.Count;
            var inRange = checkpoints.Where(c => c.Sequence >= page[0].Sequence && (last || c.Sequence <= page[^1].Sequence));
            if (!verifier.Add(page, inRange))
            {
                break;
            }
        }

        Assert.Equal((AuditProblemKind.Changed, 18L), Kind(verifier.Complete()));
    }

    private static (AuditProblemKind?, long?) Kind(AuditVerification result) => (result.Problem?.Kind, result.Problem?.Sequence);

    private static AuditVerification Verify(List<AuditRecord> records, List<AuditCheckpoint> checkpoints, AuditHead? expectedHead)
    {
        using var verifier = new AuditChainVerifier(Key, expectedHead);
        verifier.Add(records, checkpoints);
        return verifier.Complete();
    }

    private static AuditHead Head(List<AuditRecord> records) => records.Count == 0 ? AuditHead.Empty : new(records[^1].Sequence, records[^1].Hash);

    private static (List<AuditRecord> Records, List<AuditCheckpoint> Checkpoints) Chain(int count, int checkpointEvery = 1)
    {
        var records = new List<AuditRecord>();
        var checkpoints = new List<AuditCheckpoint>();
        var prev = AuditRecord.GenesisHash.ToArray();
        for (var i = 1; i <= count; i++)
        {
            var record = AuditRecord.Create(
                new AuditEvent { Action = "xks.encrypt", ActorKind = "xks", ActorId = "AK" + i, KeyId = "key_" + (i % 3), KmsRequestId = Guid.NewGuid().ToString() },
                i, T0.AddSeconds(i), "node-a", prev);
            records.Add(record);
            prev = record.Hash;
            if (i % checkpointEvery == 0 || i == count)
            {
                checkpoints.Add(AuditCheckpointMac.Create(Key, i, record.Hash, record.Time));
            }
        }

        return (records, checkpoints);
    }

    /// <summary>The same stored hashes over a changed event: what an UPDATE of one column leaves.</summary>
    private static AuditRecord Replace(AuditRecord r, AuditEvent changed) => new(changed, r.Sequence, r.Time, r.Node, r.PrevHash, r.Hash);

    /// <summary>What an editor without the key can do: change a record and recompute every hash after it.</summary>
    private static List<AuditRecord> Rebuild(List<AuditRecord> records, int fromIndex, Func<AuditEvent, AuditEvent> change)
    {
        var result = records.Take(fromIndex).ToList();
        var prev = fromIndex == 0 ? AuditRecord.GenesisHash.ToArray() : records[fromIndex - 1].Hash;
        for (var i = fromIndex; i < records.Count; i++)
        {
            var e = i == fromIndex ? change(records[i].Event) : records[i].Event;
            var rebuilt = AuditRecord.Create(e, records[i].Sequence, records[i].Time, records[i].Node, prev);
            result.Add(rebuilt);
            prev = rebuilt.Hash;
        }

        return result;
    }
}
