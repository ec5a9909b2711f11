namespace Coffer.Server.Audit.Retention;

/// <summary>
/// Automatic retention (docs/audit-retention.md): on a schedule, the leader moves the records older than
/// <see cref="MaxAgeDays"/> into a signed archive in <c>Audit.ArchiveDirectory</c> and removes them from
/// the live log. Off while <see cref="MaxAgeDays"/> is null.
/// </summary>
public sealed class AuditRetentionOptions
{
    /// <summary>Records older than this many days are archived; null (the default) keeps every record in
    /// the database until an administrator runs <c>coffer audit archive</c>.</summary>
    public int? MaxAgeDays { get; set; }

    /// <summary>How often the leader looks for records past their age; a run that failed is retried
    /// at the next one.</summary>
    public int IntervalMinutes { get; set; } = 60;

    internal bool Enabled => MaxAgeDays is not null;

    internal TimeSpan MaxAge => TimeSpan.FromDays(MaxAgeDays ?? 0);

    internal TimeSpan Interval => TimeSpan.FromMinutes(IntervalMinutes);
}
