using System.Globalization;

namespace Coffer.Audit;

/// <summary>
/// A compliance summary of a time range of the audit log: for each key, who used it from
/// which AWS region, account and principal, with which operations; the denials and their rules; the
/// management changes and who made them; and whether any use came from outside the allowed regions.
/// Every count of calls says how many were served and how many refused (<see cref="AuditCallCounts"/>).
/// </summary>
/// <param name="Format">The version of this shape (docs/audit.md): <see cref="CurrentFormat"/>.</param>
/// <param name="ChainStatus">What verify said about the whole chain when the report was made.</param>
/// <param name="Archived">Whether the archived records of the period are counted, and which.</param>
/// <param name="RegionStatement">The plain answer to "did any use come from outside the allowed regions?".</param>
/// <param name="UnauthenticatedRequests">XKS requests refused before they authenticated (counted per source
/// in <see cref="AuditActions.XksUnauthenticated"/> records): no key was used, so they are no calls.</param>
public sealed record AuditReport(
    string Format,
    DateTimeOffset From,
    DateTimeOffset To,
    DateTimeOffset GeneratedAt,
    string ChainStatus,
    AuditReportArchives Archived,
    IReadOnlyList<string>? AllowedRegions,
    long Records,
    AuditCallCounts XksCalls,
    AuditCallCounts CallsOutsideAllowedRegions,
    AuditCallCounts CallsWithoutRegion,
    string RegionStatement,
    IReadOnlyDictionary<string, AuditCallCounts> CallsByRegion,
    IReadOnlyList<AuditKeyUsage> Keys,
    IReadOnlyList<AuditChange> Changes,
    long FailedLogins,
    long UnauthenticatedRequests)
{
    /// <summary>v2: counts split into served and refused, keys named, archives accounted for.</summary>
    public const string CurrentFormat = "coffer-audit-report-v2";
}

/// <summary>
/// XKS calls by how they ended: <see cref="Served"/> (answered), <see cref="Refused"/> (denied by an
/// access rule or a kill switch) or <see cref="Failed"/> (answered with another error: nothing was
/// served either). A use of a key is a served call; a refused one is the control working.
/// </summary>
public sealed record AuditCallCounts(long Served, long Refused, long Failed)
{
    public static readonly AuditCallCounts None = new(0, 0, 0);

    public long Calls => Served + Refused + Failed;

    /// <summary>"2 served, 3 refused" (and ", 1 failed" when any did): how the report's sentences and tables say it.</summary>
    public override string ToString() => Failed == 0
        ? string.Create(CultureInfo.InvariantCulture, $"{Served} served, {Refused} refused")
        : string.Create(CultureInfo.InvariantCulture, $"{Served} served, {Refused} refused, {Failed} failed");
}

/// <param name="KeyStoreName">The key store's name, or null when it no longer exists.</param>
/// <param name="KeyName">The key's externalKeyId (the name AWS KMS knows it by), or null when unknown.</param>
/// <param name="Denials">Refused calls by rule (the record's reason, else its error name).</param>
public sealed record AuditKeyUsage(
    string? KeyStoreId,
    string? KeyStoreName,
    string KeyId,
    string? KeyName,
    AuditCallCounts Calls,
    IReadOnlyDictionary<string, AuditCallCounts> ByOperation,
    IReadOnlyDictionary<string, AuditCallCounts> ByRegion,
    IReadOnlyDictionary<string, AuditCallCounts> ByAccount,
    IReadOnlyDictionary<string, AuditCallCounts> ByPrincipal,
    IReadOnlyDictionary<string, long> Denials);

/// <summary>A management or seal change with its outcome (the "requested" half is left out).</summary>
public sealed record AuditChange(long Sequence, DateTimeOffset Time, string Action, string Outcome, string? Actor, string? KeyStore, string? KeyId, string? Details);

/// <summary>The names the report gives ids (records hold ids only): key store id → name, key id → externalKeyId.</summary>
public sealed record AuditReportNames(IReadOnlyDictionary<string, string> KeyStores, IReadOnlyDictionary<string, string> Keys);

/// <param name="Statement">Plainly: whether archived records of the period are in the counts, and if not, which and why.</param>
/// <param name="Archives">The archives the period reaches, each included or not.</param>
public sealed record AuditReportArchives(string Statement, IReadOnlyList<AuditReportArchive> Archives);

/// <param name="Included">Its file was found and verified, and its records of the period are counted.</param>
/// <param name="Statement">What became of it, in a sentence.</param>
public sealed record AuditReportArchive(long FirstSequence, long ThroughSequence, string FileName, bool Included, string Statement);

/// <summary>Builds an <see cref="AuditReport"/> from records in any order. Pure; not thread-safe.</summary>
public sealed class AuditReportBuilder(DateTimeOffset from, DateTimeOffset to, IReadOnlyList<string>? allowedRegions)
{
    private const string Unknown = "(none)";

    private readonly Dictionary<(string? Store, string Key), KeyCounts> _keys = [];
    private readonly Dictionary<string, Tally> _regions = new(StringComparer.Ordinal);
    private readonly List<AuditChange> _changes = [];
    private readonly HashSet<string>? _allowed = allowedRegions is null ? null : new HashSet<string>(allowedRegions, StringComparer.Ordinal);
    private readonly Tally _xks = new();
    private readonly Tally _outside = new();
    private readonly Tally _noRegion = new();
    private long _failedLogins;
    private long _unauthenticated;

    /// <summary>Records of the period added so far (the others are ignored).</summary>
    public long Records { get; private set; }

    /// <summary>The key stores and keys the report names, for <see cref="AuditReportNames"/>.</summary>
    public IEnumerable<(string? KeyStoreId, string KeyId)> KeyIds => _keys.Keys;

    public void Add(AuditRecord record)
    {
        ArgumentNullException.ThrowIfNull(record);
        if (record.Time < from || record.Time >= to)
        {
            return;
        }

        Records++;
        var e = record.Event;
        if (e.Action == AuditActions.AuthFailed)
        {
            _failedLogins++;
        }
        else if (e.Action == AuditActions.XksUnauthenticated)
        {
            _unauthenticated += UnauthenticatedTally.CountOf(e.Details);
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

    public AuditReport Build(DateTimeOffset generatedAt, string chainStatus, AuditReportArchives archived, AuditReportNames names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var keys = _keys
            .OrderBy(k => k.Key.Store, StringComparer.Ordinal).ThenBy(k => k.Key.Key, StringComparer.Ordinal)
            .Select(k => new AuditKeyUsage(k.Key.Store, k.Key.Store is null ? null : names.KeyStores.GetValueOrDefault(k.Key.Store),
                k.Key.Key, names.Keys.GetValueOrDefault(k.Key.Key), k.Value.Calls.Counts,
                Sorted(k.Value.ByOperation), Sorted(k.Value.ByRegion), Sorted(k.Value.ByAccount), Sorted(k.Value.ByPrincipal),
                new SortedDictionary<string, long>(k.Value.Denials, StringComparer.Ordinal)))
            .ToList();
        return new AuditReport(AuditReport.CurrentFormat, from, to, generatedAt, chainStatus, archived, allowedRegions, Records,
            _xks.Counts, _outside.Counts, _noRegion.Counts, Statement(), Sorted(_regions), keys, [.. _changes.OrderBy(c => c.Sequence)], _failedLogins, _unauthenticated);
    }

    private void AddXks(AuditEvent e)
    {
        var outcome = e.Outcome;
        _xks.Add(outcome);
        var region = e.AwsRegion ?? Unknown;
        Count(_regions, region, outcome);
        if (e.AwsRegion is null)
        {
            // Health checks carry no key ARN; any other call without one cannot be placed.
            if (e.Action != AuditActions.XksHealth)
            {
                _noRegion.Add(outcome);
            }
        }
        else if (_allowed is not null && !_allowed.Contains(e.AwsRegion))
        {
            _outside.Add(outcome);
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

        counts.Calls.Add(outcome);
        Count(counts.ByOperation, e.Action, outcome);
        Count(counts.ByRegion, region, outcome);
        Count(counts.ByAccount, e.AwsAccount ?? Unknown, outcome);
        Count(counts.ByPrincipal, e.AwsPrincipalArn ?? Unknown, outcome);
        if (outcome == AuditOutcome.Denied)
        {
            var rule = e.Reason ?? e.ErrorName ?? Unknown;
            counts.Denials[rule] = counts.Denials.GetValueOrDefault(rule) + 1;
        }
    }

    private string Statement()
    {
        var unplaced = _noRegion.Calls == 0 ? string.Empty
            : Invariant($" {_noRegion.Calls} calls named no region (no valid kmsKeyArn), so they cannot be placed: {_noRegion.Counts}.");
        if (_allowed is null)
        {
            var seen = Regions(_ => true);
            return (seen.Length == 0 ? "No XKS key call in this period." : "No allowed-region list was given. Calls came from: " + seen + ".") + unplaced;
        }

        var allowed = string.Join(", ", _allowed.Order(StringComparer.Ordinal));
        if (_outside.Calls == 0)
        {
            return $"No use came from outside the allowed regions ({allowed})." + unplaced;
        }

        return Invariant($"{_outside.Calls} calls came from outside the allowed regions ({allowed}): {_outside.Counts}. By region: {Regions(r => !_allowed.Contains(r))}.") + unplaced;
    }

    // "eu-west-1 (2 served, 0 refused), us-east-1 (0 served, 3 refused)"
    private string Regions(Func<string, bool> which) =>
        string.Join(", ", _regions.Where(r => r.Key != Unknown && which(r.Key)).OrderBy(r => r.Key, StringComparer.Ordinal)
            .Select(r => Invariant($"{r.Key} ({r.Value.Counts})")));

    private static void Count(Dictionary<string, Tally> tallies, string key, AuditOutcome outcome)
    {
        if (!tallies.TryGetValue(key, out var tally))
        {
            tally = new Tally();
            tallies.Add(key, tally);
        }

        tally.Add(outcome);
    }

    private static SortedDictionary<string, AuditCallCounts> Sorted(Dictionary<string, Tally> tallies) =>
        new(tallies.ToDictionary(t => t.Key, t => t.Value.Counts, StringComparer.Ordinal), StringComparer.Ordinal);

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    // XKS records are ok (served), denied (refused) or error (failed); "requested" is for management changes only.
    private sealed class Tally
    {
        private long _served;
        private long _refused;
        private long _failed;

        public long Calls => _served + _refused + _failed;

        public AuditCallCounts Counts => new(_served, _refused, _failed);

        public void Add(AuditOutcome outcome)
        {
            switch (outcome)
            {
                case AuditOutcome.Ok:
                    _served++;
                    break;
                case AuditOutcome.Denied:
                    _refused++;
                    break;
                default:
                    _failed++;
                    break;
            }
        }
    }

    private sealed class KeyCounts
    {
        public Tally Calls { get; } = new();

        public Dictionary<string, Tally> ByOperation { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Tally> ByRegion { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Tally> ByAccount { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, Tally> ByPrincipal { get; } = new(StringComparer.Ordinal);

        public Dictionary<string, long> Denials { get; } = new(StringComparer.Ordinal);
    }
}
