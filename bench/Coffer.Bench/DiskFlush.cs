using System.Diagnostics;
using Microsoft.Win32.SafeHandles;

namespace Coffer.Bench;

/// <summary>
/// How long this disk takes to make a small write durable: what every audited XKS call waits for at
/// least once (the audit record is fsync'd before the answer). Measured on the filesystem of
/// Coffer's data directory, as SQLite commits a WAL frame: write 4 KiB into a file that already has its
/// blocks, then fsync — the cheapest durable write there is, so the result is a floor.
/// </summary>
public static class DiskFlush
{
    private const int BlockSize = 4096;
    private const int Blocks = 256;

    public readonly record struct Result(int Count, double MeanMs, double P50Ms, double P90Ms);

    public static Result Measure(string directory, int count = 400)
    {
        var path = Path.Combine(directory, "disk-flush-probe");
        try
        {
            using var file = File.OpenHandle(path, FileMode.Create, FileAccess.ReadWrite, FileShare.None, FileOptions.None, preallocationSize: BlockSize * Blocks);
            var block = new byte[BlockSize];
            Random.Shared.NextBytes(block);
            for (var i = 0; i < Blocks; i++) RandomAccess.Write(file, block, (long)i * BlockSize);
            RandomAccess.FlushToDisk(file); // every block written and allocated before timing

            var times = new double[count];
            for (var i = 0; i < count; i++)
            {
                var started = Stopwatch.GetTimestamp();
                RandomAccess.Write(file, block, (long)(i % Blocks) * BlockSize);
                RandomAccess.FlushToDisk(file);
                times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
            }

            Array.Sort(times);
            return new Result(count, times.Average(), times[count / 2], times[count * 9 / 10]);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
