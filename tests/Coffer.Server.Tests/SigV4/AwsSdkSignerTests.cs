using System.Security.Cryptography;
using Amazon.KeyManagementService;
using Amazon.KeyManagementService.Model;
using Amazon.Runtime.Internal;
using Amazon.Runtime.Internal.Auth;
using Coffer.Server.Xks.SigV4;

namespace Coffer.Server.Tests.SigV4;

/// <summary>
/// The verifier against AWSSDK.Core 4.1.0's AWS4Signer (testing-notes: DefaultRequest +
/// AWS4Signer.SignRequest with a fixed time). It signs content-type;host;x-amz-content-sha256;x-amz-date.
/// </summary>
public sealed class AwsSdkSignerTests : SignerConformanceTests
{
    private static readonly Lazy<IReadOnlyDictionary<string, SignedRequest>> All = new(() =>
        Jobs.ToDictionary(job => job.Key, job => Sign(job.Value)));

    protected override IReadOnlyDictionary<string, SignedRequest> Signed => All.Value;

    protected override string ExpectedSignedHeaders => "content-type;host;x-amz-content-sha256;x-amz-date";

    [Fact]
    public void Content_hash_header_that_lies_about_the_body_is_rejected()
    {
        var lie = Convert.ToHexStringLower(SHA256.HashData("{}"u8));
        Assert.Equal(SigV4Failure.SignatureMismatch, Verify(Signed[Valid].WithHeader("X-Amz-Content-SHA256", lie)));
    }

    [Fact]
    public void Signed_content_hash_header_missing_from_the_request_is_rejected() =>
        Assert.Equal(SigV4Failure.SignedHeaderMissing,
            Verify(Signed[Valid].WithHeader("X-Amz-Content-SHA256", null)));

    [Fact]
    public void Content_hash_header_is_signed_with_the_body_hash() =>
        Assert.Equal(Convert.ToHexStringLower(SHA256.HashData(SigV4TestRequests.Body)),
            Signed[Valid].Headers["X-Amz-Content-SHA256"]);

    private static SignedRequest Sign(SigningJob job)
    {
        var endpoint = job.Url.GetLeftPart(UriPartial.Authority);
        var request = new DefaultRequest(new EncryptRequest(), "KMS")
        {
            HttpMethod = "POST",
            Endpoint = new Uri(endpoint),
            ResourcePath = Uri.UnescapeDataString(job.Url.AbsolutePath),
            Content = SigV4TestRequests.Body,
            AuthenticationRegion = SigV4TestRequests.Region,
            OverrideSigningServiceName = job.Service,
        };
        request.Headers["Content-Type"] = "application/json";
        var config = new AmazonKeyManagementServiceConfig
        {
            ServiceURL = endpoint,
            AuthenticationRegion = SigV4TestRequests.Region,
            AuthenticationServiceName = job.Service,
        };
        var result = new AWS4Signer().SignRequest(request, config, null, job.AccessKeyId, job.Secret,
            job.SignedAt.UtcDateTime);
        var headers = new Dictionary<string, string>(request.Headers, StringComparer.OrdinalIgnoreCase)
        {
            ["Authorization"] = result.ForAuthorizationHeader,
        };
        return new SignedRequest(job.Url, SigV4TestRequests.Body, headers);
    }
}
