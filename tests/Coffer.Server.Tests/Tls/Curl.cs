using Coffer.Testing;

namespace Coffer.Server.Tests.Tls;

/// <summary>
/// Runs /usr/bin/curl (7.88, Debian 12): an independent TLS stack (OpenSSL) and an independent
/// SigV4 signer (<c>--aws-sigv4</c>, which signs <c>content-type;host;x-amz-date</c>;
/// docs testing-notes). Exit codes per curl(1): 35 = TLS handshake failed, 56 = failure receiving
/// data (a TLS 1.3 server rejects the client certificate after the client's handshake finished).
/// </summary>
internal static class Curl
{
    public const string Path = "/usr/bin/curl";
    public const string Region = "eu-west-1";

    public sealed record Result(int ExitCode, int HttpStatus, string Body, string Error);

    /// <summary>A SigV4-signed XKS call (POST, JSON body) as AWS KMS would make it.</summary>
    public static Task<Result> XksAsync(string url, string accessKeyId, string secret, string body, IEnumerable<string>? tlsArguments = null) =>
        RunAsync([
            "--aws-sigv4", $"aws:amz:{Region}:kms-xks-proxy",
            "--user", $"{accessKeyId}:{secret}",
            "-H", "Content-Type: application/json",
            "--data-binary", body,
            .. tlsArguments ?? [],
            url,
        ]);

    /// <summary>Runs curl silently with the status code on the last line of stdout.</summary>
    public static async Task<Result> RunAsync(IEnumerable<string> arguments)
    {
        var run = await ExternalTool.RunAsync(Path, ["-sS", "--max-time", "20", "-w", "\n%{http_code}", .. arguments]);
        var output = run.StandardOutput;
        var split = output.LastIndexOf('\n');
        var status = split >= 0 && int.TryParse(output[(split + 1)..], out var code) ? code : 0;
        return new Result(run.ExitCode, status, split >= 0 ? output[..split] : output, run.StandardError);
    }

    /// <summary>An XKS GetKeyMetadata body (XKS spec, requestMetadata).</summary>
    public static string MetadataBody() =>
        "{\"requestMetadata\":{\"awsPrincipalArn\":\"arn:aws:iam::111122223333:role/coffer-test\"," +
        "\"kmsOperation\":\"DescribeKey\",\"kmsRequestId\":\"" + Guid.NewGuid() + "\"}}";
}
