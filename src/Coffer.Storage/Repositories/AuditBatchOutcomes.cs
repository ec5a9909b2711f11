using Coffer.Audit;

namespace Coffer.Storage.Repositories;

/// <summary>
/// audit_batches.outcomes: a bit mask of the outcomes among a batch's records (migration 0022), so a
/// search for refused or failed calls reads only the batches that hold one, through a partial index,
/// instead of unpacking every batch in its range (docs/audit-storage.md, "Searching by outcome").
/// </summary>
/// <remarks>Only refusals and failures are indexed: nearly every batch holds a success, so a search for
/// those gains nothing from the mask and keeps the byte search of <see cref="AuditBatchFilter"/>.</remarks>
internal static class AuditBatchOutcomes
{
    /// <summary>The mask of a batch stored before the column existed, or split by an archive run: it may
    /// hold any outcome. The migrations' default; every search reads such a batch.</summary>
    public const int Unknown = 15;

    /// <summary>The partial index's predicate, word for word: SQLite uses a partial index only for a query
    /// that repeats its WHERE term exactly.</summary>
    public const string Indexed = "(outcomes & 6) <> 0";

    public static int Bit(AuditOutcome outcome) => 1 << (int)outcome;

    /// <summary>Whether the index names every batch that holds <paramref name="outcome"/>.</summary>
    public static bool IsIndexed(AuditOutcome outcome) => outcome is AuditOutcome.Denied or AuditOutcome.Error;
}
