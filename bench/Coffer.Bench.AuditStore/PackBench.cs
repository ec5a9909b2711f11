using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.IO.Compression;
using Coffer.Audit;
using Coffer.Storage.Repositories;

/// <summary>
/// Packing alone (Coffer.Bench.AuditStore --pack): what Brotli costs the audit writer per batch, by batch
/// size and quality, with no database. Each row packs the same batches of XKS records over and over on one
/// thread: bytes of the records blob per record, and wall µs per batch (median of several passes, the
/// machine being shared), next to the shipped <see cref="AuditBatchBlob.Pack"/>. docs/audit-storage.md
/// keeps the table.
/// </summary>
internal static class PackBench
{
    private const int Window = 22;

    public static int Run(int[] sizes, double seconds)
    {
        Console.WriteLine($"# Coffer audit packing — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPU(s)");
        Console.WriteLine();
        Console.WriteLine("Per batch: bytes of the records blob per record, then wall µs to pack one batch (median of 5 passes).");
        Console.WriteLine();
        Console.WriteLine("| records per batch | plain | shipped Pack | " + string.Join(" | ", Enumerable.Range(0, 7).Select(q => $"Brotli {q}")) + " |");
        Console.WriteLine("|---:|---:|---:|" + string.Concat(Enumerable.Repeat("---:|", 7)));
        foreach (var size in sizes)
        {
            var batches = Batches(size, 64);
            var plainBytes = batches.Average(b => b.Length) / size;
            var shipped = Measure(batches, seconds, plain =>
            {
                var buffer = new ArrayBufferWriter<byte>(plain.Length);
                return AuditBatchBlob.Pack(plain, buffer).Length;
            });
            var cells = Enumerable.Range(0, 7).Select(quality => Measure(batches, seconds, plain =>
            {
                var output = new byte[plain.Length + 64];
                return BrotliEncoder.TryCompress(plain, output, out var written, quality, Window) ? written + 5 : plain.Length;
            }));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"| {size} | {plainBytes:0} B | {Cell(shipped, size)} | {string.Join(" | ", cells.Select(c => Cell(c, size)))} |"));
        }

        return 0;
    }

    private static string Cell((double Bytes, double Micros) cell, int size) =>
        string.Create(CultureInfo.InvariantCulture, $"{cell.Bytes / size:0} B, {cell.Micros:0.0} µs");

    // (mean stored bytes per batch, median wall µs per batch over 5 passes).
    private static (double Bytes, double Micros) Measure(byte[][] batches, double seconds, Func<byte[], int> pack)
    {
        var bytes = batches.Average(b => (double)pack(b)); // also the warm-up of this row
        for (var warm = Stopwatch.StartNew(); warm.Elapsed.TotalSeconds < seconds / 5;)
        {
            pack(batches[0]);
        }

        var passes = new double[5];
        for (var p = 0; p < passes.Length; p++)
        {
            long count = 0;
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed.TotalSeconds < seconds / passes.Length)
            {
                pack(batches[count++ % batches.Length]);
            }

            passes[p] = clock.Elapsed.TotalMicroseconds / count;
        }

        Array.Sort(passes);
        return (bytes, passes[passes.Length / 2]);
    }

    // Plain records blobs of `count` batches of `size` chained XKS records, as the writer builds them.
    private static byte[][] Batches(int size, int count)
    {
        var head = AuditHead.Empty;
        var now = DateTimeOffset.UtcNow;
        var result = new byte[count][];
        for (var b = 0; b < count; b++)
        {
            var bodies = new ArrayBufferWriter<byte>();
            var hashes = new ArrayBufferWriter<byte>();
            var previous = head.Hash;
            for (var i = 1; i <= size; i++)
            {
                var record = AuditRecord.Create(BenchEvents.Xks(head.Sequence + i), head.Sequence + i, now, "node-1", previous);
                AuditBatchBlob.Append(bodies, hashes, record);
                previous = record.Hash;
            }

            head = new AuditHead(head.Sequence + size, previous);
            result[b] = bodies.WrittenSpan.ToArray();
        }

        return result;
    }
}
