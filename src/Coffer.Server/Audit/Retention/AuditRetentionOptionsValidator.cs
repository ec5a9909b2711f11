using Coffer.Server.Hosting;
using Microsoft.Extensions.Options;

namespace Coffer.Server.Audit.Retention;

/// <summary>Automatic retention (<see cref="AuditRetentionOptions"/>) and the archive directory it writes to.</summary>
internal sealed class AuditRetentionOptionsValidator : IValidateOptions<CofferOptions>
{
    /// <summary>A hundred years: a longer age is a typo, not a policy.</summary>
    private const int MostDays = 36_500;

    /// <summary>A week: a longer pause lets the live log grow far past its age between runs.</summary>
    private const int MostMinutes = 7 * 24 * 60;

    public ValidateOptionsResult Validate(string? name, CofferOptions options)
    {
        var retention = options.Audit.Retention;
        var problems = new OptionsProblems();
        problems.Require(options.Audit.ArchiveDirectory is null || !string.IsNullOrWhiteSpace(options.Audit.ArchiveDirectory),
            "Audit:ArchiveDirectory must name a directory, or be left out for audit-archives in the data directory.");
        problems.Require(retention.MaxAgeDays is null or (>= 1 and <= MostDays),
            $"Audit:Retention:MaxAgeDays must be 1..{MostDays} (days a record stays in the live log), or be left out to archive only on request; not {retention.MaxAgeDays}.");
        problems.Require(retention.IntervalMinutes is >= 1 and <= MostMinutes,
            $"Audit:Retention:IntervalMinutes must be 1..{MostMinutes}, not {retention.IntervalMinutes}.");
        return problems.Result;
    }
}
