using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Storage.Tests.Audit;

namespace Coffer.Storage.Tests.Conformance;

public abstract partial class RepositoryConformanceTests
{
    /// <summary>The goal of docs/audit-storage.md: what the database grows by per audited call, every
    /// audit table and index counted (batches, their keys, checkpoints), at the batch sizes the writer
    /// commits under load.</summary>
    [Fact]
    public async Task Audit_storage_takes_at_most_200_bytes_per_record_of_a_realistic_mixed_workload()
    {
        const int Records = 20_000;
        var workload = new AuditWorkload(42);
        var sizes = new Random(42);
        var key = RandomNumberGenerator.GetBytes(32);
        var head = AuditHead.Empty;
        var time = AuditT0;
        var before = await Factory.AuditBytesAsync();

        while (head.Sequence < Records)
        {
            var records = workload.Chain(head, sizes.Next(BatchSizeUnderLoad.Min, BatchSizeUnderLoad.Max + 1), time);
            head = new AuditHead(records[^1].Sequence, records[^1].Hash);
            await Audit.AppendAsync(records, AuditCheckpointMac.Create(key, head.Sequence, head.Hash, time));
            time = time.AddMilliseconds(1);
        }

        var perRecord = (double)(await Factory.AuditBytesAsync() - before) / head.Sequence;
        Assert.True(perRecord <= 200, $"{perRecord:F1} bytes per record");
    }

    // Records per commit of the audit writer at 8,000 to 20,000 XKS calls a second on the reference
    // machine (bench/results/audit-storage-latest.md).
    private static readonly (int Min, int Max) BatchSizeUnderLoad = (8, 40);
}
