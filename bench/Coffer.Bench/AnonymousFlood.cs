using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Coffer.Bench;

/// <summary>
/// The anonymous flood (docs/security.md): clients without credentials send, back to back, the
/// requests Coffer must refuse before authentication: an unknown prefix, a bad signature, a
/// 7,900-character key id. They come from 127.0.0.2, another source address than the signed calls, as
/// an attacker's would. Measures the growth of the database (coffer.db and its WAL) meanwhile.
/// </summary>
public static class AnonymousFlood
{
    public const string QuietScenario = "encrypt 32 B open loop, no flood";

    public const string FloodScenario = "encrypt 32 B open loop, next to the anonymous flood";

    private static readonly IPAddress Source = IPAddress.Parse("127.0.0.2");

    /// <param name="Statuses">Answers by HTTP status (0: the connection failed).</param>
    /// <param name="DatabaseGrowth">Bytes coffer.db and coffer.db-wal grew by, from before the flood until
    /// after its last answer and the server's next audit interval.</param>
    public sealed record Result(long Requests, IReadOnlyDictionary<int, long> Statuses, long DatabaseGrowth, TimeSpan Duration)
    {
        public string Describe() => string.Create(CultureInfo.InvariantCulture,
            $"anonymous flood: {Requests:#,0} requests in {Duration.TotalSeconds:0} s ({Requests / Duration.TotalSeconds:#,0}/s; " +
            $"{string.Join(", ", Statuses.OrderBy(s => s.Key).Select(s => $"{s.Value:#,0} x {s.Key}"))}), database grew by {DatabaseGrowth / 1e6:0.000} MB");
    }

    /// <summary>The three kinds of refused request, pre-built (the bad signature signed with a wrong secret).</summary>
    public static PreparedRequest[] Requests(XksTarget target, string encryptPath, byte[] body)
    {
        var now = DateTime.UtcNow;
        return
        [
            XksRequests.Sign(target, "/flood-no-such-store/kms/xks/v1/keys/k/encrypt", body, now),
            XksRequests.Sign(target with { Secret = "not-the-secret-" + target.Secret }, encryptPath, body, now),
            XksRequests.Sign(target, target.PathOf($"keys/{new string('k', 7_900)}/encrypt"), body, now),
        ];
    }

    /// <summary>Floods for <paramref name="duration"/> over <paramref name="connections"/> connections,
    /// then waits <paramref name="settle"/> (the server's audit interval) before measuring the database.</summary>
    public static async Task<Result> RunAsync(string dataDir, PreparedRequest[] requests, int connections, TimeSpan duration, TimeSpan settle)
    {
        var before = DatabaseBytes(dataDir);
        using var stop = new CancellationTokenSource(duration);
        var workers = Enumerable.Range(0, connections).Select(w => Task.Run(async () =>
        {
            using var connection = new RawConnection(Source);
            var statuses = new Dictionary<int, long>();
            for (var i = w; !stop.IsCancellationRequested; i++)
            {
                int status;
                try
                {
                    status = await connection.SendAsync(requests[i % requests.Length], stop.Token);
                }
                catch (OperationCanceledException) when (stop.IsCancellationRequested)
                {
                    break;
                }
                catch (Exception e) when (e is SocketException or IOException or OperationCanceledException)
                {
                    status = 0;
                }

                statuses[status] = statuses.GetValueOrDefault(status) + 1;
            }

            return statuses;
        })).ToArray();
        var all = new Dictionary<int, long>();
        foreach (var counts in await Task.WhenAll(workers))
        {
            foreach (var (status, n) in counts) all[status] = all.GetValueOrDefault(status) + n;
        }

        await Task.Delay(settle);
        return new Result(all.Values.Sum(), all, DatabaseBytes(dataDir) - before, duration);
    }

    /// <summary>The goal lines of the report: the database grows by less than 1 MB during the flood alone,
    /// and the signed p99 stays within 2x of the same calls without the flood.</summary>
    public static IEnumerable<string> Goals(IReadOnlyList<Measured> results, Result? alone)
    {
        if (alone is not null)
        {
            yield return string.Create(CultureInfo.InvariantCulture,
                $"- anonymous flood for {alone.Duration.TotalSeconds:0} s: the database grows by less than 1 MB: {alone.DatabaseGrowth / 1e6:0.000} MB — {(alone.DatabaseGrowth < 1_000_000 ? "met" : "MISSED")}");
        }

        var quiet = results.FirstOrDefault(m => m.Result.Scenario == QuietScenario)?.Result;
        var loud = results.FirstOrDefault(m => m.Result.Scenario == FloodScenario)?.Result;
        if (quiet is not null && loud is not null)
        {
            var (p99Quiet, p99Loud) = (quiet.Latency.PercentileNs(0.99) / 1e6, loud.Latency.PercentileNs(0.99) / 1e6);
            yield return string.Create(CultureInfo.InvariantCulture,
                $"- anonymous flood: signed p99 at {loud.TargetRate:0}/s within 2x of the same calls without it: {p99Loud:0.00} ms against {p99Quiet:0.00} ms ({p99Loud / p99Quiet:0.00}x) — {(p99Loud <= 2 * p99Quiet && loud.Errors == 0 ? "met" : "MISSED")}");
        }
    }

    private static long DatabaseBytes(string dataDir) =>
        new[] { "coffer.db", "coffer.db-wal" }.Select(f => new FileInfo(Path.Combine(dataDir, f))).Where(f => f.Exists).Sum(f => f.Length);
}
