using Coffer.Audit;
using System.Data.Common;

namespace Coffer.Storage.Repositories;

/// <summary>
/// An <see cref="AuditQuery"/> over stored audit batches: SQL that rules batches out, then an exact test
/// of each record of the batches left.
/// </summary>
/// <remarks>
/// Time and key are the common audit questions and have indexes (the batch's time, audit_batch_keys), and
/// so do refusals and failures (<see cref="AuditBatchOutcomes"/>).
/// Every other filter becomes a byte search for the field's canonical encoding (u32be length and UTF-8)
/// in the batch's records blob: no plain batch is decoded unless one of its records may match. A packed
/// batch (docs/audit-storage.md) cannot be searched in SQL, so it is always decoded and tested. The search can
/// also hit another field with the same value, which is why <see cref="Matches"/> decides in the end.
/// </remarks>
internal static class AuditBatchFilter
{
    /// <summary>The first sequence numbers of the batches that may hold a match, newest first; the
    /// filters the query sets pick the clauses (parameters only, never text from the query).</summary>
    /// <param name="below">Only batches before this one (the pages before were read).</param>
    /// <param name="take">At most this many.</param>
    public static string Build(AuditQuery query, long? below, int take, DbCommand command, SqlDialect dialect)
    {
        var where = new List<string>();
        void Add(string clause, string name, object? value)
        {
            if (value is not null)
            {
                where.Add(clause);
                CommandParameters.Add(command, name, value);
            }
        }

        Add("first_seq < @Before", "@Before", query.Before);
        Add("first_seq < @Below", "@Below", below);
        Add("time >= @From", "@From", DbValues.Time(query.From));
        Add("time < @To", "@To", DbValues.Time(query.To));
        // The bounds again inside: a later page then reads the key's index from its bound on, not from
        // its newest entry (docs/audit-storage.md, "The key index on PostgreSQL").
        var keyBounds = (query.Before is null ? "" : " AND first_seq < @Before") + (below is null ? "" : " AND first_seq < @Below");
        Add($"first_seq IN (SELECT first_seq FROM audit_batch_keys WHERE {dialect.BatchKeyColumn} = @KeyId{keyBounds})", "@KeyId",
            query.KeyId is { } keyId ? dialect.BatchKey(keyId) : null);
        // A refusal or failure: only the batches the outcome index names (the exact predicate first,
        // so the partial index serves), and of those the ones whose mask has it.
        if (query.Outcome is { } outcome && AuditBatchOutcomes.IsIndexed(outcome))
        {
            Add($"{AuditBatchOutcomes.Indexed} AND (outcomes & @OutcomeBit) <> 0", "@OutcomeBit", AuditBatchOutcomes.Bit(outcome));
        }

        var searched = SearchedFields(query);
        for (var i = 0; i < searched.Count; i++)
        {
            // A packed blob cannot be searched in SQL: it stays a candidate, searched once unpacked.
            Add($"(substr(records, 1, 1) = @Packed OR {dialect.ContainsBytes("records", $"@Field{i}")})", $"@Field{i}", searched[i]);
        }

        if (searched.Count > 0)
        {
            CommandParameters.Add(command, "@Packed", new[] { AuditBatchBlob.PackedFormat });
        }

        return "SELECT first_seq FROM audit_batches" +
            (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) + " ORDER BY first_seq DESC LIMIT " + take.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The canonical encodings (<c>str()</c>) of the filters without an index: a batch none of
    /// whose records match lacks at least one of them in its plain records blob.</summary>
    public static IReadOnlyList<byte[]> SearchedFields(AuditQuery query)
    {
        string?[] searched =
        [
            query.KeyStore, query.Actor, query.Action, query.Outcome is { } outcome ? AuditOutcomes.ToText(outcome) : null,
            query.KmsRequestId, query.AwsRegion, query.AwsAccount,
        ];
        return [.. searched.OfType<string>().Select(AuditCanonical.EncodeText)];
    }

    /// <summary>Whether a record of such a batch matches every filter exactly.</summary>
    public static bool Matches(AuditQuery query, AuditRecord record) => query.Matches(record);
}
