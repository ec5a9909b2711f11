using System.Diagnostics;
using System.Text;

namespace Coffer.Bench;

/// <summary>Optional cross-check of the ceiling with wrk (Debian package), same body, same connection
/// count, same CPU affinity as the C# client (it inherits ours). Only the ceiling: wrk cannot sign.</summary>
public static class WrkCheck
{
    /// <summary>Runs wrk and returns (summary line, requests per second or null).</summary>
    public static async Task<(string Line, double? Rps)> RunAsync(PreparedRequest sample, int connections, TimeSpan duration, string work)
    {
        if (!File.Exists("/usr/bin/wrk")) return ("wrk cross-check skipped: /usr/bin/wrk not installed (apt-get install -y wrk)", null);
        var script = Path.Combine(work, "post.lua");
        var lua = new StringBuilder()
            .AppendLine("wrk.method = \"POST\"")
            .AppendLine("wrk.headers[\"Content-Type\"] = \"application/json\"")
            .AppendJoin("", sample.Headers.Select(h => $"wrk.headers[\"{h.Key}\"] = \"{h.Value}\"\n"))
            .Append("wrk.body = [==[").Append(Encoding.UTF8.GetString(sample.Body)).AppendLine("]==]");
        await File.WriteAllTextAsync(script, lua.ToString());

        var psi = new ProcessStartInfo("/usr/bin/wrk") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in new[] { "-t", Environment.ProcessorCount.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-c", connections.ToString(System.Globalization.CultureInfo.InvariantCulture),
                     "-d", $"{(int)duration.TotalSeconds}s", "--latency", "-s", script, sample.Uri.ToString() })
            psi.ArgumentList.Add(a);
        using var p = Process.Start(psi)!;
        var output = await p.StandardOutput.ReadToEndAsync();
        if (!p.WaitForExit((int)duration.TotalMilliseconds + 15_000)) { p.Kill(); return ("wrk did not finish", null); }
        string Pick(string prefix) => output.Split('\n').Select(l => l.Trim())
            .FirstOrDefault(l => l.StartsWith(prefix, StringComparison.Ordinal))?[prefix.Length..].Trim() ?? "?";
        var rps = double.TryParse(Pick("Requests/sec:"), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : (double?)null;
        return ($"wrk cross-check of the ceiling, same signed request ({psi.ArgumentList[1]} thread(s), {connections} connections, {(int)duration.TotalSeconds} s, right after the C# client): " +
               $"{Pick("Requests/sec:")} req/s, p50 {Pick("50%")}, p90 {Pick("90%")}, p99 {Pick("99%")}", rps);
    }
}
