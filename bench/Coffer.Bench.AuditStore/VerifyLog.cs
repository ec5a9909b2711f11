using System.Diagnostics;
using System.Globalization;
using Coffer.Audit;
using Coffer.Crypto;
using Coffer.Server.Audit;
using Coffer.Storage;
using Coffer.Storage.Sqlite;
using Microsoft.Extensions.Logging.Abstractions;

/// <summary>
/// <c>coffer audit verify</c> on a large log (docs/audit-verify.md): the shipped SQLite store filled
/// through the storage layer with XKS records in commits of <c>--batch</c> (each with its checkpoint, as
/// the writer makes them under load), then the server's own verify (<see cref="AuditLog"/>): a full walk,
/// the same walk the way it was made before (each record decoded and its fields hashed again, pages of
/// 5000 through ReadChainAsync) for comparison, then <c>--append</c> more records and the incremental
/// verify that reads only those.
/// </summary>
internal static class VerifyLog
{
    public static async Task<int> RunAsync(string root, long count, long append, int batch)
    {
        if (count < 1000 || append < 1 || batch < 1)
        {
            Console.Error.WriteLine("--verify needs at least 1000 records, --append and --batch at least 1");
            return 2;
        }

        var dir = Directory.CreateDirectory(Path.Combine(root, "coffer-audit-verify-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var file = Path.Combine(dir, "coffer.db");
            using var master = MasterKey.Generate();
            var key = master.DeriveMacKey(MacPurpose.AuditCheckpoint);
            using var storage = await SqliteStorage.OpenAsync(file);
            var fill = Stopwatch.StartNew();
            var head = await FillAsync(storage.Audit, AuditHead.Empty, count, batch, key);
            var filled = fill.Elapsed;

            await using var log = await AuditLog.StartAsync(storage.Audit, "bench", TimeProvider.System, NullLogger<AuditLog>.Instance);
            log.SetCheckpointKey(master);
            var full = await MeasureAsync(() => log.VerifyAsync(new AuditVerifyRequest { Full = true }));
            var decoded = await MeasureAsync(() => DecodedWalkAsync(storage.Audit, key, head));
            await FillAsync(storage.Audit, head, append, batch, key);
            var incremental = await MeasureAsync(() => log.VerifyAsync(new AuditVerifyRequest()));

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# Coffer audit verify on a log of {count:N0} records — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, {Environment.ProcessorCount} CPU(s), load average at the end {LoadAverage()}"));
            Console.WriteLine();
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"Filled through the storage layer in {filled.TotalSeconds:0} s ({count / filled.TotalSeconds:N0} records/s), commits of {batch} records each with its checkpoint; file and WAL {Size(file) / 1e9:0.0} GB."));
            Console.WriteLine();
            Console.WriteLine("| walk | records checked | wall s | records/s | CPU s |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            Row("full verify (AuditLog, stored batches hashed as bytes)", full);
            Row("the same walk decoded record by record (the verify before)", decoded);
            Row(string.Create(CultureInfo.InvariantCulture, $"incremental verify after {append:N0} more records"), incremental);
            return full.Result.Ok && decoded.Result.Ok && incremental.Result.Ok && incremental.Result.Records == append ? 0 : 1;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static Task<AuditHead> FillAsync(IAuditRepository audit, AuditHead head, long count, int batch, byte[] key)
    {
        var oldest = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        return AuditFill.AppendAsync(audit, head, count, batch, at => oldest.AddMilliseconds(at), key);
    }

    // The verify this change replaced: every record decoded, its fields encoded and hashed again.
    private static async Task<AuditVerification> DecodedWalkAsync(IAuditRepository audit, byte[] key, AuditHead head)
    {
        using var verifier = new AuditChainVerifier(key, head);
        for (var from = 1L; ;)
        {
            var page = await audit.ReadChainAsync(from, 5000);
            if (!verifier.Add(page.Records, page.Checkpoints) || page.IsLast)
            {
                return verifier.Complete();
            }

            from = page.Records[^1].Sequence + 1;
        }
    }

    private static async Task<(AuditVerification Result, TimeSpan Wall, TimeSpan Cpu)> MeasureAsync(Func<Task<AuditVerification>> verify)
    {
        var cpu = Environment.CpuUsage.TotalTime;
        var wall = Stopwatch.StartNew();
        var result = await verify();
        return (result, wall.Elapsed, Environment.CpuUsage.TotalTime - cpu);
    }

    private static void Row(string name, (AuditVerification Result, TimeSpan Wall, TimeSpan Cpu) m) =>
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"| {name}{(m.Result.Ok ? "" : " — PROBLEM: " + m.Result.Problem!.Message)} | {m.Result.Records:N0} | {m.Wall.TotalSeconds:0.00} | {m.Result.Records / m.Wall.TotalSeconds:N0} | {m.Cpu.TotalSeconds:0.0} |"));

    private static long Size(string file) =>
        new FileInfo(file).Length + (File.Exists(file + "-wal") ? new FileInfo(file + "-wal").Length : 0);

    private static string LoadAverage() =>
        File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ').Take(3)) : "unknown";
}
