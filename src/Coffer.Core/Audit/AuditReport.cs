using System.Globalization;

namespace Coffer.Audit;

/// <summary>
/// A compliance summary of a time range of the audit log (issue 4): for each key, who used it from
/// which AWS region, account and principal, with which operations; the denials and their rules; the
/// management changes and who made them; and whether any use came from outside the allowed regions.
/// </summary>
/// <param name="ChainStatus">What verify said about the whole chain when the report was made.</param>
/// <param name="RegionStatement">The plain answer to "did any use come from outside the allowed regions?".</param>
public sealed record AuditReport(
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset GeneratedAt,
    string ChainStatus,
    IReadOnlyList<string>? AllowedRegions,
    long Records,
    long XksCalls,
    long CallsOutsideAllowedRegions,
    long CallsWithoutRegion,
    string RegionStatement,
    IReadOnlyDictionary<string, long> CallsByRegion,
    IReadOnlyList<AuditKeyUsage> Keys,
    IReadOnlyList<AuditChange> Changes,
    long FailedLogins);

/// <param name="Denials">Denied calls by rule (the record's reason, else its error name).</param>
public sealed record AuditKeyUsage(
    string? KeyStore,
    string KeyId,
    long Calls,
    long Denied,
    long Errors,
    IReadOnlyDictionary<string, long> ByOperation,
    IReadOnlyDictionary<string, long> ByRegion,
    IReadOnlyDictionary<string, long> ByAccount,
    IReadOnlyDictionary<string, long> ByPrincipal,
    IReadOnlyDictionary<string, long> Denials);

/// <summary>A management or seal change with its outcome (the "requested" half is left out).</summary>
public sealed record AuditChange(long Sequence, DateTimeOffset Time, string Action, string Outcome, string? Actor, string? KeyStore, string? KeyId, string? Details);

/// <summary>Builds an <see cref="AuditReport"/> from records in any order. Pure; not thread-safe.</summary>
public sealed class AuditReportBuilder(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string>? allowedRegions)
{
    private const string Unknown = "(none)";

    private readonly Dictionary<(string? Store, string Key), KeyCounts> _keys = [];
    private readonly Dictionary<string, long> _regions = new(StringComparer.Ordinal);
    private readonly List<AuditChange> _changes = [];
    private readonly HashSet<string>? _allowed = allowedRegions is null ? null : new HashSet<string>(allowedRegions, StringComparer.Ordinal);
    private long _records;
    private long _xks;
    private long _outside;
    private long _noRegion;
    private long _failedLogins;

    public void Add(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Time < from || record.Time >= to)
        {
            return;
        }

        _records++;
        var e = record.Event;
        if (e.Action == AuditActions.AuthFailed)
        {
            _failedLogins++;
        }
        else if (e.Action.StartsWith("xks.", StringComparison.Ordinal))
        {
            AddXks(e);
        }
        else if (e.Outcome != AuditOutcome.Requested && e.Action != AuditActions.AuthLogin)
        {
            _changes.Add(new AuditChange(record.Sequence, record.Time, e.Action, AuditOutcomes.ToText(e.Outcome),
                e.ActorId ?? e.ActorKind, e.KeyStore, e.KeyId, e.Details));
        }
    }

    public AuditReport Build(DateTimeOffset generatedAt, string chainStatus)
    {
        var keys = _keys
            .OrderBy(k => k.Key.Store, StringComparer.Ordinal).ThenBy(k => k.Key.Key, StringComparer.Ordinal)
            .Select(k => new AuditKeyUsage(k.Key.Store, k.Key.Key, k.Value.Calls, k.Value.Denied, k.Value.Errors,
                Sorted(k.Value.ByOperation), Sorted(k.Value.ByRegion), Sorted(k.Value.ByAccount), Sorted(k.Value.ByPrincipal), Sorted(k.Value.Denials)))
            .ToList();
        return new AuditReport(from, to, generatedAt, chainStatus, allowedRegions, _records, _xks, _outside, _noRegion,
            Statement(), Sorted(_regions), keys, [.. _changes.OrderBy(c => c.Sequence)], _failedLogins);
    }

    private void AddXks(AuditEvent e)
    {
        _xks++;
        var region = e.AwsRegion ?? Unknown;
        Count(_regions, region);
        if (e.AwsRegion is null)
        {
            // Health checks carry no key ARN; any other call without one cannot be placed.
            if (e.Action != AuditActions.XksHealth)
            {
                _noRegion++;
            }
        }
        else if (_allowed is not null && !_allowed.Contains(e.AwsRegion))
        {
            _outside++;
        }

        if (e.KeyId is null)
        {
            return;
        }

        if (!_keys.TryGetValue((e.KeyStore, e.KeyId), out var counts))
        {
            counts = new KeyCounts();
            _keys.Add((e.KeyStore, e.KeyId), counts);
        }

        counts.Calls++;
        Count(counts.ByOperation, e.Action);
        Count(counts.ByRegion, region);
        Count(counts.ByAccount, e.AwsAccount ?? Unknown);
        Count(counts.ByPrincipal, e.AwsPrincipalArn ?? Unknown);
        if (e.Outcome == AuditOutcome.Denied)
        {
            counts.Denied++;
            Count(counts.Denials, e.Reason ?? e.ErrorName ?? Unknown);
        }
        else if (e.Outcome == AuditOutcome.Error)
        {
            counts.Errors++;
        }
    }

    private string Statement()
    {
        var seen = string.Join(", ", _regions.Where(r => r.Key != Unknown).OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key} ({r.Value})")));
        var unplaced = _noRegion == 0 ? string.Empty
            : string.Create(CultureInfo.InvariantCulture, $" {_noRegion} calls named no region (no valid kmsKeyArn), so they cannot be placed.");
        if (_allowed is null)
        {
            return (seen.Length == 0 ? "No XKS key call in this period." : "No allowed-region list was given. Calls came from: " + seen + ".") + unplaced;
        }

        var allowed = string.Join(", ", _allowed.Order(StringComparer.Ordinal));
        if (_outside == 0)
        {
            return $"No use came from outside the allowed regions ({allowed})." + unplaced;
        }

        var outside = string.Join(", ", _regions.Where(r => r.Key != Unknown && !_allowed.Contains(r.Key)).OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => string.Create(CultureInfo.InvariantCulture, $"{r.Key} ({r.Value})")));
        return string.Create(CultureInfo.InvariantCulture, $"{_outside} calls came from outside the allowed regions ({allowed}): {outside}.") + unplaced;
    }

    private static void Count(Dictionary<string, long> counts, string key) =>
        counts[key] = counts.TryGetValue(key, out var n) ? n + 1 : 1;

    private static SortedDictionary<string, long> Sorted(Dictionary<string, long> counts) => new(counts, StringComparer.Ordinal);

    private sealed class KeyCounts
    {
        public long Calls { get; set; }

        public long Denied { get; set; }

        public long Errors { get; set; }

        public Dictionary<string, long> ByOperation { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> ByRegion { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> ByAccount { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> ByPrincipal { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Denials { get; } = new(StringComparer.Ordinal);
    }
}
