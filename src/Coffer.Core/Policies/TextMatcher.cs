namespace Coffer.Policies;

/// <summary>
/// One matcher's values: exact strings, looked up without allocating, and <c>*</c> patterns tried in
/// order. An absent or empty request value never matches (a rule that names a VPC does not apply to
/// a call from no VPC).
/// </summary>
internal sealed class TextMatcher
{
    // Few values are compared in turn; many are hashed. (FrozenSet's span lookup allocates on some
    // of its small-set shapes, which the hot path must not.)
    private const int LinearLimit = 8;

    public const int MaxValueLength = 2048;

    private readonly string[] _few;
    private readonly HashSet<string>.AlternateLookup<ReadOnlySpan<char>>? _many;
    private readonly string[] _patterns;

    public TextMatcher(IEnumerable<string> exact, IEnumerable<string> patterns)
    {
        var distinct = exact.Distinct(StringComparer.Ordinal).ToArray();
        if (distinct.Length <= LinearLimit)
        {
            _few = distinct;
        }
        else
        {
            _few = [];
            _many = new HashSet<string>(distinct, StringComparer.Ordinal).GetAlternateLookup<ReadOnlySpan<char>>();
        }

        _patterns = [.. patterns];
    }

    /// <summary>A matcher of <paramref name="values"/>: those with a <c>*</c> are patterns, the rest exact.</summary>
    public static TextMatcher Of(IReadOnlyCollection<string> values) => new(
        values.Where(v => !v.Contains('*', StringComparison.Ordinal)),
        values.Where(v => v.Contains('*', StringComparison.Ordinal)));

    /// <summary>Whether <paramref name="value"/> may be matched on: 1 to <see cref="MaxValueLength"/>
    /// printable ASCII characters without spaces (the request's values are ASCII ids and ARNs).</summary>
    public static bool IsValue(string? value) =>
        !string.IsNullOrEmpty(value) && value.Length <= MaxValueLength && !value.Any(c => c is <= ' ' or > '~');

    public bool Matches(ReadOnlySpan<char> value)
    {
        if (value.IsEmpty)
        {
            return false;
        }

        foreach (var exact in _few)
        {
            if (value.SequenceEqual(exact))
            {
                return true;
            }
        }

        if (_many is { } many && many.Contains(value))
        {
            return true;
        }

        foreach (var pattern in _patterns)
        {
            if (Wildcard.IsMatch(pattern, value))
            {
                return true;
            }
        }

        return false;
    }
}

/// <summary><c>*</c> matches any run of characters (none included); everything else matches itself,
/// case-sensitively, as in IAM policies. No regular expressions: nothing to validate beyond the
/// characters, and no pattern can make matching slow (linear with one back-track point).</summary>
internal static class Wildcard
{
    public static bool IsMatch(ReadOnlySpan<char> pattern, ReadOnlySpan<char> text)
    {
        int p = 0, t = 0, star = -1, mark = 0;
        while (t < text.Length)
        {
            if (p < pattern.Length && pattern[p] == '*')
            {
                star = p++;
                mark = t;
            }
            else if (p < pattern.Length && pattern[p] == text[t])
            {
                p++;
                t++;
            }
            else if (star >= 0)
            {
                p = star + 1;
                t = ++mark;
            }
            else
            {
                return false;
            }
        }

        while (p < pattern.Length && pattern[p] == '*')
        {
            p++;
        }

        return p == pattern.Length;
    }
}
