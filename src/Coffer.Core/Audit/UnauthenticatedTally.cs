using System.Globalization;

namespace Coffer.Audit;

/// <summary>
/// The details of an <see cref="AuditActions.XksUnauthenticated"/> record: how many requests from one
/// source, to one key store, failed for one reason before they authenticated, over which span, with a
/// few samples. Written and read here only, so the compliance report counts requests, not records.
/// </summary>
/// <remarks>Layout: <c>count=N first=TIME last=TIME samples: S1 | S2</c> (docs/formats.md).</remarks>
public static class UnauthenticatedTally
{
    private const string CountPrefix = "count=";

    public static string Details(long count, DateTimeOffset first, DateTimeOffset last, IEnumerable<string> samples) =>
        string.Create(CultureInfo.InvariantCulture,
            $"{CountPrefix}{count} first={first.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} last={last.UtcDateTime:yyyy-MM-ddTHH:mm:ss.fffZ} samples: {string.Join(" | ", samples)}");

    /// <summary>The requests a record stands for: its count, or 1 when its details carry none.</summary>
    public static long CountOf(string? details)
    {
        if (details is null || !details.StartsWith(CountPrefix, StringComparison.Ordinal))
        {
            return 1;
        }

        var digits = details.AsSpan(CountPrefix.Length);
        var end = digits.IndexOf(' ');
        return long.TryParse(end < 0 ? digits : digits[..end], NumberStyles.None, CultureInfo.InvariantCulture, out var count) && count > 0
            ? count
            : 1;
    }
}
