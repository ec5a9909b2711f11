using System.Globalization;
using System.Text;

namespace Coffer.Audit;

/// <summary>An <see cref="AuditReport"/> as Markdown for people: the statement first, then per key.</summary>
public static class AuditReportMarkdown
{
    public static string Render(AuditReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        var md = new StringBuilder();
        md.AppendLine("# Coffer key usage report").AppendLine();
        md.AppendLine(Invariant($"Period: {Time(report.From)} to {Time(report.To)} (UTC). Generated {Time(report.GeneratedAt)}.")).AppendLine();
        md.AppendLine("**Regions:** " + Cell(report.RegionStatement)).AppendLine();
        md.AppendLine("**Audit chain:** " + Cell(report.ChainStatus)).AppendLine();
        md.AppendLine("**Archived records:** " + Cell(report.Archived.Statement)).AppendLine();
        md.AppendLine(Invariant($"{report.Records} records in the period: {report.XksCalls.Calls} XKS calls ({report.XksCalls}), {report.Changes.Count} management and seal changes, {report.FailedLogins} failed management logins, {report.UnauthenticatedRequests} XKS requests refused before authentication.")).AppendLine();

        md.AppendLine("## Keys").AppendLine();
        if (report.Keys.Count == 0)
        {
            md.AppendLine("No key was used in this period.").AppendLine();
        }

        foreach (var key in report.Keys)
        {
            md.AppendLine(Invariant($"### Key {Named(key.KeyName, key.KeyId)} in key store {Named(key.KeyStoreName, key.KeyStoreId ?? "-")}")).AppendLine();
            md.AppendLine(Invariant($"{key.Calls.Calls} calls: {key.Calls}.")).AppendLine();
            Table(md, "Operation", key.ByOperation);
            Table(md, "AWS region", key.ByRegion);
            Table(md, "AWS account", key.ByAccount);
            Table(md, "Principal", key.ByPrincipal);
            if (key.Denials.Count > 0)
            {
                md.AppendLine("| Refused by rule | calls |").AppendLine("|---|---:|");
                foreach (var (rule, count) in key.Denials.OrderByDescending(c => c.Value).ThenBy(c => c.Key, StringComparer.Ordinal))
                {
                    md.AppendLine(Invariant($"| {Cell(rule)} | {count} |"));
                }

                md.AppendLine();
            }
        }

        md.AppendLine("## Changes").AppendLine();
        if (report.Changes.Count == 0)
        {
            md.AppendLine("No management or seal change in this period.").AppendLine();
        }
        else
        {
            md.AppendLine("| seq | time | action | outcome | by | key store | key | details |").AppendLine("|---:|---|---|---|---|---|---|---|");
            foreach (var c in report.Changes)
            {
                md.AppendLine(Invariant($"| {c.Sequence} | {Time(c.Time)} | {Cell(c.Action)} | {Cell(c.Outcome)} | {Cell(c.Actor ?? "-")} | {Cell(c.KeyStore ?? "-")} | {Cell(c.KeyId ?? "-")} | {Cell(c.Details ?? "")} |"));
            }

            md.AppendLine();
        }

        return md.ToString();
    }

    private static void Table(StringBuilder md, string title, IReadOnlyDictionary<string, AuditCallCounts> counts)
    {
        md.AppendLine(Invariant($"| {title} | served | refused | failed |")).AppendLine("|---|---:|---:|---:|");
        foreach (var (name, count) in counts.OrderByDescending(c => c.Value.Calls).ThenBy(c => c.Key, StringComparer.Ordinal))
        {
            md.AppendLine(Invariant($"| {Cell(name)} | {count.Served} | {count.Refused} | {count.Failed} |"));
        }

        md.AppendLine();
    }

    // "alpha (id key_123)"; a name Coffer no longer knows (a deleted key store) shows the id alone.
    private static string Named(string? name, string id) => name is null ? Invariant($"(id {Cell(id)})") : Invariant($"{Cell(name)} (id {Cell(id)})");

    // Values come from callers (principal ARNs, request details): they must not break out of a cell
    // or start Markdown of their own.
    private static string Cell(string text)
    {
        var cell = new StringBuilder(text.Length);
        foreach (var c in text)
        {
            switch (c)
            {
                case '|' or '\\' or '`' or '*' or '_' or '[' or ']' or '<' or '>' or '#':
                    cell.Append('\\').Append(c);
                    break;
                case '\r' or '\n':
                    cell.Append(' ');
                    break;
                default:
                    cell.Append(c);
                    break;
            }
        }

        return cell.ToString();
    }

    private static string Time(DateTimeOffset t) => t.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);
}
