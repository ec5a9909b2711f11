using System.Diagnostics;
using System.Globalization;
using Coffer.Cli.Client;
using Coffer.Server.Management;

namespace Coffer.Cli.Commands;

/// <summary>
/// <c>coffer audit verify</c>'s call: asks for the NDJSON stream of GET /audit/verify, shows each progress
/// line on stderr (records verified, rate, time left) and returns the result line, which the verb prints
/// on stdout as it always did.
/// </summary>
internal static class AuditVerifyProgress
{
    private const string MediaType = "application/x-ndjson";

    public static async Task<AuditVerifyView> RunAsync(ClientCall call, string path, CancellationToken ct)
    {
        var clock = Stopwatch.StartNew();
        await foreach (var text in call.Api.ReadLinesAsync(path, MediaType, ct))
        {
            var line = call.Api.ReadLine(text, ManagementJson.Default.AuditVerifyLine);
            if (line.Result is { } result)
            {
                return result;
            }

            if (line.Progress is { } progress)
            {
                await call.Error.WriteLineAsync(Describe(progress, clock.Elapsed));
            }
        }

        throw new CliException($"Coffer at {call.Api.Address} ended its answer before the verify's result: see the server's log.");
    }

    /// <summary>"verified 1,200,000 records (through 4,200,000 of 13,000,000), 850,000 records/s, about 10 s left".</summary>
    internal static string Describe(AuditVerifyProgressView progress, TimeSpan elapsed)
    {
        var rate = elapsed > TimeSpan.Zero ? progress.Records / elapsed.TotalSeconds : 0;
        var left = Math.Max(0, progress.HeadSequence - progress.LastSequence);
        var eta = left == 0 ? "finishing" : rate > 0 ? $"about {Duration(TimeSpan.FromSeconds(left / rate))} left" : "time left unknown";
        return string.Create(CultureInfo.InvariantCulture,
            $"verified {progress.Records:N0} records (through {progress.LastSequence:N0} of {progress.HeadSequence:N0}), {rate:N0} records/s, {eta}");
    }

    private static string Duration(TimeSpan span) =>
        span.TotalHours >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalHours} h {span.Minutes} min")
        : span.TotalMinutes >= 1 ? string.Create(CultureInfo.InvariantCulture, $"{(int)span.TotalMinutes} min {span.Seconds} s")
        : string.Create(CultureInfo.InvariantCulture, $"{Math.Ceiling(span.TotalSeconds):0} s");
}
