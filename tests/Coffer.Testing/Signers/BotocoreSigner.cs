using System.Diagnostics;
using System.Text.Json;

namespace Coffer.Testing.Signers;

/// <summary>
/// Signs with botocore's <c>SigV4Auth</c> in the system Python, restricted by default to
/// <c>host;x-amz-date</c> — exactly what AWS KMS itself signs (XKS spec, "Authentication") — and
/// sends through <see cref="XksClient.SendSignedAsync"/>. NEEDS <c>/usr/bin/python3</c> with the Debian
/// package python3-botocore (<c>apt-get install -y python3-botocore</c>).
/// </summary>
public static class BotocoreSigner
{
    public const string Python = "/usr/bin/python3";

    public static readonly string[] KmsSignedHeaders = ["host", "x-amz-date"];

    // botocore.auth reads the clock through datetime.datetime.utcnow(); the shim pins it for jobs
    // that give a time. `only` restricts the signed headers, as AWS KMS signs just host;x-amz-date.
    private const string Script = """
        import base64, datetime, json, sys
        import botocore.auth as auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        class Frozen(datetime.datetime):
            fixed = None
            @classmethod
            def utcnow(cls):
                return cls.fixed or datetime.datetime.utcnow()

        class Shim:
            datetime = Frozen

        auth.datetime = Shim

        class Restricted(auth.SigV4Auth):
            only = None
            def headers_to_sign(self, request):
                headers = super().headers_to_sign(request)
                if self.only is not None:
                    for name in list(headers.keys()):
                        if name not in self.only:
                            del headers[name]
                return headers

        out = []
        for job in json.load(sys.stdin):
            Frozen.fixed = datetime.datetime.strptime(job["time"], "%Y%m%dT%H%M%SZ") if job["time"] else None
            request = AWSRequest(method="POST", url=job["url"], data=base64.b64decode(job["body"]),
                                 headers={"Content-Type": "application/json"})
            signer = Restricted(Credentials(job["akid"], job["secret"]), job["service"], job["region"])
            signer.only = job["only"]
            signer.add_auth(request)
            out.append(dict(request.headers.items()))
        json.dump(out, sys.stdout)
        """;

    /// <summary>Signs a POST of <paramref name="body"/> to <paramref name="url"/> and sends it.</summary>
    /// <param name="signAllHeaders">Sign every header botocore has (content-type;host;x-amz-date)
    /// instead of only host;x-amz-date.</param>
    public static async Task<XksResponse> PostAsync(Uri url, string accessKeyId, string secretAccessKey, byte[] body,
        string region = XksClient.DefaultRegion, bool signAllHeaders = false)
    {
        var headers = Sign(url, accessKeyId, secretAccessKey, body, region, signAllHeaders ? null : KmsSignedHeaders);
        return await XksClient.SendSignedAsync(new XksWireRequest { Method = HttpMethod.Post, Url = url, Body = body, Headers = headers });
    }

    public static Dictionary<string, string?> Sign(Uri url, string accessKeyId, string secretAccessKey, byte[] body,
        string region, string[]? onlyHeaders) =>
        SignMany([new BotocoreJob(url, body, accessKeyId, secretAccessKey, region, onlyHeaders)])[0];

    /// <summary>Signs every job in one Python process (starting Python costs far more than signing).</summary>
    public static IReadOnlyList<Dictionary<string, string?>> SignMany(IReadOnlyList<BotocoreJob> jobs)
    {
        var input = JsonSerializer.Serialize(jobs.Select(job => new Dictionary<string, object?>
        {
            ["url"] = job.Url.AbsoluteUri, // ToString() would unescape %20 into a space
            ["body"] = Convert.ToBase64String(job.Body),
            ["akid"] = job.AccessKeyId,
            ["secret"] = job.SecretAccessKey,
            ["service"] = job.Service,
            ["region"] = job.Region,
            ["time"] = job.SignedAt?.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'", System.Globalization.CultureInfo.InvariantCulture),
            ["only"] = job.OnlyHeaders,
        }));
        var start = new ProcessStartInfo(Python)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        start.ArgumentList.Add("-c");
        start.ArgumentList.Add(Script);
        using var process = Process.Start(start)
            ?? throw new InvalidOperationException($"Could not start {Python}; these tests need python3-botocore.");
        process.StandardInput.Write(input);
        process.StandardInput.Close();
        var stderr = process.StandardError.ReadToEndAsync();
        var stdout = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException(
                "botocore signing failed (these tests need the Debian package python3-botocore: " +
                $"apt-get install -y python3-botocore): {stderr.Result}");
        }

        return JsonSerializer.Deserialize<Dictionary<string, string>[]>(stdout)!
            .Select(signed => new Dictionary<string, string?>(signed.Select(p => KeyValuePair.Create(p.Key, (string?)p.Value)), StringComparer.OrdinalIgnoreCase))
            .ToList();
    }
}

/// <summary>One request for botocore to sign; <paramref name="SignedAt"/> null means now.</summary>
public sealed record BotocoreJob(
    Uri Url,
    byte[] Body,
    string AccessKeyId,
    string SecretAccessKey,
    string Region,
    string[]? OnlyHeaders,
    string Service = XksClient.XksService,
    DateTimeOffset? SignedAt = null);
