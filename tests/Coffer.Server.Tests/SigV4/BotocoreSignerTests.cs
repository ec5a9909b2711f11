using System.Diagnostics;
using System.Text.Json;
using Coffer.Server.Xks.SigV4;

namespace Coffer.Server.Tests.SigV4;

/// <summary>
/// Signs with botocore's SigV4Auth in the system Python. NEEDS the Debian package python3-botocore
/// (<c>apt-get install -y python3-botocore</c>); without it these tests fail saying so.
/// </summary>
internal static class Botocore
{
    public const string Python = "/usr/bin/python3";

    // botocore.auth reads the clock through datetime.datetime.utcnow(); the shim pins it per job.
    // `only` restricts the signed headers, as AWS KMS signs just host;x-amz-date (XKS spec).
    private const string Script = """
        import base64, datetime, json, sys
        import botocore.auth as auth
        from botocore.awsrequest import AWSRequest
        from botocore.credentials import Credentials

        class Frozen(datetime.datetime):
            fixed = None
            @classmethod
            def utcnow(cls):
                return cls.fixed

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
            Frozen.fixed = datetime.datetime.strptime(job["time"], "%Y%m%dT%H%M%SZ")
            request = AWSRequest(method="POST", url=job["url"], data=base64.b64decode(job["body"]),
                                 headers={"Content-Type": "application/json"})
            signer = Restricted(Credentials(job["akid"], job["secret"]), job["service"], job["region"])
            signer.only = job["only"]
            signer.add_auth(request)
            out.append(dict(request.headers.items()))
        json.dump(out, sys.stdout)
        """;

    public static IReadOnlyDictionary<string, SignedRequest> SignAll(IReadOnlyDictionary<string, SigningJob> jobs,
        string[]? onlyHeaders)
    {
        var names = jobs.Keys.ToArray();
        var input = JsonSerializer.Serialize(names.Select(name => new Dictionary<string, object?>
        {
            ["url"] = jobs[name].Url.AbsoluteUri, // ToString() would unescape %20 into a space
            ["body"] = Convert.ToBase64String(SigV4TestRequests.Body),
            ["akid"] = jobs[name].AccessKeyId,
            ["secret"] = jobs[name].Secret,
            ["service"] = jobs[name].Service,
            ["region"] = SigV4TestRequests.Region,
            ["time"] = jobs[name].SignedAt.UtcDateTime.ToString("yyyyMMdd'T'HHmmss'Z'",
                System.Globalization.CultureInfo.InvariantCulture),
            ["only"] = onlyHeaders,
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
                $"botocore signing failed (these tests need the Debian package python3-botocore: " +
                $"apt-get install -y python3-botocore): {stderr.Result}");
        }

        var signed = JsonSerializer.Deserialize<Dictionary<string, string>[]>(stdout)!;
        var result = new Dictionary<string, SignedRequest>();
        for (var i = 0; i < names.Length; i++)
        {
            result[names[i]] = new SignedRequest(jobs[names[i]].Url, SigV4TestRequests.Body,
                new Dictionary<string, string>(signed[i], StringComparer.OrdinalIgnoreCase));
        }

        return result;
    }
}

/// <summary>botocore signing every header it has: content-type;host;x-amz-date.</summary>
public sealed class BotocoreSignerTests : SignerConformanceTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, SignedRequest>> All =
        new(() => Botocore.SignAll(Jobs, onlyHeaders: null));

    protected override IReadOnlyDictionary<string, SignedRequest> Signed => All.Value;

    protected override string ExpectedSignedHeaders => "content-type;host;x-amz-date";

    [Fact]
    public void Percent_encoded_path_is_canonicalised_twice_like_botocore() =>
        Assert.Equal(SigV4Failure.None, Verify(Signed[EncodedPath]));
}

/// <summary>botocore restricted to host;x-amz-date: what AWS KMS itself sends (XKS spec, "Authentication").</summary>
public sealed class BotocoreKmsStyleSignerTests : SignerConformanceTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, SignedRequest>> All =
        new(() => Botocore.SignAll(Jobs, onlyHeaders: ["host", "x-amz-date"]));

    protected override IReadOnlyDictionary<string, SignedRequest> Signed => All.Value;

    protected override string ExpectedSignedHeaders => "host;x-amz-date";
}
