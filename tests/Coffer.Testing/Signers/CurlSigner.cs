using System.Diagnostics;
using System.Globalization;

namespace Coffer.Testing.Signers;

/// <summary>
/// Calls an XKS endpoint with curl's own SigV4 signer: <c>curl --aws-sigv4 "aws:amz:REGION:kms-xks-proxy"
/// --user AKID:SECRET</c>, as the README's printed example does. curl 7.88 (Debian 12) signs
/// <c>content-type;host;x-amz-date</c> and sends no <c>x-amz-content-sha256</c> (testing-notes).
/// NEEDS <c>/usr/bin/curl</c> (Debian package curl).
/// </summary>
public static class CurlSigner
{
    public const string Curl = "/usr/bin/curl";

    public static async Task<XksResponse> PostAsync(Uri url, string accessKeyId, string secretAccessKey, string body,
        string region = XksClient.DefaultRegion, string service = XksClient.XksService)
    {
        if (!File.Exists(Curl))
        {
            throw new InvalidOperationException($"{Curl} is missing; these tests need the Debian package curl.");
        }

        var directory = Directory.CreateTempSubdirectory("coffer-curl-");
        try
        {
            var bodyFile = Path.Combine(directory.FullName, "body");
            var headerFile = Path.Combine(directory.FullName, "headers");
            var start = new ProcessStartInfo(Curl)
            {
                RedirectStandardInput = true,
                RedirectStandardOutput = true,
                RedirectStandardError = true,
            };
            foreach (var argument in new[]
                     {
                         "--silent", "--show-error", "--noproxy", "*", "--max-time", "30",
                         "--aws-sigv4", $"aws:amz:{region}:{service}",
                         "--user", $"{accessKeyId}:{secretAccessKey}",
                         "-H", "Content-Type: application/json",
                         "--data-binary", "@-",
                         "--dump-header", headerFile,
                         "--output", bodyFile,
                         "--write-out", "%{http_code}",
                         url.AbsoluteUri,
                     })
            {
                start.ArgumentList.Add(argument);
            }

            using var process = Process.Start(start) ?? throw new InvalidOperationException($"Could not start {Curl}.");
            await process.StandardInput.WriteAsync(body);
            process.StandardInput.Close();
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = await process.StandardOutput.ReadToEndAsync();
            await process.WaitForExitAsync();
            if (process.ExitCode != 0)
            {
                throw new InvalidOperationException($"curl failed ({process.ExitCode}): {await stderr}");
            }

            var headers = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (var line in await File.ReadAllLinesAsync(headerFile))
            {
                var colon = line.IndexOf(':', StringComparison.Ordinal);
                if (colon > 0)
                {
                    headers[line[..colon].Trim()] = line[(colon + 1)..].Trim();
                }
            }

            return new XksResponse(int.Parse(stdout.Trim(), CultureInfo.InvariantCulture), await File.ReadAllBytesAsync(bodyFile), headers);
        }
        finally
        {
            directory.Delete(recursive: true);
        }
    }
}
