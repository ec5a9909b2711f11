using System.Data.Common;
using Coffer.Audit;
using Coffer.Storage.Postgres;
using Coffer.Storage.Repositories;

namespace Coffer.Storage.Tests.Conformance;

/// <summary>The outcome mask of audit batches and the index a search for refusals and failures reads
/// (docs/audit-storage.md, "Searching by outcome").</summary>
public abstract partial class RepositoryConformanceTests
{
    [Fact]
    public async Task Audit_batches_store_the_mask_of_their_outcomes()
    {
        await AppendBatchesAsync([AuditOutcome.Ok, AuditOutcome.Ok], [AuditOutcome.Ok, AuditOutcome.Denied], [AuditOutcome.Error], [AuditOutcome.Requested, AuditOutcome.Ok]);

        Assert.Equal([(1L, 1L), (3, 3), (5, 4), (6, 9)], await BatchMasksAsync());
    }

    [Fact]
    public async Task Audit_search_for_refusals_and_failures_reads_only_the_batches_whose_mask_has_them()
    {
        await AppendBatchesAsync([AuditOutcome.Ok], [AuditOutcome.Ok, AuditOutcome.Denied], [AuditOutcome.Error], [AuditOutcome.Denied], [AuditOutcome.Ok, AuditOutcome.Denied]);
        async Task<long[]> Seqs(AuditOutcome outcome) => [.. (await Audit.QueryAsync(new AuditQuery { Outcome = outcome })).Records.Select(r => r.Sequence)];

        Assert.Equal(new long[] { 7, 5, 3 }, await Seqs(AuditOutcome.Denied));
        Assert.Equal(new long[] { 4 }, await Seqs(AuditOutcome.Error));
        Assert.Equal(new long[] { 6, 2, 1 }, await Seqs(AuditOutcome.Ok));

        // A batch stored before the mask existed says "any outcome" and is still searched; a mask that
        // leaves the refusal out hides the batch from the search, which shows the mask is what is read.
        await ExecuteAsync($"UPDATE audit_batches SET outcomes = {AuditBatchOutcomes.Unknown} WHERE first_seq = 2");
        await ExecuteAsync("UPDATE audit_batches SET outcomes = 1 WHERE first_seq = 5");
        Assert.Equal(new long[] { 7, 3 }, await Seqs(AuditOutcome.Denied));
        Assert.Equal(new long[] { 4 }, await Seqs(AuditOutcome.Error));
    }

    [Fact]
    public async Task Audit_search_for_refusals_is_served_by_the_outcome_index()
    {
        await AppendBatchesAsync([AuditOutcome.Ok], [AuditOutcome.Denied]);
        var storage = (CofferStorage)Store.Lifetime;
        await using var connection = await storage.OpenConnectionAsync(default);
        await using var explain = connection.CreateCommand();
        var query = AuditBatchFilter.Build(new AuditQuery { Outcome = AuditOutcome.Denied }, below: null, take: 64, explain, storage.Dialect);
        // On a table this small PostgreSQL would rather read it whole; forbidding that shows whether the
        // partial index can serve the query at all (its predicate must follow from the query's).
        explain.CommandText = storage.Dialect is PostgresDialect ? $"SET enable_seqscan = off; EXPLAIN {query}" : $"EXPLAIN QUERY PLAN {query}";
        var plan = new List<string>();
        await using (var reader = await explain.ExecuteReaderAsync())
        {
            while (await reader.ReadAsync())
            {
                plan.Add(Convert.ToString(reader.GetValue(reader.FieldCount - 1), System.Globalization.CultureInfo.InvariantCulture)!);
            }
        }

        Assert.Contains(plan, line => line.Contains("ix_audit_batches_unsuccessful", StringComparison.Ordinal));
    }

    /// <summary>One batch per array (its own append), records in order, chained from record 1.</summary>
    private async Task AppendBatchesAsync(params AuditOutcome[][] batches)
    {
        var prev = AuditRecord.GenesisHash.ToArray();
        var sequence = 1L;
        foreach (var outcomes in batches)
        {
            var records = Chain(prev, sequence, [.. outcomes.Select(o => new AuditEvent { Action = "xks.encrypt", Outcome = o })]);
            await Audit.AppendAsync(records, null);
            prev = records[^1].Hash;
            sequence += records.Length;
        }
    }

    private async Task<List<(long FirstSeq, long Outcomes)>> BatchMasksAsync()
    {
        await using var connection = await ((CofferStorage)Store.Lifetime).OpenConnectionAsync(default);
        await using var command = connection.CreateCommand();
        command.CommandText = "SELECT first_seq, outcomes FROM audit_batches ORDER BY first_seq";
        await using var reader = await command.ExecuteReaderAsync();
        var masks = new List<(long, long)>();
        while (await reader.ReadAsync())
        {
            masks.Add((reader.GetInt64(0), Convert.ToInt64(reader.GetValue(1), System.Globalization.CultureInfo.InvariantCulture)));
        }

        return masks;
    }

    private async Task ExecuteAsync(string sql)
    {
        await using DbConnection connection = await ((CofferStorage)Store.Lifetime).OpenConnectionAsync(default);
        await using var command = connection.CreateCommand();
        command.CommandText = sql;
        await command.ExecuteNonQueryAsync();
    }
}
