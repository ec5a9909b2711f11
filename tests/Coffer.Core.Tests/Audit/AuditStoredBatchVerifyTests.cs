using System.Buffers.Binary;
using System.Security.Cryptography;
using Coffer.Audit;

namespace Coffer.Core.Tests.Audit;

/// <summary>
/// Verify checks stored batches as bytes, without decoding them; its verdict is the one decoding each
/// record and hashing its fields again gives, including for bytes no writer makes.
/// </summary>
public sealed class AuditStoredBatchVerifyTests
{
    private static readonly byte[] Key = Enumerable.Range(7, 32).Select(i => (byte)i).ToArray();
    private static readonly DateTimeOffset T0 = new(2026, 3, 1, 12, 0, 0, TimeSpan.Zero);

    [Fact]
    public void Untouched_batches_verify_with_every_record_counted()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [3, 1, 5, 4]);

        var result = Verify(batches, checkpoints, head);

        Assert.True(result.Ok, result.Problem?.Message);
        Assert.Equal((13L, 13L, 13L), (result.Records, result.LastSequence, result.LastCheckpoint));
        Assert.Equal(head.Hash, result.LastHash);
    }

    [Fact]
    public void A_changed_byte_in_a_body_is_found_at_its_record()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [3, 5]);
        var body = batches[1].Records;
        body[BodyOffset(body, 2) + 10] ^= 0x01; // record 6

        Assert.Equal((AuditProblemKind.Changed, 6L), Kind(Verify(batches, checkpoints, head)));
    }

    [Fact]
    public void A_batch_whose_prev_hash_differs_does_not_link()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [3, 5]);
        batches[1] = batches[1] with { PrevHash = new byte[32] };

        Assert.Equal((AuditProblemKind.Changed, 4L), Kind(Verify(batches, checkpoints, head)));
    }

    [Fact]
    public void A_missing_batch_is_a_gap_and_a_cut_body_is_a_changed_record()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [3, 2, 3]);
        var gap = Verify([batches[0], batches[2]], checkpoints, head);
        var (cutBatches, cutCheckpoints, cutHead) = Chain(batchSizes: [3, 2]);
        cutBatches[1] = cutBatches[1] with { Records = cutBatches[1].Records[..^1] };

        Assert.Equal((AuditProblemKind.Missing, 4L), Kind(gap));
        Assert.Equal((AuditProblemKind.Changed, 5L), Kind(Verify(cutBatches, cutCheckpoints, cutHead)));
    }

    [Fact]
    public void A_forged_checkpoint_is_found_with_the_reused_MAC()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [2, 2, 2]);
        checkpoints[1] = AuditCheckpointMac.Create(new byte[32], checkpoints[1].Sequence, checkpoints[1].Hash, T0);

        Assert.Equal((AuditProblemKind.BadCheckpoint, 4L), Kind(Verify(batches, checkpoints, head)));
    }

    [Theory]
    [InlineData("OK")]         // decodes to outcome ok, which encodes as "ok"
    [InlineData("latency")]    // a negative latency, which encodes as 0
    [InlineData("utf8")]       // not UTF-8: no record
    public void Bytes_no_writer_makes_are_changed_even_when_their_hash_was_made_over_them(string kind)
    {
        var body = AuditCanonical.EncodeBody(new AuditEvent { Action = "xks.encrypt", LatencyMs = 1, Details = "é" }, "node-a");
        var odd = kind switch
        {
            "OK" => Replace(body, Text("ok"), Text("OK")),
            "latency" => Replace(body, [1, 0, 0, 0, 0, 0, 0, 0x03, 0xE8], [1, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x00]),
            _ => Replace(body, [0xC3, 0xA9], [0xC3, 0x28]),
        };
        Assert.False(AuditCanonicalReader.IsCanonicalBody(odd));
        Assert.True(AuditCanonicalReader.IsCanonicalBody(body));

        // An editor's record: the hash and a valid checkpoint over exactly these bytes.
        var hash = AuditCanonical.ComputeHash(AuditRecord.GenesisHash, 1, T0, odd);
        var batch = new AuditStoredBatch(1, T0, new byte[32], hash, Framed(odd));
        var checkpoint = AuditCheckpointMac.Create(Key, 1, hash, T0);

        Assert.Equal((AuditProblemKind.Changed, 1L), Kind(Verify([batch], [checkpoint], new AuditHead(1, hash))));
    }

    [Fact]
    public void Walking_from_a_proven_point_counts_only_the_records_after_it()
    {
        var (batches, checkpoints, head) = Chain(batchSizes: [4, 3, 3]);
        var proven = batches[0].HashAt(3).ToArray();
        using var verifier = new AuditChainVerifier(Key, head, firstSequence: 5, firstPrevHash: proven);

        verifier.Add(batches[1..], checkpoints);
        var result = verifier.Complete();

        Assert.True(result.Ok, result.Problem?.Message);
        Assert.Equal((6L, 10L, 5L), (result.Records, result.LastSequence, result.FirstSequence));
    }

    [Fact]
    public void A_verified_checkpoint_is_not_a_writer_checkpoint()
    {
        var hash = SHA256.HashData("record"u8);
        var verified = AuditVerifiedCheckpoint.Create(Key, 9, hash, T0);
        var written = AuditCheckpointMac.Create(Key, 9, hash, T0);

        Assert.True(AuditVerifiedCheckpoint.IsValid(Key, verified));
        Assert.False(AuditVerifiedCheckpoint.IsValid(Key, written));
        Assert.False(AuditCheckpointMac.IsValid(Key, verified));
        Assert.False(AuditVerifiedCheckpoint.IsValid(new byte[32], verified));
        Assert.False(AuditVerifiedCheckpoint.IsValid(Key, verified with { Sequence = 10 }));
    }

    private static AuditVerification Verify(List<AuditStoredBatch> batches, IEnumerable<AuditCheckpoint> checkpoints, AuditHead head)
    {
        using var verifier = new AuditChainVerifier(Key, head);
        verifier.Add(batches, checkpoints);
        return verifier.Complete();
    }

    private static (AuditProblemKind?, long?) Kind(AuditVerification result) => (result.Problem?.Kind, result.Problem?.Sequence);

    // Batches as the writer stores them, each with its checkpoint.
    private static (List<AuditStoredBatch> Batches, List<AuditCheckpoint> Checkpoints, AuditHead Head) Chain(int[] batchSizes)
    {
        var batches = new List<AuditStoredBatch>();
        var checkpoints = new List<AuditCheckpoint>();
        var prev = AuditRecord.GenesisHash.ToArray();
        var seq = 0L;
        foreach (var size in batchSizes)
        {
            var time = T0.AddSeconds(seq);
            var first = seq + 1;
            var batchPrev = prev;
            var records = new List<AuditRecord>();
            for (var i = 0; i < size; i++)
            {
                var record = AuditRecord.Create(new AuditEvent { Action = "xks.encrypt", KeyId = "key_" + seq, LatencyMs = 0.25 }, ++seq, time, "node-a", prev);
                records.Add(record);
                prev = record.Hash;
            }

            batches.Add(new AuditStoredBatch(first, time, batchPrev, [.. records.SelectMany(r => r.Hash)], [.. records.SelectMany(r => Framed(r.Body.ToArray()))]));
            checkpoints.Add(AuditCheckpointMac.Create(Key, seq, prev, time));
        }

        return (batches, checkpoints, new AuditHead(seq, prev));
    }

    private static byte[] Framed(byte[] body)
    {
        var framed = new byte[4 + body.Length];
        BinaryPrimitives.WriteUInt32BigEndian(framed, (uint)body.Length);
        body.CopyTo(framed, 4);
        return framed;
    }

    private static int BodyOffset(byte[] records, int index)
    {
        var at = 0;
        for (var i = 0; i < index; i++)
        {
            at += 4 + (int)BinaryPrimitives.ReadUInt32BigEndian(records.AsSpan(at));
        }

        return at + 4;
    }

    private static byte[] Text(string s) => AuditCanonical.EncodeText(s);

    private static byte[] Replace(byte[] bytes, byte[] find, byte[] with)
    {
        var at = bytes.AsSpan().IndexOf(find);
        Assert.True(at >= 0);
        return [.. bytes[..at], .. with, .. bytes[(at + find.Length)..]];
    }
}
