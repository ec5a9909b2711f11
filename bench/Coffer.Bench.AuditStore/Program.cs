using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Storage.Sqlite;

// Coffer.Bench.AuditStore [--seconds 5] [--batches 10,30,100] [--dir /tmp]
// COFFER_BENCHMARK_AUDIT_UNPACKED=1 Coffer.Bench.AuditStore ...   (batches stored plain, as before packing)
// Coffer.Bench.AuditStore --pack [--batches 1,2,4,8,16,32,64] [--seconds 1]   (packing alone, no database: PackBench.cs)
// Coffer.Bench.AuditStore --log 300000 [--dir /tmp]      (listing and reading a large log: LargeLog.cs)
// Coffer.Bench.AuditStore --verify 10000000 [--append 100000] [--batch 100] [--dir /tmp]   (audit verify: VerifyLog.cs)
//
// What one audit record costs the audit writer, by group-commit size: the shipped SQLite store
// (its own file, migrations, WAL, synchronous=FULL) fed XKS-sized records in batches, each batch
// with its checkpoint, as AuditLog's writer does. Every batch size runs twice on a fresh database:
// once only making the records (canonical form, hash chain, checkpoint MAC) and once making and storing
// them; the difference is the store's own CPU per record. CPU is the whole process's (user +
// system, Environment.CpuUsage), so the kernel's share of the WAL writes and fsyncs is included.
var seconds = double.Parse(Arg("--seconds", "5"), CultureInfo.InvariantCulture);
var batches = Arg("--batches", "10,30,100").Split(',').Select(b => int.Parse(b, CultureInfo.InvariantCulture)).ToArray();
var root = Arg("--dir", Path.GetTempPath());
var log = long.Parse(Arg("--log", "0"), CultureInfo.InvariantCulture);
if (!(seconds > 0) || batches.Any(b => b < 1) || !Directory.Exists(root) || log < 0)
{
    Console.Error.WriteLine("usage: Coffer.Bench.AuditStore [--seconds S > 0] [--batches N,N,... each >= 1] [--dir EXISTING_DIRECTORY] [--log RECORDS >= 1000]");
    return 2;
}

if (log > 0)
{
    return await LargeLog.RunAsync(root, log);
}

if (args.Contains("--pack"))
{
    return PackBench.Run(batches, seconds);
}

if (args.Contains("--verify"))
{
    return await VerifyLog.RunAsync(root, long.Parse(Arg("--verify", "0"), CultureInfo.InvariantCulture),
        long.Parse(Arg("--append", "100000"), CultureInfo.InvariantCulture), int.Parse(Arg("--batch", "100"), CultureInfo.InvariantCulture));
}

Console.WriteLine($"# Coffer audit store — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPU(s), {seconds:0} s per row, data in {root}");
Console.WriteLine();
var packing = Environment.GetEnvironmentVariable(Coffer.Storage.Repositories.AuditBatchBlob.UnpackedEnvironmentVariable) == "1" ? "plain (packing off)" : "packed";
Console.WriteLine($"Batches stored {packing}.");
Console.WriteLine();
Console.WriteLine("| records per commit | records/s | wall µs per record | CPU µs per record | of which making records | of which the store | of which the kernel | ms per commit | bytes per record on disk |");
Console.WriteLine("|---:|---:|---:|---:|---:|---:|---:|---:|---:|");
foreach (var size in batches)
{
    var made = await MeasureAsync(size, store: false);
    var stored = await MeasureAsync(size, store: true);
    Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
        $"| {size} | {stored.Records / stored.Wall:0} | {stored.Wall / stored.Records * 1e6:0.0} | {stored.Cpu / stored.Records * 1e6:0.0} | " +
        $"{made.Cpu / made.Records * 1e6:0.0} | {(stored.Cpu / stored.Records - made.Cpu / made.Records) * 1e6:0.0} | {stored.Kernel / stored.Records * 1e6:0.0} | {stored.Wall / (stored.Records / size) * 1e3:0.00} | {stored.Bytes / (double)stored.Records:0} |"));
}

return 0;

async Task<(double Wall, double Cpu, double Kernel, long Records, long Bytes)> MeasureAsync(int size, bool store)
{
    var dir = Directory.CreateDirectory(Path.Combine(root, "coffer-audit-store-" + Guid.NewGuid().ToString("N"))).FullName;
    try
    {
        using var storage = await SqliteStorage.OpenAsync(Path.Combine(dir, "coffer.db"));
        var head = AuditHead.Empty;
        var macKey = RandomNumberGenerator.GetBytes(32);
        var records = new List<AuditRecord>(size);
        long made = 0;

        async Task RunAsync(TimeSpan span)
        {
            var clock = Stopwatch.StartNew();
            while (clock.Elapsed < span)
            {
                var now = DateTimeOffset.UtcNow;
                records.Clear();
                var previous = head.Hash;
                for (var i = 0; i < size; i++)
                {
                    var record = AuditRecord.Create(BenchEvents.Xks(head.Sequence + i), head.Sequence + i + 1, now, "node-1", previous);
                    records.Add(record);
                    previous = record.Hash;
                }

                var checkpoint = AuditCheckpointMac.Create(macKey, head.Sequence + size, previous, now);
                if (store)
                {
                    await storage.Audit.AppendAsync(records, checkpoint);
                }

                head = new AuditHead(head.Sequence + size, previous);
                made += size;
            }
        }

        await RunAsync(TimeSpan.FromSeconds(2)); // JIT tier-up and SQLite's page cache, not measured
        made = 0;
        var pages = PagesInUse(dir);
        var cpu = Environment.CpuUsage;
        var wall = Stopwatch.StartNew();
        await RunAsync(TimeSpan.FromSeconds(seconds));
        var used = Environment.CpuUsage;
        return (wall.Elapsed.TotalSeconds, (used.TotalTime - cpu.TotalTime).TotalSeconds, (used.PrivilegedTime - cpu.PrivilegedTime).TotalSeconds, made,
            PagesInUse(dir) - pages);
    }
    finally
    {
        Directory.Delete(dir, recursive: true);
    }
}

// What the database takes on disk: the pages in use (page_count counts those committed to the WAL too),
// so the growth over a run is what its records cost, every audit table and index included.
static long PagesInUse(string dir)
{
    using var connection = new Microsoft.Data.Sqlite.SqliteConnection($"Data Source={Path.Combine(dir, "coffer.db")};Pooling=False");
    connection.Open();
    using var command = connection.CreateCommand();
    command.CommandText = "SELECT (page_count - freelist_count) * page_size FROM pragma_page_count(), pragma_freelist_count(), pragma_page_size()";
    return (long)command.ExecuteScalar()!;
}

string Arg(string name, string fallback)
{
    var i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : fallback;
}
