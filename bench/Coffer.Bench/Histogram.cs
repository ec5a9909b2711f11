namespace Coffer.Bench;

/// <summary>
/// Tiny HDR-style latency histogram in nanoseconds: exact below 256 ns, then 128 linear
/// sub-buckets per power of two (relative error below 0.8 %). One per worker, merged at the end,
/// so recording is a couple of integer ops and never contends or allocates.
/// </summary>
public sealed class Histogram
{
    private const int SubBits = 7;
    private const int Sub = 1 << SubBits;           // 128
    private readonly long[] _counts = new long[2 * Sub + (64 * Sub)];

    public long Count { get; private set; }
    public long MaxNs { get; private set; }

    public void Record(long ns)
    {
        if (ns < 0) ns = 0;
        _counts[Index(ns)]++;
        Count++;
        if (ns > MaxNs) MaxNs = ns;
    }

    public void Add(Histogram other)
    {
        for (var i = 0; i < _counts.Length; i++) _counts[i] += other._counts[i];
        Count += other.Count;
        MaxNs = Math.Max(MaxNs, other.MaxNs);
    }

    /// <summary>For a child process's result file: [max, index, count, index, count, ...].</summary>
    public long[] ToSparse()
    {
        var list = new List<long> { MaxNs };
        for (var i = 0; i < _counts.Length; i++)
            if (_counts[i] != 0) { list.Add(i); list.Add(_counts[i]); }
        return [.. list];
    }

    public static Histogram FromSparse(long[] sparse)
    {
        var h = new Histogram { MaxNs = sparse[0] };
        for (var i = 1; i + 1 < sparse.Length; i += 2)
        {
            h._counts[sparse[i]] += sparse[i + 1];
            h.Count += sparse[i + 1];
        }
        return h;
    }

    /// <summary>Value at quantile q (0..1), as the upper edge of its bucket (conservative).</summary>
    public long PercentileNs(double q)
    {
        if (Count == 0) return 0;
        var rank = (long)Math.Ceiling(q * Count);
        if (rank < 1) rank = 1;
        long seen = 0;
        for (var i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank) return Math.Min(UpperEdge(i), MaxNs);
        }
        return MaxNs;
    }

    private static int Index(long v)
    {
        if (v < 2 * Sub) return (int)v;
        var msb = 63 - (int)long.LeadingZeroCount(v);   // >= 8
        var shift = msb - SubBits;                 // >= 1
        var top = (int)(v >> shift);               // in [128, 255]
        return 2 * Sub + ((shift - 1) * Sub) + (top - Sub);
    }

    private static long UpperEdge(int index)
    {
        if (index < 2 * Sub) return index;
        var rel = index - (2 * Sub);
        var shift = (rel / Sub) + 1;
        var top = (long)((rel % Sub) + Sub);
        return ((top + 1) << shift) - 1;
    }
}
