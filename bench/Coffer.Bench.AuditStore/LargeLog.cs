using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;
using Coffer.Audit;
using Coffer.Storage;
using Coffer.Storage.Sqlite;

/// <summary>
/// What an auditor waits for on a large log: the shipped store filled with XKS records in commits of 30
/// (as the writer makes them under load), then the reads of <c>coffer audit verify</c> (the whole chain,
/// in pages of 1000) and of <c>coffer audit list</c> with each kind of filter — one that has an index
/// (key, time) and ones that must look through the log (a kmsRequestId, a rare region). Each read runs
/// three times; the median is printed.
/// </summary>
internal static class LargeLog
{
    private const int Batch = 30;

    public static async Task<int> RunAsync(string root, long count)
    {
        if (count < 1000)
        {
            Console.Error.WriteLine("--log needs at least 1000 records");
            return 2;
        }

        var dir = Directory.CreateDirectory(Path.Combine(root, "coffer-audit-log-" + Guid.NewGuid().ToString("N"))).FullName;
        try
        {
            var file = Path.Combine(dir, "coffer.db");
            var oldest = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
            string? earlyRequest = null;
            var fill = Stopwatch.StartNew();
            using (var storage = await SqliteStorage.OpenAsync(file))
            {
                // A thousand records a second.
                await AuditFill.AppendAsync(storage.Audit, AuditHead.Empty, count, Batch, at => oldest.AddMilliseconds(at), null,
                    records => earlyRequest ??= records[^1].Event.KmsRequestId);
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"# Coffer audit log of {count:N0} records — {DateTime.UtcNow:yyyy-MM-dd HH:mm} UTC, filled in {fill.Elapsed.TotalSeconds:0.0} s, file and WAL {Size(file) / 1e6:0} MB"));
            Console.WriteLine();
            Console.WriteLine("| read | records returned | median ms (3 runs) |");
            Console.WriteLine("|---|---:|---:|");
            using var reader = await SqliteStorage.OpenAsync(file);
            var audit = reader.Audit;
            await Row("verify's read: the whole chain, pages of 1000", async () =>
            {
                long seen = 0;
                var from = 1L;
                while (true)
                {
                    var page = await audit.ReadChainAsync(from, 1000);
                    seen += page.Records.Count;
                    if (page.IsLast)
                    {
                        return seen;
                    }

                    from = page.Records[^1].Sequence + 1;
                }
            });
            await Row("list, newest 100", () => Count(audit, new AuditQuery()));
            await Row("list by key, newest 100", () => Count(audit, new AuditQuery { KeyId = "key-1" }));
            var middle = oldest.AddMilliseconds(count / 2);
            await Row("list by time, a second in the middle, newest 100", () => Count(audit, new AuditQuery { From = middle, To = middle.AddSeconds(1) }));
            await Row("list by time, from the first record on, newest 100", () => Count(audit, new AuditQuery { From = oldest }));
            await Row("list by a rare region (us-east-1, 1 in 50), newest 100", () => Count(audit, new AuditQuery { AwsRegion = "us-east-1" }));
            await Row("list by kmsRequestId of an early record (looks through the log)", () => Count(audit, new AuditQuery { KmsRequestId = earlyRequest }));
            await Row("list by a kmsRequestId that is not there", () => Count(audit, new AuditQuery { KmsRequestId = Guid.NewGuid().ToString() }));
            return 0;
        }
        finally
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            Directory.Delete(dir, recursive: true);
        }
    }

    private static long Size(string file) =>
        new FileInfo(file).Length + (File.Exists(file + "-wal") ? new FileInfo(file + "-wal").Length : 0);

    private static async Task<long> Count(IAuditRepository audit, AuditQuery query) => (await audit.QueryAsync(query)).Records.Count;

    private static async Task Row(string name, Func<Task<long>> read)
    {
        var times = new List<double>();
        long returned = 0;
        for (var i = 0; i < 3; i++)
        {
            var clock = Stopwatch.StartNew();
            returned = await read();
            times.Add(clock.Elapsed.TotalMilliseconds);
        }

        times.Sort();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"| {name} | {returned:N0} | {times[1]:0.0} |"));
    }
}
