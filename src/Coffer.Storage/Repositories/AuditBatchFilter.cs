using Coffer.Audit;
using System.Data.Common;

namespace Coffer.Storage.Repositories;

/// <summary>
/// An <see cref="AuditQuery"/> over stored audit batches: SQL that rules batches out, then an exact test
/// of each record of the batches left.
/// </summary>
/// <remarks>
/// Time and key are the common audit questions and have indexes (the batch's time, audit_batch_keys).
/// Every other filter becomes a byte search for the field's canonical encoding (u32be length and UTF-8)
/// in the batch's records blob: no batch is decoded unless one of its records may match. The search can
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
        Add("first_seq IN (SELECT first_seq FROM audit_batch_keys WHERE key_id = @KeyId)", "@KeyId", query.KeyId);
        string?[] searched =
        [
            query.KeyStore, query.Actor, query.Action, query.Outcome is { } outcome ? AuditOutcomes.ToText(outcome) : null,
            query.KmsRequestId, query.AwsRegion, query.AwsAccount,
        ];
        for (var i = 0; i < searched.Length; i++)
        {
            Add(dialect.ContainsBytes("records", $"@Field{i}"), $"@Field{i}", searched[i] is { } text ? AuditCanonical.EncodeText(text) : null);
        }

        return "SELECT first_seq FROM audit_batches" +
            (where.Count == 0 ? "" : " WHERE " + string.Join(" AND ", where)) + " ORDER BY first_seq DESC LIMIT " + take.ToString(System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>Whether a record of such a batch matches every filter exactly.</summary>
    public static bool Matches(AuditQuery query, AuditRecord record) => query.Matches(record);
}
