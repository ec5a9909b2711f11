using System.Buffers;
using System.Buffers.Binary;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Storage.Repositories;

namespace Coffer.Storage.Tests.Audit;

/// <summary>The stored form of an audit batch (docs/audit-storage.md): packed with Brotli, read back to
/// the exact canonical bytes the chain hashes, and batches stored plain before packing still read.</summary>
public sealed class AuditBatchBlobTests
{
    private static readonly DateTimeOffset T0 = new(2026, 12, 7, 17, 0, 0, 123, TimeSpan.Zero);

    [Fact]
    public void Packed_batch_reads_back_the_exact_canonical_bytes_of_every_record()
    {
        var records = new AuditWorkload(1).Chain(AuditHead.Empty, 40, T0);

        var (stored, hashes) = AuditBatchBlob.Encode(records);
        var read = AuditBatchBlob.Decode(1, T0, AuditRecord.GenesisHash.ToArray(), hashes, stored);

        Assert.Equal(AuditBatchBlob.PackedFormat, stored[0]);
        Assert.True(stored.Length < Plain(records).Length / 3, $"packed {stored.Length} bytes, plain {Plain(records).Length}");
        Assert.Equal(records.Count, read.Count);
        for (var i = 0; i < records.Count; i++)
        {
            Assert.Equal(records[i].Body.ToArray(), AuditCanonical.EncodeBody(read[i].Event, read[i].Node));
            Assert.Equal(records[i].Hash, read[i].ComputeHash());
            Assert.Equal(records[i].Sequence, read[i].Sequence);
            Assert.Equal(records[i].PrevHash, read[i].PrevHash);
            Assert.Equal(records[i].Hash, read[i].Hash);
        }
    }

    [Fact]
    public void Batch_stored_plain_before_packing_still_reads()
    {
        var records = new AuditWorkload(2).Chain(AuditHead.Empty, 5, T0);
        var (_, hashes) = AuditBatchBlob.Encode(records);

        var read = AuditBatchBlob.Decode(1, T0, AuditRecord.GenesisHash.ToArray(), hashes, Plain(records));

        Assert.Equal(records.Select(r => r.Event), read.Select(r => r.Event));
        Assert.All(read, r => Assert.Equal(r.Hash, r.ComputeHash()));
    }

    [Fact]
    public void Bytes_that_packing_would_not_shrink_are_stored_as_they_are()
    {
        var incompressible = RandomNumberGenerator.GetBytes(300);

        var stored = AuditBatchBlob.Pack(incompressible, new ArrayBufferWriter<byte>());

        Assert.Equal(incompressible, stored.ToArray());
    }

    [Fact]
    public void Packed_batch_that_does_not_decompress_reads_as_unreadable_records_that_verify_reports_at_the_first()
    {
        var records = new AuditWorkload(3).Chain(AuditHead.Empty, 6, T0);
        var (stored, hashes) = AuditBatchBlob.Encode(records);
        var key = RandomNumberGenerator.GetBytes(32);
        var checkpoint = AuditCheckpointMac.Create(key, 6, records[^1].Hash, T0);

        var read = AuditBatchBlob.Decode(1, T0, AuditRecord.GenesisHash.ToArray(), hashes, stored[..^1]);

        Assert.Equal(6, read.Count);
        Assert.All(read, r => Assert.Equal("unreadable: the stored batch of records 1 to 6 does not decompress", r.Event.Details));
        Assert.All(read, r => Assert.Equal("invalid", AuditOutcomes.ToText(r.Event.Outcome)));
        var verifier = new AuditChainVerifier(key);
        verifier.Add(read, [checkpoint]);
        var problem = verifier.Complete().Problem;
        Assert.Equal((AuditProblemKind.Changed, 1L), (problem?.Kind, problem?.Sequence));
    }

    [Fact]
    public void Packed_blob_that_claims_more_than_its_records_could_hold_is_not_unpacked()
    {
        var records = new AuditWorkload(4).Chain(AuditHead.Empty, 3, T0);
        var (stored, _) = AuditBatchBlob.Encode(records);
        BinaryPrimitives.WriteUInt32BigEndian(stored.AsSpan(1), uint.MaxValue);

        Assert.Null(AuditBatchBlob.Unpack(stored, 3));
    }

    [Fact]
    public void Records_after_a_cut_inside_a_packed_batch_read_back_exactly()
    {
        var records = new AuditWorkload(5).Chain(AuditHead.Empty, 10, T0);
        var (stored, hashes) = AuditBatchBlob.Encode(records);

        var after = AuditBatchBlob.After(stored, 10, 4);
        var read = AuditBatchBlob.Decode(5, T0, records[3].Hash, hashes[(4 * AuditRecord.HashSize)..], after!);

        Assert.Equal(records.Skip(4).Select(r => r.Body.ToArray()), read.Select(r => AuditCanonical.EncodeBody(r.Event, r.Node)));
        Assert.All(read, r => Assert.Equal(r.Hash, r.ComputeHash()));
        Assert.Null(AuditBatchBlob.After(stored, 10, 11));
    }

    // The form of 0016_audit_batches.sql: each body behind its u32be length.
    private static byte[] Plain(IEnumerable<AuditRecord> records)
    {
        var bodies = new ArrayBufferWriter<byte>();
        var hashes = new ArrayBufferWriter<byte>();
        foreach (var record in records)
        {
            AuditBatchBlob.Append(bodies, hashes, record);
        }

        return bodies.WrittenSpan.ToArray();
    }
}
